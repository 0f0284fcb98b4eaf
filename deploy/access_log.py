"""The access log: one line per request, cheap enough to leave on.

    logger_class = "deploy.access_log.AccessLogger"    # deploy/gunicorn.conf.py

A line (the fields of gunicorn's old `access_log_format`, same order):

    127.0.0.1 "GET /posts/x/ HTTP/1.1" 200 11874 3ms rid=5f2c... cache=HIT "curl/8.5"

gunicorn's own access log builds a dict of every request header, response
header and environ variable for each request and sends the line through the
logging module and its locks: a quarter of what a cached hit costs
(issue #17). This one reads the eight fields it logs, formats them with one
fixed format, and writes many lines at once. What it guarantees:

- **Where**: `GUNICORN_ACCESSLOG` as before ('-' stdout, a path, '' none;
  gunicorn's `--access-logfile` too). SIGUSR1 reopens a file (log rotation).
- **Whole lines, never interleaved**: the lines of a worker are written by
  one `write()` of at most PIPE_BUF (4 KiB) bytes holding whole lines only;
  POSIX makes such a write to a pipe atomic, and a file opened for appending
  takes each write whole, so the workers sharing one stdout never mix their
  lines. A line is never that long: a client's fields are cut first (see
  WHOLE and LIMITS).
- **Nothing forged**: what a client sends (request line, user agent) and
  what a response header says (request id, cache outcome) is escaped: `"`
  and `\\` get a backslash, anything outside printable ASCII (and a space
  in a field without quotes) becomes `\\xHH`.
  One request is one line, and its quoted fields end where they seem to.
- **Nothing lost**: lines wait in the worker's queue until the flusher
  thread writes them, every FLUSH_SECONDS (0.1 s), and until the process's
  exit (`atexit`), which a worker reaches on SIGTERM, on a recycle after
  `max_requests` and on a graceful reload alike. A worker killed by SIGKILL
  (its timeout) loses its last 0.1 s of lines.
- **No request waits for the disk**: a request formats its line and adds
  it to the queue, without a lock; only the flusher writes. (Requests used
  to add lines under a lock that the one writing held across its write, a
  millisecond and more on a loaded disk: every thread logging meanwhile
  queued behind it: a line cost a loaded gthread worker 9-10 µs of CPU,
  5-7 µs now; docs/benchmarks.md.) Only a queue past MAX_PENDING lines, a disk
  that stopped taking writes, makes the request that finds it write
  everything itself, so memory stays bounded.

The error log is gunicorn's, unchanged.
"""
import atexit
import logging
import os
import re
import threading
from collections import deque
from datetime import timedelta

from gunicorn import glogging, util

PIPE_BUF = 4096            # the largest write POSIX keeps whole on a pipe (Linux's; POSIX's least is 512)
FLUSH_SECONDS = 0.1
MAX_PENDING = 10_000     # lines queued (about 1.5 MB) before a request writes them itself
# What a client controls is kept whole while those fields together stay
# within WHOLE characters; past that, each is cut to its limit (client,
# request line, request id, cache outcome, user agent) and ends with "...".
# An escape takes up to four characters, so either way a line stays under
# PIPE_BUF.
WHOLE = 768
LIMITS = (64, 512, 64, 16, 256)
QUOTED = (False, True, False, False, True)  # which of those the line puts in quotes
# What passes as is: printable ASCII but the quote and the backslash, and
# in a field without quotes, no space either (a space ends it).
IN_QUOTES = re.compile(r'[^ !#-\[\]-~]')
BARE = re.compile(r'[^!#-\[\]-~]')
# The same rule as bytes: those that pass in quotes. Deleting them from a
# line leaves its own marks (four quotes and its newline) and whatever a
# field should not hold.
PASSING = bytes(c for c in range(256) if c in b" !" or 0x23 <= c <= 0x7E and c != 0x5C)
OWN_MARKS = b'""""\n'
MILLISECOND = timedelta(milliseconds=1)


def escape_character(match):
    """`"` and `\\` backslashed; any other character as the bytes it came
    from (WSGI strings hold the wire's bytes as latin-1), each as `\\xHH`."""
    character = match.group()
    if character in '"\\':
        return "\\" + character
    raw = character.encode("latin-1") if ord(character) < 256 else character.encode("utf-8", "surrogatepass")
    return "".join(f"\\x{byte:02x}" for byte in raw)


