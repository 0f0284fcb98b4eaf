"""The page cache's Redis connection, behind a circuit breaker.

Short socket timeouts bound what one failure costs; after a failure the
breaker opens and requests skip Redis entirely (they render from the
database) until a single probe, a second later, finds Redis back. When the
breaker closes again the cache generation is bumped: invalidations that
could not reach Redis during the outage must not leave stale pages behind.
"""
import logging
import threading
import time

import redis
from django.db import DatabaseError
from django.dispatch import Signal

from . import conf, memory

logger = logging.getLogger(__name__)

# kwargs: state ("open" or "closed"), reason. Ops turns it into one Sentry event per change.
breaker_state_changed = Signal()

REDIS_ERRORS = (redis.RedisError, OSError)
GENERATION_KEY = "pc:gen"


class RedisBreaker:
    def __init__(self, url, open_seconds=1.0):
        self.client = redis.Redis.from_url(
            url, socket_connect_timeout=0.05, socket_timeout=0.25, health_check_interval=0,
            retry_on_timeout=False, max_connections=1000,
        )
        self.open_seconds = open_seconds
        self.open_until = 0.0
        self.is_open = False
        self._lock = threading.Lock()

    def available(self):
        """False while the breaker is open (no Redis call should be tried)."""
        return not self.is_open or time.monotonic() >= self.open_until

    def call(self, operation, *args):
        """Run `operation(client, *args)`; None (and the breaker open) if Redis fails."""
        if not self.available():
            return None
        try:
            result = operation(self.client, *args)
        except redis.exceptions.MaxConnectionsError:
            return None  # our own pool is exhausted, Redis is fine: skip the cache this once
        except REDIS_ERRORS as error:
            self.trip(error)
            return None
        if self.is_open:
            # What this first call read predates the floor set on closing: drop it.
            self._close()
            return None
        return result

    def trip(self, error):
        with self._lock:
            self.open_until = time.monotonic() + self.open_seconds
            if not self.is_open:
                self.is_open = True
                memory.clear()  # it can no longer follow invalidations
                logger.warning("page cache: Redis unreachable (%s); serving from the database", error)
                breaker_state_changed.send(sender=RedisBreaker, state="open", reason=str(error))

    def _close(self):
        with self._lock:
            if not self.is_open:
                return
            try:
                self.client.incr(GENERATION_KEY)
                self._raise_floor()
            except REDIS_ERRORS as error:
                self.open_until = time.monotonic() + self.open_seconds
                logger.info("page cache: Redis still failing (%s)", error)
                return
            self.is_open = False
        memory.clear()
        logger.warning("page cache: Redis is back; entries cached before the outage are now invalid")
        breaker_state_changed.send(sender=RedisBreaker, state="closed", reason="redis answered again")


    def _raise_floor(self):
        """Every page now needs a snapshot at or past the primary's position:
        a fill from a replica still behind a lost invalidation is refused."""
        from . import store  # store needs the breaker; import late

        try:
            lsn = store.primary_lsn()
        except DatabaseError as error:
            logger.info("page cache: no floor after the outage (primary unreachable: %s)", error)
            return
        self.client.set(store.tag_key("all"), f"{lsn} {store.now_ms()}")


_breaker = None
_breaker_lock = threading.Lock()


def breaker():
    """This process's breaker (one connection pool per process)."""
    global _breaker
    if _breaker is None:
        with _breaker_lock:
            if _breaker is None:
                _breaker = RedisBreaker(conf.redis_url())
    return _breaker


def reset():
    global _breaker
    with _breaker_lock:
        _breaker = None
