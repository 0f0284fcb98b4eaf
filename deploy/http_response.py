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

A prepared response (`send_prepared`) goes further, for an application
that answers the same headers many times over (cache/wsgi.py's hits): it
hands over its status, a header list it keeps unchanged between responses,
the few headers of this one response and the body, and the Response writes
them with one `sendmsg` (`write_whole`), the list's lines joined once per
list and the body not copied. No `start_response`, no header looked up one
by one, no second write for the body. The list goes through the same
checks the first time it is seen; one that gunicorn would change (a
hop-by-hop header, a value to strip) is refused, and the application
answers the usual way.
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
# id(header list) -> (the list, its lines joined, its Content-Length), for
# send_prepared. The list itself is held, so its id cannot be reused by
# another list while it is remembered; at most PREPARED_LISTS_LIMIT of them
# (one per cached page a worker served: 2,048 of the site's lists, every
# string distinct, hold 5.7 MB, tracemalloc), then it starts afresh.
_prepared_blocks = {}
PREPARED_LISTS_LIMIT = 2048
_status_codes = {}  # status lines gunicorn's expression accepted (the site's few) -> their code
VALID_STATUSES_LIMIT = 64
# Whose body a prepared response leaves out, and which keep a Content-Length.
BODILESS_STATUSES = frozenset({204, 304})
HEADER_LINE = "%s: %s\r\n"  # of a (name, value) pair, as gunicorn writes it


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
        line = (HEADER_LINE % pair).encode("latin-1")
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

    def send_prepared(self, status, headers, extra, body):
        """Write a whole response: `status` ("200 OK"), `headers` (a list the
        caller keeps unchanged, Content-Length included), `extra` (this
        response's own headers) and `body`, in one write. Returns what the
        worker is then to write (nothing), or None when `headers` is not one
        gunicorn would send unchanged: the caller then answers through
        `start_response`, which says why."""
        block = _prepared_blocks.get(id(headers))
        if block is None or block[0] is not headers:
            block = _prepare(headers)
            if block is None:
                return None
        code = _status_codes.get(status)
        if code is None:
            if not (type(status) is str and wsgi.STATUS_RE.fullmatch(status)):
                return None  # start_response says what is wrong with it
            code = int(status[:3])
            if len(_status_codes) < VALID_STATUSES_LIMIT:
                _status_codes[status] = code
        if code < 200 or code in BODILESS_STATUSES or block[2] is None:
            return None  # what start_response handles specially: not for here
        self.process_headers(extra)  # into the empty self.headers: refusals raise as start_response's would
        if len(self.headers) != len(extra) or self.response_length is not None or self.upgrade:
            self.headers, self.response_length, self.upgrade = [], None, False
            return None  # an extra header gunicorn treats specially: the usual way
        own_lines = ""
        for pair in self.headers:  # `extra` as process_headers kept it. A loop: in
            own_lines += HEADER_LINE % pair  # Python 3.11 a comprehension makes a function object per call
        self.headers = [*headers, *self.headers]
        self.status, self.status_code, self.response_length = status, code, block[2]
        self._omits_body = self.req.method == "HEAD"
        head = b"".join(["".join(self.default_headers()).encode("latin-1"), block[1],
                         own_lines.encode("latin-1"), b"\r\n"])
        if self._omits_body:
            util.write(self.sock, head)
        else:
            body = body[:self.response_length]
            write_whole(self.sock, head, body)
            self.sent = len(body)
        self.headers_sent = True
        return ()

    def send_headers(self):
        if self.headers_sent:
            return
        known = _known_pairs
        lines = ["".join(self.default_headers()).encode("latin-1")]
        for pair in self.headers:
            found = known.get(pair)
            lines.append(found[0] if found is not None else (HEADER_LINE % pair).encode("latin-1"))
        lines.append(b"\r\n")
        util.write(self.sock, b"".join(lines))
        self.headers_sent = True


def write_whole(sock, head, body):
    """`head` then `body`, in one system call without joining them first.
    Joining copied the body (10-20 KB for a page) into a new buffer: as many
    cache lines read and written again, some 40 % of what a hit touched
    beyond the ceiling's with cold caches (docs/performance.md, "What a hit
    touches"). What the kernel did not take goes on with sendall; a socket
    without sendmsg (TLS) gets them joined."""
    try:
        sent = sock.sendmsg((head, body))
    except NotImplementedError:  # ssl.SSLSocket
        util.write(sock, head + body)
        return
    if sent < len(head):
        util.write(sock, head[sent:])
        sent = len(head)
    if sent < len(head) + len(body):
        util.write(sock, memoryview(body)[sent - len(head):])


def _remember(pair, line, length):
    global _known_bytes
    if len(_known_pairs) >= KNOWN_PAIRS_LIMIT or _known_bytes + len(line) > KNOWN_BYTES_LIMIT:
        _known_pairs.clear()
        _known_bytes = 0
    _known_pairs[pair] = (line, length)
    _known_bytes += len(line)


def _prepare(headers):
    """(headers, their lines, Content-Length) if gunicorn's checks keep
    every pair of `headers` as it is, remembered; else None."""
    scratch = Response.__new__(Response)
    scratch.headers, scratch.response_length, scratch.upgrade = [], None, False
    try:
        scratch.process_headers(headers)
    except Exception:
        return None  # refused: start_response will say why
    if scratch.headers != headers or scratch.upgrade:
        return None
    lines = b"".join((HEADER_LINE % pair).encode("latin-1") for pair in headers)
    if len(_prepared_blocks) >= PREPARED_LISTS_LIMIT:
        _prepared_blocks.clear()
    block = _prepared_blocks[id(headers)] = (headers, lines, scratch.response_length)
    return block


def _kept_as_is(value):
    """Whether gunicorn would keep this value of an accepted name unchanged:
    a string its value expression matches, with nothing to strip. Printable
    ASCII, which the expression takes, is told by two string methods in
    half the time of the expression (a hit's request id and Server-Timing:
    3 % of a gthread worker's samples before, py-spy, stop 34)."""
    if type(value) is not str:
        return False
    if value.isascii() and value.isprintable():  # no tab: only a space could need stripping
        return value == "" or (value[0] != " " and value[-1] != " ")
    return (wsgi.HEADER_VALUE_RE.fullmatch(value) is not None
            and value[:1] not in " \t" and value[-1:] not in " \t") or value == ""


# The environ key under which the project's workers offer send_prepared to
# the application (cache/wsgi.py reads it; any other server leaves it out).
SEND_PREPARED = "deploy.send_prepared"


def offer_prepared(environ, start_response):
    """Put this request's `send_prepared` in its environ, when
    `start_response` is this Response's (gunicorn's HTTP/2 has its own)."""
    owner = getattr(start_response, "__self__", None)
    if type(owner) is Response:
        environ[SEND_PREPARED] = owner.send_prepared


def offering_prepared(application):
    """`application`, offered `send_prepared` in every request's environ."""
    def call_with_send_prepared(environ, start_response):
        offer_prepared(environ, start_response)
        return application(environ, start_response)

    return call_with_send_prepared


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
