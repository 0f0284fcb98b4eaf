"""gunicorn's gthread worker, taking a new connection only while one of its
threads is free, and answering with deploy/http_response.py's Response.
Its thread pool skips Sentry's submit wrapper when it has nothing to do
(ops/sentry.py, `pool_submit`): the worker submits every request.

    worker_class = "deploy.gthread_worker.ThreadWorker"    # deploy/gunicorn.conf.py

Every worker watches the one listening socket, and gthread's own worker
accepts whatever arrives while it has fewer than `worker_connections`
(1000): a worker whose threads are all busy still takes new connections
and queues them behind its own work, even while another worker idles. With
keep-alive a connection then stays where it landed, so one worker could
hold most of a client's connections and cap the server at what that one
process does (issue #17: a third of its capacity). Here a worker with no
free thread stops watching the socket until a thread frees up: a new
connection goes to a worker that can serve it now, as it does with sync
workers by their nature. Keep-alive connections already held are served
as before (they are watched separately). A pile-up becomes rare, not
impossible: a worker that finishes each request before the next
connection arrives always has a free thread.

A worker with a free thread may still hold more connections than
another: all of them wake for a new one and the quickest takes it, so a
burst (a client opening its connections) lands unevenly. A worker also
leaves a new connection to a worker holding fewer connections that can
take it now (deploy/connection_balance.py).

`reuse_port` (a listening socket per worker, the kernel spreading
connections by a hash) would spread them too, but the connections queued
on a stopping worker's socket (a recycle after max_requests, a reload)
are reset: docs/benchmarks.md has the measurements.
"""
from gunicorn.workers import gthread

from deploy import connection_balance, http_response
from ops import sentry


class ThreadWorker(gthread.ThreadWorker):
    busy = 0            # connections handed to the thread pool and not yet done with
    paused = False      # not accepting: no thread was free when a connection came
    held_back = False   # not accepting: another worker that can take it holds fewer connections
    seat = None         # this worker's seat on connection_balance.board (None: accepts freely)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Runs in the master, before the fork: only the master hands out seats.
        self.seat = connection_balance.board.seat_for(self)

    def init_process(self):
        http_response.install(self.cfg)
        super().init_process()

    def get_thread_pool(self):
        pool = super().get_thread_pool()
        pool.submit = sentry.pool_submit(pool)
        return pool

    def notify(self):
        # Once per turn of the run loop: what the other workers compare with.
        super().notify()
        self.report()

    def report(self):
        if self.seat is not None:
            connection_balance.board.report(self.seat, self.nr_conns, free_thread=self.busy < self.cfg.threads,
                                            stopping=not self.alive)

    def wait_for_and_dispatch_events(self, timeout):
        # An idle worker still reports (every loop turn) well within STALE_AFTER.
        super().wait_for_and_dispatch_events(min(timeout, connection_balance.LOOK_EVERY))

    def enqueue_req(self, conn):
        self.busy += 1
        super().enqueue_req(conn)

    def accept(self, listener):
        if self.busy >= self.cfg.threads:
            self.paused = True
            self.set_accept_enabled(False)
            return  # still in the socket's queue, for a worker with a free thread
        if not self.may_take():
            self.held_back = True
            self.set_accept_enabled(False)
            return  # still in the socket's queue, for a worker holding fewer
        super().accept(listener)
        self.report()  # at once: the other workers are awake for the same burst

    def may_take(self):
        return self.seat is None or connection_balance.board.may_take(self.seat, self.nr_conns)

    def finish_request(self, conn, fs):
        self.busy -= 1
        super().finish_request(conn, fs)
        if self.paused and self.busy < self.cfg.threads:
            self.paused = False
            if self.alive:
                self.set_accept_enabled(self.nr_conns < self.worker_connections)

    def set_accept_enabled(self, enabled):
        # The run loop re-enables accepting whenever it has room for
        # connections (every turn while this worker is not accepting): a
        # paused worker stays paused until a thread is free, a held-back
        # one until no worker that can take a connection holds fewer.
        if enabled and self.held_back:
            self.held_back = not self.may_take()
        super().set_accept_enabled(enabled and not self.paused and not self.held_back)
