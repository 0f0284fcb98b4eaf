"""Hit / stale / miss / bypass counters: counted in each process and added
to Redis at most once a second by the process's invalidation-log poller
(cache/memory_sync.py: never a Redis call in a request), read by /readyz.
Every thread of a worker counts into the same Counter, so each change to it
(an increment, the copy-and-reset of a flush) happens under one lock."""
import threading
import time
from collections import Counter

from . import store
from .connection import redis_guard

OUTCOMES = ("hit", "stale", "miss", "bypass")  # counted as X-Cache says them (HIT...), reported lower-case
FLUSH_SECONDS = 1.0

_counts = Counter()
_lock = threading.Lock()
_last_flush = [time.monotonic()]


def count(outcome):
    """Count one answer (any thread)."""
    with _lock:
        _counts[outcome] += 1


def flush_if_due():
    """Hand the counts to Redis if the last flush is a second old (the poller's loop)."""
    if time.monotonic() - _last_flush[0] >= FLUSH_SECONDS:
        flush()


def flush():
    with _lock:
        pending = _take_pending()
    _send(pending)


def _take_pending():
    """The counts so far, reset (under _lock: an increment between the copy
    and the reset would be lost)."""
    pending = Counter()
    for outcome, count in _counts.items():
        pending[outcome.lower()] += count
    pending = dict(pending)
    _counts.clear()
    _last_flush[0] = time.monotonic()
    return pending


def _send(pending):
    if pending and not store.increment_stats(pending):
        with _lock:
            _counts.update(pending)  # Redis out: keep them for later


def count_render():
    """Renders of cacheable pages, counted at once (the stampede check reads it)."""
    store.increment_stats({"render": 1})


def totals():
    """Counters across every process (flushed so far) plus this one's pending."""
    flush()
    found = store.read_stats()
    return {name: found.get(name, 0) for name in OUTCOMES}


def status():
    """For /readyz: (whether Redis answers, through the guard; the counters)."""
    counters = totals()  # one round trip, which also tells whether Redis answers
    return not redis_guard().is_open, counters
