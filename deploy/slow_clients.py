"""Slow clients on a gthread worker: a connection whose request head has
not all arrived within HEAD_TIMEOUT of a thread starting to read it is
closed, so a client that sends part of a request and goes quiet (the
"slowloris" attack) cannot hold one of the worker's few threads forever.

gunicorn's gthread hands a connection to a thread once it is readable, and
the thread then reads the request head with a blocking read that has no
timeout. Measured on gunicorn 27.0.1: one connection that sent
"GET / HTTP/1.1\\r\\nHost: x\\r\\n" and nothing more held its thread until the
client closed it, so 16 of them (4 workers of 4 threads) stop the whole
site for as long as the client likes. The clock starts when a thread
takes the connection, so it includes gunicorn's own wait of up to 5 s for
a new connection's first byte (a connection still silent then waits on the
worker's poller, without a thread and off the clock).

The worker's main thread cuts an overdue connection with shutdown(): the
blocked read returns end-of-file and gunicorn closes the connection as it
does for any client that went away. Only the head is timed: once the
application runs, its own limits apply (the database's statement timeout),
and a request body sent slowly still holds its thread; a proxy in front
that buffers whole requests (docs/deployment.md) protects against that.

    worker: self.heads = HeadClock(); in a pool thread heads.start(conn) and
    heads.done(conn); in the main loop `for conn in heads.overdue(now): cut(conn)`
"""
import socket
import time

HEAD_TIMEOUT = 10    # seconds (0: no limit); deploy/gunicorn.conf.py sets it from GUNICORN_REQUEST_HEAD_TIMEOUT
CHECK_EVERY = 0.5    # seconds between looks: a cut comes at most this late


class HeadClock:
    """The connections whose request head a thread is reading, and since
    when. Pool threads start and stop the clock, the main thread reads it:
    each step is one dict operation, atomic under the GIL."""

    def __init__(self):
        self.reading = {}
        self.look_due = 0.0

    def start(self, conn, now=None):
        self.reading[conn] = time.monotonic() if now is None else now

    def done(self, conn):
        self.reading.pop(conn, None)

    def overdue(self, now):
        """The connections reading their head for HEAD_TIMEOUT or more,
        taken off the clock (looked at once every CHECK_EVERY; [] between,
        and always when HEAD_TIMEOUT is 0: no limit)."""
        if not HEAD_TIMEOUT or now < self.look_due:
            return []
        self.look_due = now + CHECK_EVERY
        late = [conn for conn, since in self.reading.copy().items() if now - since >= HEAD_TIMEOUT]
        for conn in late:
            self.done(conn)
        return late


def cut(conn):
    """End an overdue connection's blocked read: its thread sees the client
    gone and closes the connection itself."""
    try:
        conn.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # its thread closed it in the meantime
