"""gunicorn configuration used by every way of serving the site (local stack,
Docker, benchmarks). Settings come from the environment:

    WEB_CONCURRENCY          worker processes (default: 2 x CPUs, at least 2)
    GUNICORN_WORKER_CLASS    sync | gthread (default gthread: see the README's
                             "Serving with gunicorn" for the measurement)
    GUNICORN_THREADS         threads per gthread worker (default 4)
    GUNICORN_KEEPALIVE       seconds an idle keep-alive connection stays open (5)
    GUNICORN_REQUEST_HEAD_TIMEOUT  seconds a gthread worker's thread waits for
                             the rest of a request head before closing the
                             connection (10; 0: forever, as gunicorn's own)
    GUNICORN_REQUEST_BODY_TIMEOUT  the same for the rest of a declared body
                             once the head is in (20; 0: forever)
    GUNICORN_TIMEOUT         seconds before a silent worker is killed (30)
    GUNICORN_MAX_REQUESTS    requests before a worker is recycled (1000000; 0: never)
    GUNICORN_ACCESSLOG       access log path, '-' for stdout (default), '' for none
    FORWARDED_ALLOW_IPS      proxies (IPs or CIDR networks) trusted for
                             X-Forwarded-Proto here, X-Forwarded-For in the
                             site (blog/ratelimit.py) (default 127.0.0.1)
    GUNICORN_PROXY_PROTOCOL  off (default), v1, v2 or auto: PROXY protocol from them
    GUNICORN_CONTROL_SOCKET  path of gunicorn's control socket (default: none)
    GUNICORN_SHARE_HEALTH_POLL  on (default): one worker polls the databases'
                             health for all; off: each worker for itself

The application is loaded once in the master (`preload_app`) and forked: the
master closes its database connections before each fork, and every worker
starts its replica health poller after it (one of them polls for all).
"""
import gc
import multiprocessing
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # to find import_path.py
import import_path  # noqa: E402

import_path.use()

from deploy import slow_clients  # noqa: E402


def _env_int(name, default):
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


wsgi_app = "wsgi:application"

