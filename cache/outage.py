"""What the page cache does about a Redis outage (cache/redis_guard.py
detects it).

- Redis goes away (or one call was too slow): pages are rendered from the
  database and ops is told once. The memory tier needs no clearing: it can
  no longer read the invalidation log, so it stops serving within
  PAGE_CACHE_MEMORY_SECONDS by itself.
- Before it is trusted again, if an invalidation of this process could not
  be recorded meanwhile, or Redis lost its data (restarted): the cache
  generation is bumped (every page cached before is unreachable) and the
  `all` tag's record is raised to the primary's position, so a fill from a
  replica still behind the lost invalidation is refused too. Without a lost invalidation nothing cached
  is wrong, and nothing is thrown away: a slow call under load must not
  cost the whole cache.
- Then ops is told it is back; the memory tier follows the log again from
  where it stopped (or starts afresh on a gap, a new generation or epoch).
"""
import logging
import threading

from django.dispatch import Signal

from .fresh_start import start_afresh
from .redis_guard import Policy
from .redis_keys import ALL_TAG, tag_key

logger = logging.getLogger(__name__)

# kwargs: state ("open" or "closed"), reason. Ops turns it into one Sentry event per change.
redis_state_changed = Signal()

_invalidation_lost = threading.Event()


def invalidation_lost():
    """An invalidation of this process may not have reached Redis."""
    _invalidation_lost.set()


def redis_lost(error):
    logger.warning("page cache: Redis unreachable (%s); serving from the database", error)
    redis_state_changed.send(sender=Policy, state="open", reason=str(error))


def before_trusting_redis_again(client):
    # No `all` record (raised at every such recovery, never expiring, never
    # evicted): Redis lost its data, tag records included, so a fill from a
    # replica behind an invalidation it forgot would be accepted.
    if not _invalidation_lost.is_set() and client.exists(tag_key(ALL_TAG)):
        return
    _invalidation_lost.clear()
    start_afresh(client)
    logger.warning("page cache: an invalidation was lost during the outage (or Redis its data): started afresh")


def redis_back():
    logger.warning("page cache: Redis is back")
    redis_state_changed.send(sender=Policy, state="closed", reason="redis answered again")


POLICY = Policy(opened=redis_lost, before_close=before_trusting_redis_again, closed=redis_back)
