"""Keeps this process's memory tier in step with invalidations: a thread
reads Redis's invalidation log (cache/store.py `read_invalidations`) and
drops the pages whose tags it names.

Each read waits in Redis for the next entry, up to PAGE_CACHE_MEMORY_WAIT
(0.3 s; XREAD BLOCK): an invalidation reaches the tier as soon as it is
recorded, and a worker with nothing to hear asks about three times a
second (it asked every 0.1 s before: a third of the Redis commands now,
and fewer wake-ups; docs/performance.md). Reads start at least
PAGE_CACHE_MEMORY_POLL (0.1 s) apart, so a burst of invalidations costs
no more reads than that. A read that waited its whole wait for nothing
proves the log empty until the wait's end, so the tier counts itself in
step until then (`synced_as_of`); the wait must stay well under
PAGE_CACHE_MEMORY_SECONDS, or the tier would stop serving between two
reads (a system check, `cache/checks.py`). A failed read does not open
the requests' Redis guard (cache/store.py says why).

Whenever the log cannot be trusted to be complete since the last read, the
tier is cleared instead: a new cache generation (Redis came back from an
outage), a new epoch (Redis lost its data), or a gap (the log was trimmed
past the last entry read, or more arrived since the last read than one read
takes). While polls fail the tier simply ages out of use
(cache/memory.py serves nothing on knowledge older than 0.5 s).
"""
import logging
import os
import threading
import time

from . import conf, memory, stats, store

logger = logging.getLogger(__name__)


class LogPosition:
    """Where this process is in the invalidation log, and which Redis data it read."""

    def __init__(self):
        self.last_id = None       # None: not read yet; start from the log's end
        self.generation = None
        self.epoch = None


def poll_once(position, tier=None, wait=0.0):
    """One read of the log (waiting up to `wait` seconds for an entry),
    applied to the tier; False if Redis did not answer."""
    tier = memory.tier if tier is None else tier  # not `or`: an empty tier is falsy (it has a len)
    started = time.monotonic()
    batch = store.read_invalidations(position.last_id, wait)
    if batch is None:
        return False
    if (batch.generation, batch.epoch) != (position.generation, position.epoch) or batch.gap:
        tier.clear()
        position.generation, position.epoch = batch.generation, batch.epoch
    elif batch.tags:
        tier.drop_tags(batch.tags)
    position.last_id = batch.last_id
    tier.mark_synced(synced_as_of(started, wait, batch.waited_out))
    return True


def synced_as_of(started, wait, waited_out):
    """Until when the log is known to hold nothing the tier has not applied.

    A read started at `started` sees every entry recorded before it. One
    that Redis held for its whole `wait` and that came back empty saw more:
    an entry recorded before Redis let it go would have ended the wait, and
    Redis lets it go no sooner than `wait` after it arrived (which is after
    `started`). That holds only if Redis's clock kept pace with ours, so
    the read must also have taken the wait by our clock."""
    if waited_out and time.monotonic() - started >= wait:
        return started + wait
    return started


class Poller:
    def __init__(self):
        self.position = LogPosition()
        self._thread = None
        self._starting = threading.Lock()  # two threads' first requests at once start one poller
        self._failing = set()  # the steps whose failure was reported and has not ended

    def start(self):
        with self._starting:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="page-cache-sync", daemon=True)
                self._thread.start()

    def _run(self):
        while True:
            started = time.monotonic()
            # A read that failed returns at once: wait before the next
            # anyway, or a Redis outage would spin this thread.
            self.tick(conf.memory_wait_seconds())
            time.sleep(max(0.0, started + conf.memory_poll_seconds() - time.monotonic()))

    def tick(self, wait=0.0):
        """One read of the log, then the hit counters' flush whatever the
        read did: the counters queue one item per answer until a flush
        takes them."""
        self._guarded(lambda: poll_once(self.position, wait=wait), "memory tier sync failed")
        self._guarded(stats.flush_if_due, "counter flush failed")

    def _guarded(self, step, failure):
        """Run `step`, surviving anything (the tier ages out of use meanwhile);
        a failure is reported once when it starts, not at every read."""
        try:
            step()
            self._failing.discard(failure)
        except Exception:
            if failure not in self._failing:
                logger.exception("page cache: %s", failure)
            self._failing.add(failure)


_poller = Poller()


def ensure_running():
    """Start this process's poller (once per process: a forked child starts
    its own). Called on every request: the unlocked test is here, not in a
    method; `start` tests again under its lock."""
    if _poller._thread is None:
        _poller.start()


def _forget_after_fork():
    global _poller
    _poller = Poller()


os.register_at_fork(after_in_child=_forget_after_fork)
