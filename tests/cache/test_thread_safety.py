"""The per-process parts of the page cache under gthread: many threads of one
worker hit the memory tier and count outcomes at once, while others fill it
and the poller drops from it. Stress tests: each fails (an exception, lost
counts) on the unsafe versions of the code they guard."""
import gzip
import sys
import threading
import time
from collections import OrderedDict

import pytest

from cache import memory, stats
from cache.entry import PageCacheEntry

PAGES = [f"/page-{number}/" for number in range(40)]
BUDGET = 1024 * 1024


@pytest.fixture
def frequent_thread_switches():
    """Switch threads every microsecond, so that races show within a second."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def run_threads(*targets):
    """Run each target in its own thread; the exceptions they raised."""
    errors = []

    def guarded(target):
        try:
            target()
        except Exception as error:  # the test reports whatever a thread hit
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


class SlowToWalk(OrderedDict):
    """The tier's LRU, except that a walk over it lets other threads run
    between its start and its first step, as a busy machine would: it widens
    the window in which a reordering makes the walk raise."""

    def __iter__(self):
        walk = super().__iter__()
        time.sleep(0)
        yield from walk


def big_entry(tags):
    """An entry costing 1/39 of the budget (its identity body, mostly)."""
    body = b"<p>" + b"x" * (BUDGET // 39 - 100) + b"</p>"
    return PageCacheEntry(status=200, headers=[("Content-Type", "text/html")],
                          gzip_body=gzip.compress(body, mtime=0), etag="e", snapshot_lsn=1,
                          tags=tuple(tags), fresh_until=time.time() + 600)


def test_hits_fills_and_drops_from_many_threads_never_raise(frequent_thread_switches, monkeypatch):
    """Check that hits (which reorder the LRU), fills (which evict from it) and
    the poller's drops, all at once from different threads, never raise:
    an OrderedDict walked while another thread reorders it raises RuntimeError,
    which under gthread is a 500 for the reader."""
    # Room for 39 of the 40 pages: most gets hit, most puts evict.
    monkeypatch.setattr(memory.conf, "memory_tier_bytes", lambda: BUDGET)
    tier = memory.MemoryTier()
    tier.mark_synced(time.monotonic() + 3600)
    tier._entries = SlowToWalk()
    entries = {page: big_entry(tags=("post:1", page)) for page in PAGES}

    def reader():
        for turn in range(100_000):
            tier.get(PAGES[turn % len(PAGES)], 0)

    def filler():
        for turn in range(10_000):
            page = PAGES[turn % len(PAGES)]
            tier.put(page, entries[page], tier.observed())

    def poller():
        for turn in range(500):
            tier.drop_tags({PAGES[turn % len(PAGES)]})

    errors = run_threads(reader, reader, reader, filler, filler, poller)
    assert errors == []
    assert tier.size_bytes <= BUDGET
    assert tier.size_bytes == sum(memory.entry_bytes(entries[page]) for page in PAGES if tier._entries.get(page))


def test_outcomes_counted_from_many_threads_are_all_counted(frequent_thread_switches, monkeypatch):
    """Check that every outcome counted by concurrent threads reaches Redis's
    totals exactly once, flushes included (an increment between a flush's copy
    and its reset was lost)."""
    sent, counting, flushing = [], [4], threading.Event()
    monkeypatch.setattr(stats.store, "increment_stats", lambda counts: sent.append(counts) or True)
    stats.flush()
    sent.clear()

    def counter():
        flushing.wait()  # else a busy machine may run every count before the flusher starts
        for _ in range(50_000):
            stats.count("hit")
        counting[0] -= 1

    def flusher():  # flushes all along: the most chances to race with the counting
        flushing.set()
        while counting[0]:
            stats.flush()

    assert run_threads(flusher, counter, counter, counter, counter) == []
    stats.flush()
    assert len(sent) > 1
    assert sum(counts.get("hit", 0) for counts in sent) == 4 * 50_000


def test_counts_redis_did_not_take_are_sent_with_the_next_flush(monkeypatch):
    """Check that while Redis is out the counts are kept, and the first
    flush it accepts carries them with the new ones."""
    accepted = []
    stats.flush()
    monkeypatch.setattr(stats.store, "increment_stats", lambda counts: False)
    stats.count("HIT"), stats.count("MISS")
    stats.flush()
    monkeypatch.setattr(stats.store, "increment_stats", lambda counts: accepted.append(counts) or True)
    stats.count("HIT")
    stats.flush()
    assert accepted == [{"hit": 2, "miss": 1}]
