"""This process's guarded Redis connection for the page cache (and for ops'
shared state records): one pool per process, created on first use."""
import threading

from . import conf
from .outage import POLICY
from .redis_guard import RedisGuard

_guard = None
_lock = threading.Lock()


def redis_guard():
    global _guard
    if _guard is None:
        with _lock:
            if _guard is None:
                _guard = RedisGuard(conf.redis_url(), conf.redis_timeouts(), POLICY)
    return _guard


def reset():
    """Forget the connection (tests that change REDIS_URL)."""
    global _guard
    with _lock:
        _guard = None
