"""Slow clients on a gthread worker: a connection whose request head has
not all arrived within HEAD_TIMEOUT of a thread starting to read it, or
whose declared body has not all arrived within BODY_TIMEOUT of its read starting,
is closed, so a client that sends part of a request and goes quiet (the
"slowloris" attack, and its slow-POST variant) cannot hold one of the
worker's few threads forever.

gunicorn's gthread hands a connection to a thread once it is readable, and
the thread then reads the request head with a blocking read that has no
timeout, and the application reads the body the same way. Measured on
gunicorn 27.0.1: one connection that sent "GET / HTTP/1.1\\r\\nHost: x\\r\\n"
and nothing more held its thread until the client closed it, and so did a
form POST that sent 20 of the 100 bytes it declared (the site reads every
form: blog/input_guard.py). So 16 of them (4 workers of 4 threads) stop the
whole site for as long as the client likes. The head's clock starts when a
thread takes the connection, so it includes gunicorn's own wait of up to
5 s for a new connection's first byte (a connection still silent then
waits on the worker's poller, without a thread and off the clock).

A body is read whole, on the clock, before the application runs (`whole_body`),
when it declares a length the site accepts (up to Django's
DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MiB) and the method is not GET or HEAD
(the site reads no body of those: a cache hit is not held up by one). The application never sees part of
a body. Longer bodies and chunked ones are left to the application
unread: the site refuses the first by their declared length without
reading them (a 413 or 400), and Django reads nothing of the second (no
Content-Length); what is left is drained after the answer by gunicorn,
within 5 s.

The worker's main thread cuts an overdue connection with shutdown(): the
blocked read returns end-of-file and gunicorn closes the connection as it
does for any client that went away. Once the application runs, its own
limits apply (the database's statement timeout). A proxy in front that
buffers whole requests (docs/deployment.md) protects the threads better:
a timeout only bounds how long each slow client holds one.

    worker: self.clock = RequestClock(); in a pool thread clock.start(conn, HEAD),
    clock.start(conn, BODY), clock.done(conn); in the main loop
    `for conn, part in clock.overdue(now): cut(conn)`
"""
import errno
import io
import socket
import time

from django.core.exceptions import ImproperlyConfigured

HEAD, BODY = "head", "body"
HEAD_TIMEOUT = 10    # seconds (0: no limit); deploy/gunicorn.conf.py sets it from GUNICORN_REQUEST_HEAD_TIMEOUT
BODY_TIMEOUT = 20    # seconds (0: no limit); deploy/gunicorn.conf.py sets it from GUNICORN_REQUEST_BODY_TIMEOUT
CHECK_EVERY = 0.5    # seconds between looks: a cut comes at most this late
DEFAULT_BODY_LIMIT = 2621440  # bytes: Django's default DATA_UPLOAD_MAX_MEMORY_SIZE


def timeout_of(part):
    return HEAD_TIMEOUT if part == HEAD else BODY_TIMEOUT


class RequestClock:
    """The connections whose request head or body a thread is reading, and
    since when. Pool threads start and stop the clock, the main thread
    reads it: each step is one dict operation, atomic under the GIL."""

    def __init__(self):
        self.reading = {}   # conn -> (HEAD or BODY, monotonic start)
        self.look_due = 0.0

    def start(self, conn, part, now=None):
        """Time `part` of the request on `conn` (a body's clock replaces its head's)."""
        self.reading[conn] = (part, time.monotonic() if now is None else now)

    def done(self, conn):
        self.reading.pop(conn, None)

    def overdue(self, now):
        """[(conn, part)] read for longer than that part's timeout, taken off
        the clock (looked at once every CHECK_EVERY; [] between; a part
        whose timeout is 0 is never overdue)."""
        if now < self.look_due:
            return []
        self.look_due = now + CHECK_EVERY
        late = [(conn, part) for conn, (part, since) in self.reading.copy().items()
                if timeout_of(part) and now - since >= timeout_of(part)]
        for conn, _ in late:
            self.done(conn)
        return late


def body_limit():
    """The longest body read whole: the site's DATA_UPLOAD_MAX_MEMORY_SIZE
    (it refuses longer ones by their declared length, unread:
    blog/input_guard.py); DEFAULT_BODY_LIMIT when that is None or the
    application is not a Django site (the bench's ceilings)."""
    try:
        from django.conf import settings

        return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or DEFAULT_BODY_LIMIT
    except ImproperlyConfigured:  # no Django settings in this process
        return DEFAULT_BODY_LIMIT


def whole_body(environ, limit):
    """The request body read whole into memory, as the new wsgi.input; None
    when it is left to the application (none declared, or longer than
    `limit` bytes). A connection closed before the declared length arrived
    (the client went, or `cut`) raises ConnectionResetError: gunicorn then
    closes it quietly, and the application never runs on part of a body."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:  # gunicorn refuses such a request before this
        return None
    if not 0 < length <= limit:
        return None
    body = environ["wsgi.input"].read(length)
    if len(body) < length:
        raise ConnectionResetError(errno.ECONNRESET, f"the request body stopped after {len(body)} "
                                                     f"of {length} bytes")
    return io.BytesIO(body)


def cut(conn):
    """End an overdue connection's blocked read: its thread sees the client
    gone and closes the connection itself."""
    try:
        conn.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # its thread closed it in the meantime