# --- Workers ---------------------------------------------------------------
workers = _env_int("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count() * 2))
# gthread keeps client connections alive (sync closes each one after one
# response), which matters when no proxy sits in front; threads also let a
# worker overlap database and Redis round-trips.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "").strip() or "gthread"
threads = _env_int("GUNICORN_THREADS", 4) if worker_class == "gthread" else 1
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# gunicorn's gthread lets a client that sends half a request head, or half
# its body, hold a thread for as long as it keeps the connection open (16
# such clients stop 4 x 4 workers): the project's worker closes it after
# these many seconds (deploy/slow_clients.py). Set here in the master;
# workers fork with them.
def _env_seconds(name, default):
    value = _env_int(name, default)
    if value < 0:
        raise ValueError(f"{name} is {value}: give 0 or more seconds (0: no limit)")
    return value


slow_clients.HEAD_TIMEOUT = _env_seconds("GUNICORN_REQUEST_HEAD_TIMEOUT", 10)
slow_clients.BODY_TIMEOUT = _env_seconds("GUNICORN_REQUEST_BODY_TIMEOUT", 20)
# The project's own subclasses of gunicorn's workers. Both answer with
# deploy/http_response.py's Response, which checks and formats a header
# once instead of on every response (issue #17: a sixth of a hit's CPU).
# gunicorn's gthread also lets one worker take most keep-alive connections
# (a third of the capacity); ours spread them evenly, each leaving a new
# connection to a worker holding fewer (deploy/connection_balance.py).
worker_class = {"gthread": "deploy.gthread_worker.ThreadWorker",
                "sync": "deploy.sync_worker.SyncWorker"}.get(worker_class, worker_class)

# --- Lifetimes -------------------------------------------------------------
timeout = _env_int("GUNICORN_TIMEOUT", 30)  # above the 5 s statement_timeout
graceful_timeout = 20
# Recycle workers now and then (a leak in a library); the jitter keeps them
# from all restarting at the same moment. Rarely: the site's own per-process
# structures are bounded in bytes, and a new worker forks, starts its pollers
# and re-warms an empty memory tier from Redis. A worker serving hits does
# thousands of requests a second: at 50,000 it was recycled every ~30 s
# under load, which cost the hit ~7 % of its CPU (docs/performance.md); at
# 5,000 the Zipf mix spent a third of its time re-warming.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 1_000_000)
max_requests_jitter = max_requests // 10
# The heartbeat file on a memory filesystem: on Docker's overlayfs a blocked
# disk write would make the master think a healthy worker hung.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# --- Trusting a proxy ----------------------------------------------------
# Only these addresses may set X-Forwarded-Proto & co. (comma-separated IPs
# or CIDR networks of the TLS-terminating proxies). The site reads the same
# variable, with the same default, to take the client's address from
# X-Forwarded-For (settings.FORWARDED_ALLOW_IPS). A proxy not listed here is
# not believed when it says https: with HTTPS=on, every request it forwards
# is redirected to https again, forever (.env.example lists compose's).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "").strip() or "127.0.0.1"
# Behind a TCP load balancer the PROXY protocol (off, v1, v2, auto) carries
# the client's own address into REMOTE_ADDR, which the comment rate limit is
# keyed on; accepted from those same proxies only.
proxy_protocol = os.environ.get("GUNICORN_PROXY_PROTOCOL", "").strip() or "off"
proxy_allow_ips = forwarded_allow_ips

# --- Logs ----------------------------------------------------------------
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None
errorlog = "-"
# Client, request line, status, bytes, time in ms, then the request id and
# cache outcome the site puts on every response (SPEC "Reader-facing contract"),
# written by deploy/access_log.py: gunicorn's own access log (and its
# access_log_format, which this logger does not read) cost a quarter of a
# cached hit; this one costs a few microseconds (docs/benchmarks.md).
logger_class = "deploy.access_log.AccessLogger"

# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn),
# which the dev, test and bench stacks on one machine would fight over: off
# unless a path is given.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
control_socket_disable = not control_socket

# --- Preloading ----------------------------------------------------------
# Django is imported and the app built once in the master; workers share that
# memory copy-on-write and start faster. Code changes then need a new master
# (see the README's "Zero-downtime reloads"), not a HUP.
preload_app = True


def pre_fork(server, worker):
    """A connection opened in the master must not be shared by its children:
    two processes talking over one socket corrupt each other's protocol.
    Then freeze what the master has loaded (Django, the URL resolver,
    templates): the workers' garbage collector no longer walks it on every
    full collection, and walking it no longer un-shares its memory pages."""
    from django.db import connections

    connections.close_all()
    gc.freeze()


def on_starting(server):
    """One replica-health poll for all the workers: they share a directory
    where whichever holds its lock polls for the others
    (routing/shared_health.py). GUNICORN_SHARE_HEALTH_POLL=off: each polls
    for itself."""
    from routing import shared_health

    share = os.environ.get("GUNICORN_SHARE_HEALTH_POLL", "").strip().lower() or "on"
    if share not in ("on", "off"):
        raise ValueError(f"GUNICORN_SHARE_HEALTH_POLL is {share!r}: give on or off")
    server.health_directory = shared_health.make_directory() if share == "on" else None


def on_exit(server):
    from routing import shared_health

    if getattr(server, "health_directory", None):
        shared_health.remove_directory(server.health_directory)


def post_fork(server, worker):
    """Threads do not survive fork(): each worker starts its own pollers
    (replica health, shared with the other workers; the memory tier's
    invalidation log).
    (redis-py notices the new pid and opens fresh connections by itself.)"""
    from cache import memory_sync
    from routing import health

    health.start_polling(getattr(server, "health_directory", None))
    memory_sync.ensure_running()


def post_worker_init(worker):
    """Say when a worker is ready to serve: after gunicorn's own "Booting
    worker with pid", the gap between the two lines is its start-up."""
    worker.log.info("Worker ready (pid: %s)", worker.pid)


def child_exit(server, worker):
    """The master reaped a worker: its seat on the board that spreads
    keep-alive connections over gthread workers is free at once, so the
    others stop comparing themselves with it (deploy/connection_balance.py)."""
    from deploy import connection_balance

    connection_balance.board.release(worker)
