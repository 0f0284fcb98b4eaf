"""What the page cache does about a Redis outage (cache/redis_guard.py
detects it).

- Redis goes away: the memory tier is cleared (it can no longer follow
  invalidations), pages are rendered from the database, ops is told once.
- Before it is trusted again: the cache generation is bumped (pages cached
  before the outage are unreachable: invalidations may have been lost), and
  the `all` tag's record is raised to the primary's position, so a fill from
  a replica still behind a lost invalidation is refused too.
- Then the memory tier starts afresh and ops is told it is back.
"""
import logging

from django.db import DatabaseError
from django.dispatch import Signal

from routing.lsn import current_primary_lsn

from . import memory
from .redis_guard import Policy
from .redis_keys import ALL_TAG, GENERATION_KEY, now_ms, tag_key

logger = logging.getLogger(__name__)

# kwargs: state ("open" or "closed"), reason. Ops turns it into one Sentry event per change.
redis_state_changed = Signal()


def redis_lost(error):
    memory.clear()
    logger.warning("page cache: Redis unreachable (%s); serving from the database", error)
    redis_state_changed.send(sender=Policy, state="open", reason=str(error))


def before_trusting_redis_again(client):
    client.incr(GENERATION_KEY)
    try:
        lsn = current_primary_lsn()
    except DatabaseError as error:
        logger.info("page cache: no floor after the outage (primary unreachable: %s)", error)
        return
    client.set(tag_key(ALL_TAG), f"{lsn} {now_ms()}")


def redis_back():
    memory.clear()
    logger.warning("page cache: Redis is back; entries cached before the outage are now invalid")
    redis_state_changed.send(sender=Policy, state="closed", reason="redis answered again")


POLICY = Policy(opened=redis_lost, before_close=before_trusting_redis_again, closed=redis_back)