def escaped(fields):
    """The fields, cut when too long together, each escaped for its place."""
    too_long = sum(map(len, fields)) > WHOLE
    return [(IN_QUOTES if quoted else BARE).sub(escape_character, cut(text, limit) if too_long else text)
            for text, limit, quoted in zip(fields, LIMITS, QUOTED)]


def cut(text, limit):
    return text[:limit] + "..." if len(text) > limit else text


def response_ids(headers):
    """(X-Request-ID, X-Cache) of a response, '-' for a missing one. The
    site appends both last, so they are looked for from the end."""
    if len(headers) >= 3:  # the site's order, in the case it writes them: no search (and no slice)
        (name2, cache), (name1, request_id) = headers[-3], headers[-2]
        if name2 == "X-Cache" and name1 == "X-Request-ID" and headers[-1][0] == "Server-Timing":
            return request_id or "-", cache or "-"
    request_id = cache = None
    for name, value in reversed(headers):
        if len(name) == 12:
            if request_id is None and name.lower() == "x-request-id":
                request_id = value
                if cache is not None:
                    break
        elif len(name) == 7 and cache is None and name.lower() == "x-cache":
            cache = value
            if request_id is not None:
                break
    return request_id or "-", cache or "-"


def encoded_line(resp, environ, request_time):
    """One access log line as written: ASCII bytes ending in a newline,
    under PIPE_BUF. The common line (short, nothing to escape) is one
    f-string checked whole by one scan in C: a line's bytes without the
    PASSING ones are exactly OWN_MARKS (its own four quotes and its
    newline) when no field holds a quote, a backslash or a byte outside
    printable ASCII; and the fields without quotes must hold no space
    (three `in` tests: no string is built for them). Any other line is
    `careful_line`'s, which gives the same bytes for a common one (a
    property test holds the two together). The f-string is compiled once,
    with the module."""
    client = environ.get("REMOTE_ADDR") or "-"
    request_id, cache = response_ids(resp.headers)
    line = (f'{client} "{environ.get("REQUEST_METHOD", "-")} {environ.get("RAW_URI", "-")} '
            f'{environ.get("SERVER_PROTOCOL", "-")}" {resp.status[:3] if resp.status else "-"} {resp.sent} '
            f'{milliseconds(request_time)}ms '
            f'rid={request_id} cache={cache} "{environ.get("HTTP_USER_AGENT", "-")}"\n')
    if len(line) <= WHOLE and line.isascii():
        data = line.encode()  # ASCII: UTF-8's fast path, without parsing an argument
        if (data.translate(None, PASSING) == OWN_MARKS
                and " " not in client and " " not in request_id and " " not in cache):
            return data
    return careful_line(resp, environ, request_time).encode("ascii", "backslashreplace")


def milliseconds(request_time):
    """A request's time in whole milliseconds. The project's workers give it
    as a float of seconds (deploy/request_clock.py), gunicorn's own as a
    timedelta."""
    if type(request_time) is float:
        return int(request_time * 1000)
    return request_time // MILLISECOND


def careful_line(resp, environ, request_time):
    """The line (str) with what a client controls cut when too long and
    escaped: any request's, at the price of a dozen regular-expression
    scans."""
    client = environ.get("REMOTE_ADDR") or "-"
    request = f'{environ.get("REQUEST_METHOD", "-")} {environ.get("RAW_URI", "-")} {environ.get("SERVER_PROTOCOL", "-")}'
    request_id, cache = response_ids(resp.headers)
    client, request, request_id, cache, agent = escaped(
        (client, request, request_id, cache, environ.get("HTTP_USER_AGENT", "-")))
    status = resp.status[:3] if resp.status else "-"
    line = (f'{client} "{request}" {status} {resp.sent} {milliseconds(request_time)}ms '
            f'rid={request_id} cache={cache} "{agent}"\n')
    if len(line) >= PIPE_BUF:  # only characters beyond latin-1, which no request carries
        line = line[:PIPE_BUF - 5] + "...\n"
    return line


