"""gunicorn's gthread worker, spreading keep-alive connections evenly over
the workers, and answering with deploy/http_response.py's Response (its
trusted-proxy check remembered: deploy/proxy_trust.py; what never changes
in a request's environ made once: deploy/wsgi_environ.py). Its
thread pool skips Sentry's submit wrapper when it has nothing to do
(ops/sentry.py, `pool_submit`): the worker submits every request.

    worker_class = "deploy.gthread_worker.ThreadWorker"    # deploy/gunicorn.conf.py

Every worker watches the one listening socket, and gthread's own worker
accepts whatever arrives while it has fewer than `worker_connections`
(1000): a worker whose threads are all busy still takes new connections
and queues them behind its own work, even while another worker idles. With
keep-alive a connection then stays where it landed, so one worker could
hold most of a client's connections and cap the server at what that one
process does (issue #17: a third of its capacity). Here a worker takes a
new connection only while no other worker that can take one holds fewer
(deploy/connection_balance.py has the rule); otherwise it stops watching
the socket for a moment and leaves the connection to that worker. A worker
whose threads have all been busy for BUSY_GRACE stops watching it until a
thread frees up, so new connections go to workers that can serve them now.
Keep-alive connections already held are served as before (they are
watched separately).

A thread reading a request head or body that does not come is freed after
GUNICORN_REQUEST_HEAD_TIMEOUT or GUNICORN_REQUEST_BODY_TIMEOUT
(deploy/slow_clients.py): gunicorn's own waits as long as the client keeps
the connection open. The body is read whole before the application runs.

`reuse_port` (a listening socket per worker, the kernel spreading
connections by a hash) would spread them too, but the connections queued
on a stopping worker's socket (a recycle after max_requests, a reload)
are reset: docs/benchmarks.md has the measurements.
"""
import threading
import time

from gunicorn.workers import gthread

from deploy import connection_balance, http_response, slow_clients, worker_process
from ops import sentry

# Whose body the site never reads: a GET that declares one (a cache hit,
# most likely) is answered at once, and gunicorn drains the body after,
# within its own 5 s, as before.
BODILESS = frozenset({"GET", "HEAD"})


