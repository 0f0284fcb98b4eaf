"""Starting the page cache afresh, when what Redis holds may no longer be
trusted: after a Redis outage that lost an invalidation (cache/outage.py),
or after a promotion onto a new timeline (cache/timeline.py).

    start_afresh(client, forget_tag_records=False)

1. mark `pc:resetting` for a few seconds: no fill is stored meanwhile;
2. bump the generation: every entry cached before is unreachable; an `all`
   entry in the invalidation log wakes every memory tier's read, and each
   tier empties at once;
3. with `forget_tag_records`, delete every tag's record, history and floor:
   after a promotion, positions of the dead timeline can be ahead of the new
   one's, and would refuse every fill until the new timeline passed them;
4. raise the `all` record to the primary's position, measured now: every
   invalidation recorded before step 2 stood at or before it, so a fill
   from a snapshot behind one of them is refused;
5. unmark.
If the primary cannot be asked, the mark expires by itself (RESETTING_SECONDS).
"""
import logging

from django.db import DatabaseError

from routing.lsn import current_primary_lsn

from .redis_keys import ALL_TAG, GENERATION_KEY, LOG_KEY, LOG_LENGTH, RESETTING_KEY, now_ms, tag_key

logger = logging.getLogger(__name__)

RESETTING_SECONDS = 10
TAG_KEYS = "pc:tag*"   # records (pc:tag:), histories (pc:tag-history:), floors (pc:tag-floor:)

def start_afresh(client, forget_tag_records=False):
    client.set(RESETTING_KEY, "1", ex=RESETTING_SECONDS)
    client.incr(GENERATION_KEY)
    client.xadd(LOG_KEY, {"t": ALL_TAG}, maxlen=LOG_LENGTH, approximate=True)
    if forget_tag_records:
        forget_every_tag_record(client)
    try:
        lsn = current_primary_lsn()
    except DatabaseError as error:
        logger.warning("page cache: started afresh without a floor (primary unreachable: %s)", error)
        return
    client.set(tag_key(ALL_TAG), f"{lsn} {now_ms()}")
    client.delete(RESETTING_KEY)


def forget_every_tag_record(client):
    batch = []
    for key in client.scan_iter(match=TAG_KEYS, count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)
