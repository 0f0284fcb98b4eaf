"""Hit / stale / miss / bypass counters: counted in each process and added
to Redis at most once a second by the process's invalidation-log poller
(cache/memory_sync.py: never a Redis call in a request), read by /readyz.

Every thread of a worker counts into one queue: appending to a deque is a
single atomic step, so the hit path takes no lock (the lock and Counter it
replaced were 2 % of a hit's CPU). The flush empties the queue one item at
a time (each `popleft` atomic too), so an answer counted meanwhile is taken
by this flush or the next, never lost; only the counts waiting for Redis,
kept when it is out, need the lock."""
import threading
import time
from collections import Counter, deque

from . import store
from .connection import redis_guard

OUTCOMES = ("hit", "stale", "miss", "bypass")  # counted as X-Cache says them (HIT...), reported lower-case
FLUSH_SECONDS = 1.0

_answers = deque()      # one outcome per answer, oldest first
_unsent = Counter()     # taken from the queue but not yet accepted by Redis
_lock = threading.Lock()
_last_flush = [time.monotonic()]


# Count one answer (any thread): `count("HIT")`. The deque's own append,
# not a function around it: one Python call fewer on every hit.
count = _answers.append


def flush_if_due():
    """Hand the counts to Redis if the last flush is a second old (the poller's loop)."""
    if time.monotonic() - _last_flush[0] >= FLUSH_SECONDS:
        flush()


def flush():
    with _lock:
        pending = _take_pending()
    _send(pending)


def _take_pending():
    """The counts so far, the queue emptied (under _lock: two flushes at
    once would both send what the first kept back for later)."""
    pending = Counter(_unsent)
    _unsent.clear()
    for _ in range(len(_answers)):
        pending[_answers.popleft().lower()] += 1
    _last_flush[0] = time.monotonic()
    return dict(pending)


def _send(pending):
    if pending and not store.increment_stats(pending):
        with _lock:
            _unsent.update(pending)  # Redis out: keep them for later


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