class AccessLogger(glogging.Logger):
    """gunicorn's Logger with `access()` replaced (see the module docstring)
    and `debug()` made cheap when nothing is logged at that level."""

    def __init__(self, cfg):
        self._fd = None
        self._owns_fd = False
        self._reopen = False
        # Lines (bytes) not yet written. deque.append and popleft are atomic:
        # requests add lines without a lock; only a writer, holding
        # _write_lock, takes them out.
        self._pending = deque()
        self._write_lock = threading.Lock()
        self._flusher = None
        super().__init__(cfg)
        os.register_at_fork(after_in_child=self._after_fork)
        atexit.register(self.flush)

    # --- configuration ----------------------------------------------------
    def setup(self, cfg):
        super().setup(cfg)
        self._debug_enabled = self.error_log.isEnabledFor(logging.DEBUG)
        # gunicorn's own handler for the access log is not used: drop it.
        for handler in list(self.access_log.handlers):
            if getattr(handler, "_gunicorn", False):
                self.access_log.removeHandler(handler)
                handler.close()
        self.flush()
        self._close_fd()
        self._fd, self._owns_fd = self._open(cfg.accesslog)
        self._access_log_enabled = self._fd is not None

    @staticmethod
    def _open(target):
        """(file descriptor, whether it is ours to close) for `target`."""
        if target is None:
            return None, False
        if target == "-":
            return 1, False
        fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        util.close_on_exec(fd)
        return fd, True

    def _close_fd(self):
        if self._owns_fd and self._fd is not None:
            os.close(self._fd)
        self._fd, self._owns_fd = None, False

    @property
    def writes_lines(self):
        """Whether an access log is written (deploy/request_clock.py times
        requests only then)."""
        return self._fd is not None

    def _compute_access_log_enabled(self):
        return getattr(self, "_fd", None) is not None

    def reopen_files(self):
        """SIGUSR1 (log rotation): gunicorn's files, then ours: now if the
        write lock is free, else at the next flush (in a worker this runs
        in a signal handler, which must not wait for a lock its own thread
        may hold)."""
        super().reopen_files()
        if self._write_lock.acquire(blocking=False):
            try:
                self._write_pending()
                self._reopen_fd()
            finally:
                self._write_lock.release()
        else:
            self._reopen = True

    def debug(self, msg, *args, **kwargs):
        """gunicorn logs every request at debug level (its default
        pre_request hook), four calls into logging deep even when the error
        log is above that level (1.2 % of a gthread worker's samples serving
        hits, py-spy, stop 34): here one test, unless the level is debug."""
        if self._debug_enabled:
            super().debug(msg, *args, **kwargs)

    # --- the hot path -------------------------------------------------------
    def access(self, resp, req, environ, request_time):
        if self._fd is None:
            return
        if self._flusher is None:
            self._start_flusher()
        self._pending.append(encoded_line(resp, environ, request_time))
        if len(self._pending) > MAX_PENDING:  # the flusher is stuck behind a disk: wait for it
            self.flush()

    # --- writing --------------------------------------------------------------
    def flush(self):
        with self._write_lock:
            self._write_pending()
            if self._reopen:
                self._reopen = False
                self._reopen_fd()

    def _write_pending(self):
        """Write the queued lines, whole lines only and at most PIPE_BUF
        bytes a write (under _write_lock). The lines queued now are taken
        with one short loop and joined once; a request's line queued
        meanwhile waits for the next flush."""
        popleft = self._pending.popleft  # only a writer takes lines out
        data = b"".join([popleft() for _ in range(len(self._pending))])
        start = 0
        while len(data) - start > PIPE_BUF:
            end = data.rfind(b"\n", start, start + PIPE_BUF) + 1 or data.index(b"\n", start) + 1
            self._write(data[start:end])
            start = end
        if start < len(data):
            self._write(data[start:])

    def _write(self, data):
        if self._fd is None:
            return
        try:
            while data:  # a pipe takes it whole; only a full disk writes less
                data = data[os.write(self._fd, data):]
        except OSError as error:
            self.error("access log: %d bytes lost: %s", len(data), error)

    def _reopen_fd(self):
        """The file at the configured path again (after a log rotation moved
        the old one); if it cannot be opened, lines go on to the old one."""
        if not self._owns_fd:
            return
        try:
            fd, owns = self._open(self.cfg.accesslog)
        except OSError as error:
            self.error("access log: cannot reopen %s (%s); writing on to the old file", self.cfg.accesslog, error)
            return
        os.close(self._fd)
        self._fd, self._owns_fd = fd, owns

    def _start_flusher(self):
        with self._write_lock:
            if self._flusher is not None:
                return
            self._flusher = threading.Thread(target=self._flush_forever, name="access-log-flusher",
                                             daemon=True)
            self._flusher.start()

    def _flush_forever(self):
        wake = threading.Event()
        while not wake.wait(FLUSH_SECONDS):
            self.flush()

    def _after_fork(self):
        # A child starts empty (its parent's lines are its parent's to write)
        # with a fresh lock, and starts its own flusher on its first line.
        self._pending = deque()
        self._write_lock = threading.Lock()
        self._flusher = None
