"""This process's guarded Redis connection for the page cache (and for ops'
shared state records): one pool per process, created on first use. The
memory tier's log reader, whose reads wait in Redis for news, has a client
of its own with a socket timeout longer than its wait."""
import threading

from . import conf
from .outage import POLICY
from .redis_guard import RedisGuard, client_for

_guard = None
_log_readers = {}  # (connect, socket) timeouts -> client
_lock = threading.Lock()


def redis_guard():
    global _guard
    if _guard is None:
        with _lock:
            if _guard is None:
                _guard = RedisGuard(conf.redis_url(), conf.redis_timeouts(), POLICY)
    return _guard


def log_reader(wait):
    """The client for reads of the invalidation log that wait up to `wait`
    seconds (one connection in practice: only the poller thread reads; a
    test may read with another wait, so one client per timeout)."""
    connect_timeout, socket_timeout = conf.redis_timeouts()
    timeouts = (connect_timeout, socket_timeout + wait)
    client = _log_readers.get(timeouts)
    if client is None:
        with _lock:
            client = _log_readers.setdefault(timeouts, client_for(conf.redis_url(), timeouts, max_connections=10))
    return client


def reset():
    """Forget the connections (tests that change REDIS_URL)."""
    global _guard
    with _lock:
        _guard = None
        _log_readers.clear()
