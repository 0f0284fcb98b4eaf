"""Keeps this process's memory tier in step with invalidations: a thread
reads Redis's invalidation log (cache/store.py `read_invalidations`) every
PAGE_CACHE_MEMORY_POLL seconds and drops the pages whose tags it names.

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


def poll_once(position, tier=None):
    """One read of the log, applied to the tier; False if Redis did not answer."""
    tier = tier or memory.tier
    started = time.monotonic()
    batch = store.read_invalidations(position.last_id)
    if batch is None:
        return False
    if (batch.generation, batch.epoch) != (position.generation, position.epoch) or batch.gap:
        tier.clear()
        position.generation, position.epoch = batch.generation, batch.epoch
    elif batch.tags:
        tier.drop_tags(batch.tags)
    position.last_id = batch.last_id
    tier.mark_synced(started)
    return True


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
            self.tick()
            time.sleep(conf.memory_poll_seconds())

    def tick(self):
        """One poll, then the hit counters' flush whatever the poll did: the
        counters queue one item per answer until a flush takes them."""
        self._guarded(lambda: poll_once(self.position), "memory tier sync failed")
        self._guarded(stats.flush_if_due, "counter flush failed")

    def _guarded(self, step, failure):
        """Run `step`, surviving anything (the tier ages out of use meanwhile);
        a failure is reported once when it starts, not ten times a second."""
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