class ThreadWorker(gthread.ThreadWorker):
    busy = 0            # connections handed to the thread pool and not yet done with
    busy_since = 0.0    # monotonic time since when every thread is busy; 0: one is free
    paused = False      # not accepting: every thread has been busy for BUSY_GRACE
    held_back = False   # not accepting: another worker that counts holds fewer connections
    look_again = 0.0    # monotonic time after which a held-back worker watches the socket again
    seat = None         # this worker's seat on connection_balance.board (None: accepts freely)
    reported = None     # (connections, busy_since, alive) as last written on the board
    report_due = 0.0    # monotonic time by which to write them again, changed or not
    clock = None        # slow_clients.RequestClock: the request heads and bodies the threads are reading
    body_limit = 0      # bytes: a body declared longer is left to the application (slow_clients.whole_body)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Runs in the master, before the fork: only the master hands out seats.
        self.seat = connection_balance.board.seat_for(self)

    def init_process(self):
        worker_process.install(self.cfg, self.log)
        self.threads = self.cfg.threads  # read per request: gunicorn's Config looks it up each time
        self.clock = slow_clients.RequestClock()
        self.serving = threading.local()  # .conn: the connection this pool thread serves a request of
        self.body_limit = slow_clients.body_limit()
        super().init_process()  # runs the worker's loop

    def load_wsgi(self):
        super().load_wsgi()
        self.wsgi = self.after_whole_request(self.wsgi)

    def get_thread_pool(self):
        pool = super().get_thread_pool()
        pool.submit = sentry.pool_submit(pool)
        return pool

    # --- the board ----------------------------------------------------------
    def notify(self):
        # Once per turn of the run loop (a request is one or two turns):
        # what the other workers compare with, written when it changed or
        # when the last word is getting old.
        super().notify()
        now = time.monotonic()
        if self.seat is not None:
            if (self.nr_conns, self.busy_since, self.alive) != self.reported or now >= self.report_due:
                self.report(now)
        for conn, part in self.clock.overdue(now):
            self.cut_slow_client(conn, part)

    def report(self, now):
        self.reported = (self.nr_conns, self.busy_since, self.alive)
        self.report_due = now + connection_balance.LOOK_EVERY
        connection_balance.board.report(self.seat, self.nr_conns, self.busy_since,
                                        stopping=not self.alive, now=now)

    def may_take(self, now):
        free_thread = self.busy < self.threads
        if self.seat is None:
            return free_thread
        return connection_balance.board.may_take(self.seat, self.nr_conns, free_thread, now=now)

    def wait_for_and_dispatch_events(self, timeout):
        # An idle worker still reports (every loop turn) well within
        # STALE_AFTER; a held-back one watches the socket again on time.
        timeout = min(timeout, connection_balance.LOOK_EVERY)
        if self.held_back:
            timeout = min(timeout, max(0.0, self.look_again - time.monotonic()))
        super().wait_for_and_dispatch_events(timeout)

    # --- slow clients ---------------------------------------------------------
    def handle(self, conn):
        # In a pool thread, for each request: the head's clock runs until
        # the head is in (handle_request), then a declared body's while it
        # is read (receive_body), or until the thread is done with the connection.
        self.clock.start(conn, slow_clients.HEAD)
        try:
            return super().handle(conn)
        finally:
            self.clock.done(conn)

    def handle_request(self, req, conn):
        self.clock.done(conn)  # the head is in
        self.serving.conn = conn  # for after_whole_request, should the request declare a body
        return super().handle_request(req, conn)

    def after_whole_request(self, application):
        """`application`, called once the request's declared body is all in
        (gunicorn has answered an `Expect: 100-continue` by then): the body
        read on its own clock, the application's time off it. A request
        without a body costs one look at its environ. The application is
        offered the Response's `send_prepared` (deploy/http_response.py)."""
        def receive_body_then_call(environ, start_response):
            if environ.get("CONTENT_LENGTH") and environ["REQUEST_METHOD"] not in BODILESS:
                self.receive_body(environ)
            http_response.offer_prepared(environ, start_response)
            return application(environ, start_response)

        return receive_body_then_call

    def receive_body(self, environ):
        conn = getattr(self.serving, "conn", None)
        if conn is None or conn.sock is not environ.get("gunicorn.socket"):
            return  # not a request handle_request handed over (an HTTP/2 stream): gunicorn's own way
        self.clock.start(conn, slow_clients.BODY)
        try:
            body = slow_clients.whole_body(environ, self.body_limit)
            if body is not None:
                environ["wsgi.input"] = body
        finally:
            self.clock.done(conn)

    def cut_slow_client(self, conn, part):
        client = conn.client[0] if isinstance(conn.client, (tuple, list)) else conn.client
        setting = "GUNICORN_REQUEST_HEAD_TIMEOUT" if part == slow_clients.HEAD else "GUNICORN_REQUEST_BODY_TIMEOUT"
        self.log.warning("Closing the connection from %s: no whole request %s after %s s (%s)",
                         client, part, slow_clients.timeout_of(part), setting)
        slow_clients.cut(conn)

    # --- connections ----------------------------------------------------------
    def enqueue_req(self, conn):
        self.busy += 1
        if self.busy >= self.threads and not self.busy_since:
            self.busy_since = time.monotonic()
        super().enqueue_req(conn)

    def accept(self, listener):
        now = time.monotonic()
        if connection_balance.stuck(self.busy_since, now):
            self.paused = True
            self.set_accept_enabled(False)
            return  # still in the socket's queue, for a worker with a free thread
        if not self.may_take(now):
            self.held_back, self.look_again = True, now + connection_balance.RECHECK_EVERY
            self.set_accept_enabled(False)
            return  # still in the socket's queue, for a worker holding fewer or with a free thread
        super().accept(listener)
        if self.seat is not None:
            self.report(now)  # at once: the other workers are awake for the same burst

    def finish_request(self, conn, fs):
        self.busy -= 1
        if self.busy < self.threads:
            self.busy_since = 0.0
        super().finish_request(conn, fs)
        if self.paused and self.busy < self.threads:
            self.paused = False
            if self.alive:
                self.set_accept_enabled(self.nr_conns < self.worker_connections)

    def set_accept_enabled(self, enabled):
        # The run loop re-enables accepting whenever it has room for
        # connections (every turn while this worker is not accepting): a
        # paused worker stays paused until a thread is free; a held-back
        # one watches the socket again after RECHECK_EVERY, and `accept`
        # reads the board again when a connection comes. So a worker held
        # back wakes for nothing while no connection waits, and the worker
        # the count calls for is watching within RECHECK_EVERY.
        if enabled and self.held_back and time.monotonic() >= self.look_again:
            self.held_back = False
        super().set_accept_enabled(enabled and not self.paused and not self.held_back)
