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

`reuse_port` (a listening socket per worker, the kernel spreading
connections by a hash) would spread them too, but the connections queued
on a stopping worker's socket (a recycle after max_requests, a reload)
are reset: docs/benchmarks.md has the measurements.
"""
from gunicorn.workers import gthread

from deploy import http_response
from ops import sentry


class ThreadWorker(gthread.ThreadWorker):
    busy = 0          # connections handed to the thread pool and not yet done with
    paused = False    # not accepting: no thread was free when a connection came

    def init_process(self):
        http_response.install(self.cfg)
        super().init_process()

    def get_thread_pool(self):
        pool = super().get_thread_pool()
        pool.submit = sentry.pool_submit(pool)
        return pool

    def enqueue_req(self, conn):
        self.busy += 1
        super().enqueue_req(conn)

    def accept(self, listener):
        if self.busy >= self.cfg.threads:
            self.paused = True
            self.set_accept_enabled(False)
            return  # still in the socket's queue, for a worker with a free thread
        super().accept(listener)

    def finish_request(self, conn, fs):
        self.busy -= 1
        super().finish_request(conn, fs)
        if self.paused and self.busy < self.cfg.threads:
            self.paused = False
            if self.alive:
                self.set_accept_enabled(self.nr_conns < self.worker_connections)

    def set_accept_enabled(self, enabled):
        # The run loop re-enables accepting whenever it has room for
        # connections; a paused worker stays paused until a thread is free.
        super().set_accept_enabled(enabled and not self.paused)
