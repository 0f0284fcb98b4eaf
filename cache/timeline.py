"""A promotion (failover or switchover) puts the primary on a new timeline:
the first process whose health poller sees it starts the page cache afresh,
forgetting the tag records, whose positions on the dead timeline may be
ahead of the new one's (cache/fresh_start.py). Connected to
routing.primary_changed by cache/apps.py.
"""
import logging

from django.db import connections

from routing import PRIMARY

from .connection import redis_guard
from .fresh_start import start_afresh
from .redis_keys import TIMELINE_KEY

logger = logging.getLogger(__name__)

# KEYS[1]: the timeline key. ARGV[1]: a timeline. 1 if it is newer than the
# one recorded (and is recorded now): this process starts the cache afresh.
CLAIM_TIMELINE = """
if tonumber(ARGV[1]) > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
"""


def on_new_timeline(sender, new, **kwargs):
    """routing.primary_changed receiver (in the health poller's thread): the
    first process to see a timeline starts the cache afresh for everyone."""
    def claim_and_start_afresh(client):
        if client.eval(CLAIM_TIMELINE, 1, TIMELINE_KEY, new.timeline):
            start_afresh(client, forget_tag_records=True)
            logger.warning("page cache: started afresh for timeline %s (primary %s)", new.timeline, new.member)

    try:
        redis_guard().call(claim_and_start_afresh)
    finally:
        connections[PRIMARY].close()  # the poller thread's, opened for the floor
