"""A Redis client behind a circuit breaker. It knows nothing of pages.

Short socket timeouts bound what one failure costs; after a failure the
guard opens and callers skip Redis entirely until a single probe, a second
later, finds Redis back. What happens on opening and before closing (the
page cache's outage policy: cache/outage.py) is handed in as a `Policy`.

    guard = RedisGuard(url, (0.05, 0.25), policy)    # timeouts: connect, socket
    guard.call(lambda client: client.get("x"))     # None when Redis is out
"""
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

logger = logging.getLogger(__name__)

REDIS_ERRORS = (redis.RedisError, OSError)


def client_for(url, timeouts, max_connections=1000):
    """A redis-py client with `timeouts` (connect, socket) in seconds and no
    retries (a retry would double what an outage costs each request; the
    guard decides instead)."""
    connect_timeout, socket_timeout = timeouts
    return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=socket_timeout,
                                health_check_interval=0, retry=Retry(NoBackoff(), 0),
                                max_connections=max_connections)


@dataclass
class Policy:
    """What the guard's owner does when Redis goes away and comes back.
    `before_close(client)` may raise a Redis error: the guard then stays open."""
    opened: Callable = lambda error: None
    before_close: Callable = lambda client: None
    closed: Callable = lambda: None


class RedisGuard:
    def __init__(self, url, timeouts, policy=None, open_seconds=1.0):
        self.client = client_for(url, timeouts)
        self.policy = policy or Policy()
        self.open_seconds = open_seconds
        self.open_until = 0.0
        self.is_open = False
        self._lock = threading.Lock()

    def available(self):
        """False while the guard is open (no Redis call should be tried)."""
        return not self.is_open or time.monotonic() >= self.open_until

    def call(self, operation, *args):
        """Run `operation(client, *args)`; None (and the guard open) if Redis fails."""
        if not self.available():
            return None
        try:
            result = operation(self.client, *args)
        except redis.exceptions.MaxConnectionsError:
            return None  # our own pool is exhausted, Redis is fine: skip it this once
        except REDIS_ERRORS as error:
            self.trip(error)
            return None
        if self.is_open:
            # What this first call read predates the recovery step: drop it.
            self._close()
            return None
        return result

    def trip(self, error):
        with self._lock:
            self.open_until = time.monotonic() + self.open_seconds
            if self.is_open:
                return
            self.is_open = True
        self.policy.opened(error)

    def _close(self):
        with self._lock:
            if not self.is_open:
                return
            try:
                self.policy.before_close(self.client)
            except REDIS_ERRORS as error:
                self.open_until = time.monotonic() + self.open_seconds
                logger.info("Redis still failing (%s)", error)
                return
            self.is_open = False
        self.policy.closed()
