"""Hit / stale / miss / bypass counters: counted in each process and added
to Redis at most once a second (never a Redis call per hit), read by /readyz."""
import threading
import time
from collections import Counter

from . import store
from .connection import redis_guard

OUTCOMES = ("hit", "stale", "miss", "bypass")
FLUSH_SECONDS = 1.0

_counts = Counter()
_lock = threading.Lock()
_last_flush = [time.monotonic()]


def count(outcome):
    _counts[outcome] += 1
    if time.monotonic() - _last_flush[0] >= FLUSH_SECONDS:
        flush()


def flush():
    with _lock:
        pending = dict(_counts)
        _counts.clear()
        _last_flush[0] = time.monotonic()
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
