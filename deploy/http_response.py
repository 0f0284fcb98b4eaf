"""gunicorn's HTTP/1 response, doing once what gunicorn redoes for every
response. The project's workers (deploy/gthread_worker.py,
deploy/sync_worker.py) call `install` in each worker process.

For every response gunicorn checks each header against HTTP's grammar
(two regular expressions), strips its value, lower-cases its name, looks it
up among the hop-by-hop headers, formats it, and formats the Date header
with the email module. A cached hit sends 16 headers, 13 of them the same on
every hit of a page; a py-spy profile of the hot page put these at about a
sixth of a worker's CPU (issue #17, docs/benchmarks.md).

This Response remembers each (name, value) pair that gunicorn's own checks
accepted unchanged, with its bytes on the wire, and formats Date once a
second. A new value under a name already accepted (the request id,
Server-Timing) only has its value checked, with gunicorn's expression.
What it sends is byte for byte what gunicorn sends, and what gunicorn
refuses it refuses the same way (tests/deploy/test_http_response.py
compares both over generated headers): a pair not seen before goes through
gunicorn's code, and only then is remembered.

What is remembered is bounded in bytes: a header a client can vary (a
redirect's Location carries its path) cannot grow a worker's memory.
"""
import time

from gunicorn import util
from gunicorn.http import wsgi

# What is remembered per process: a 10,000-page site sends about three
# short pairs per page (ETag, Content-Length, Last-Modified) plus a dozen
# shared ones (2 KiB). Past either limit the memory starts afresh (a few
# checks more, once): never more than about 1 MiB of lines, and as much
# again in the pairs themselves.
KNOWN_PAIRS_LIMIT = 8192
KNOWN_BYTES_LIMIT = 1 << 20
# Headers whose value is new on every response: remembering them would
# only churn the memory above.
NEW_EACH_TIME = frozenset({"X-Request-ID", "Server-Timing", "Set-Cookie", "Date", "Expires"})

# (name, value) -> (its line on the wire, its length if it is Content-Length)
_known_pairs = {}
# Names gunicorn accepted that it keeps as they are, whatever the value:
# neither hop-by-hop nor Content-Length.
_plain_names = set()
_known_bytes = 0  # the lines' bytes in _known_pairs (approximate: threads may race on it)
_date = (0, "")  # (the second, Date's value for it)


def http_date():
    """Date's value for the current second, formatted once per second."""
    global _date
    now = int(time.time())
    second, text = _date
    if second != now:
        text = util.http_date(now)
        _date = (now, text)
    return text


class Response(wsgi.Response):
    def process_headers(self, headers):
        known = _known_pairs
        for pair in headers:
            try:
                found = known.get(pair)
            except TypeError:  # unhashable: gunicorn's checks say what is wrong
                found = None
            if found is None:
                if type(pair) is tuple and len(pair) == 2 and pair[0] in _plain_names and _kept_as_is(pair[1]):
                    self.headers.append(pair)
                else:
                    self._check_and_remember(pair)
                continue
            if found[1] is not None:
                self.response_length = found[1]
            self.headers.append(pair)

    def _check_and_remember(self, pair):
        """gunicorn's checks for one pair; remembered if kept as it is."""
        count = len(self.headers)
        super().process_headers([pair])
        kept_as_is = len(self.headers) == count + 1 and self.headers[-1] == pair
        if not kept_as_is or type(pair) is not tuple:
            return  # stripped or hop-by-hop
        is_length = pair[0].lower() == "content-length"
        # `Upgrade: websocket` is kept, but gunicorn drops Upgrade's other values.
        if not is_length and not util.is_hoppish(pair[0]) and len(_plain_names) < KNOWN_PAIRS_LIMIT:
            _plain_names.add(pair[0])
        if pair[0] in NEW_EACH_TIME:
            return
        line = ("%s: %s\r\n" % pair).encode("latin-1")
        _remember(pair, line, self.response_length if is_length else None)

    def default_headers(self):
        """gunicorn's status line and own headers, Date from `http_date`."""
        if self.upgrade:
            connection = "upgrade"
        elif self.should_close():
            connection = "close"
        else:
            connection = "keep-alive"
        headers = [
            "HTTP/%s.%s %s\r\n" % (self.req.version[0], self.req.version[1], self.status),
            "Server: %s\r\n" % self.version,
            "Date: %s\r\n" % http_date(),
            "Connection: %s\r\n" % connection,
        ]
        if self.chunked:
            headers.append("Transfer-Encoding: chunked\r\n")
        return headers

    def send_headers(self):
        if self.headers_sent:
            return
        known = _known_pairs
        lines = ["".join(self.default_headers()).encode("latin-1")]
        for pair in self.headers:
            found = known.get(pair)
            lines.append(found[0] if found is not None else ("%s: %s\r\n" % pair).encode("latin-1"))
        lines.append(b"\r\n")
        util.write(self.sock, b"".join(lines))
        self.headers_sent = True


def _remember(pair, line, length):
    global _known_bytes
    if len(_known_pairs) >= KNOWN_PAIRS_LIMIT or _known_bytes + len(line) > KNOWN_BYTES_LIMIT:
        _known_pairs.clear()
        _known_bytes = 0
    _known_pairs[pair] = (line, length)
    _known_bytes += len(line)


def _kept_as_is(value):
    """Whether gunicorn would keep this value of an accepted name unchanged:
    a string its value expression matches, with nothing to strip."""
    return (type(value) is str and wsgi.HEADER_VALUE_RE.fullmatch(value) is not None
            and value[:1] not in " \t" and value[-1:] not in " \t") or value == ""


def install(cfg):
    """In a worker process, after the fork: answer with this Response, and
    settle the worker's settings (see `settle_config`). gunicorn builds
    each HTTP/1 response with `wsgi.create`, which takes its class from
    this module attribute (its HTTP/2 path passes its own)."""
    settle_config(cfg)
    wsgi.Response = Response


def settle_config(cfg):
    """Copy every setting's value onto the worker's gunicorn Config, so that
    reading one (`cfg.keepalive`, a dozen times per request) is an attribute
    lookup instead of Config.__getattr__ and Setting.get (4 % of a hit's CPU).
    A worker's settings never change: a reload starts new workers. What
    Config computes from a setting (its properties: worker_class, sendfile)
    is left to it."""
    computed = vars(type(cfg))
    vars(cfg).update({name: setting.get() for name, setting in cfg.settings.items() if name not in computed})
