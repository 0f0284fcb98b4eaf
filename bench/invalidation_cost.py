"""Part 6 (growth), second half: what an invalidation costs with 10 and with 10,000
pages cached that show the invalidated tags.

The pages are stored through the cache's own miss path (`store.lookup`,
which takes the fill lease, then `store.store`), each a real rendered page
body tagged like a list page (`home`, a shared tag, its own post). Each
measurement times `record_invalidation` (the primary's LSN, then one Lua
script raising the tag records), the call a commit makes; afterwards a
sample of the stored pages must read as invalidated.
"""
import os
import statistics
import time

from routing.servers import EVERYTHING, ReplicationView

from .stack import log

TAGS = ("home", "tag:bench-invalidation")
# What the lookups are told of the replicas: none in rotation, the primary
# has everything. (routing.replication_view() would start this process's
# health poller, which would then report the stack's shutdown to Sentry.)
NO_REPLICA_VIEW = ReplicationView(caught_up_lsn=EVERYTHING)


def store_pages(first, last, template, port):
    from cache import store
    from cache.entry import PageCacheEntry

    lsn = store.current_primary_lsn()
    for number in range(first, last):
        token = os.urandom(8).hex()
        found = store.lookup(page_key(number, port), 0, token, NO_REPLICA_VIEW)
        entry = PageCacheEntry(status=200, headers=list(template.headers), gzip_body=template.gzip_body,
                               etag=template.etag, snapshot_lsn=lsn, tags=(*TAGS, f"post:{10**9 + number}"),
                               fresh_until=time.time() + 300)
        store.store(found.full_key, token, entry, 360)


def page_key(number, port):
    return f"127.0.0.1:{port}/bench-invalidation/{number}/?"


def time_invalidations(repeats):
    from cache.store import record_invalidation

    from django.db import connections

    from .stampede import touch_post

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT min(id) FROM blog_post")
        touch_post(cursor.fetchone()[0])  # the invalidations now stand past the stored pages
    for _ in range(3):  # connections and the script's SHA warm
        record_invalidation(TAGS)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        record_invalidation(TAGS)
        timings.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(timings), 3), "max_ms": round(max(timings), 3),
            "repeats": repeats}


def invalid_share(count, port, sample=50):
    from cache import store

    step = max(1, count // sample)
    states = [store.lookup(page_key(n, port), 0, os.urandom(8).hex(), NO_REPLICA_VIEW).state
              for n in range(0, count, step)]
    return round(sum(s == store.INVALIDATED for s in states) / len(states), 3)


def run(body, port, sizes, repeats=30):
    from django.db import connections

    from cache import redis_guard
    from cache.entry import PageCacheEntry

    connections.close_all()  # the primary was restarted by the faults part since
    template = PageCacheEntry.from_response(_Response(body), 0, TAGS, 0)
    redis_guard().client.flushdb()
    results, stored = {}, 0
    for size in sizes:
        started = time.monotonic()
        store_pages(stored, size, template, port)
        stored = size
        fill_seconds = time.monotonic() - started
        cost = time_invalidations(repeats)
        cost.update(cached_pages=size, redis_keys=redis_guard().client.dbsize(),
                    fill_seconds=round(fill_seconds, 1), invalidated_share_of_sample=invalid_share(size, port))
        results[str(size)] = cost
        log(f"invalidation with {size} pages cached: {cost['median_ms']} ms (median of {repeats})")
    first, last = (results[str(s)]["median_ms"] for s in (sizes[0], sizes[-1]))
    redis_guard().client.flushdb()
    return {"by_cached_pages": results, "large_over_small": round(last / first, 2) if first else None}


class _Response:
    """Just enough of an HttpResponse for PageCacheEntry.from_response."""

    def __init__(self, body):
        self.content, self.status_code = body, 200
        self._headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache"}

    def has_header(self, name):
        return name in self._headers

    def __getitem__(self, name):
        return self._headers[name]
