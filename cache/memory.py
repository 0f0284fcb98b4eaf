"""The per-process tier in front of Redis: the pages this worker served
lately, kept until an invalidation of a tag they show (or their TTL, or the
byte budget) drops them.

An entry may live long here only because the tier follows every
invalidation: cache/memory_sync.py reads Redis's invalidation log every
0.1 s and drops what it names. The tier serves nothing while that knowledge
is older than PAGE_CACHE_MEMORY_SECONDS (0.5 s: a slow poll, Redis out), so
it adds at most that much staleness, inside SPEC's extra second.

Threads (gthread workers) share the tier. The hit path takes no lock:
`_entries` is only ever touched by single OrderedDict calls (get,
move_to_end, pop, popitem, clear), each atomic with respect to the others,
and nothing iterates it (an OrderedDict reordered during a walk raises).
Everything that changes more than `_entries` (bytes, tag index, version)
happens under the lock.

Only entries Redis has just confirmed fresh go in, and only if no
invalidation was applied between that lookup and the put (`observed()`
before the lookup, `put(..., observed=...)` after): an entry can never slip
in after the poll that should have dropped it.
"""
import os
import threading
import time
from collections import OrderedDict

from . import conf


def entry_bytes(entry):
    """What an entry costs: its gzip body and the identity body it may
    decode (gzip's last four bytes hold that length)."""
    return len(entry.gzip_body) + int.from_bytes(entry.gzip_body[-4:], "little")


class MemoryTier:
    def __init__(self):
        self._lock = threading.Lock()
        self._entries = OrderedDict()   # page key -> entry, least recently served first
        self._by_tag = {}               # tag -> page keys showing it
        self._bytes = 0
        self.version = 0                # bumped by every drop an invalidation causes
        self.synced_at = 0.0            # monotonic start of the newest complete poll
        self.usable_until = 0.0         # synced_at + PAGE_CACHE_MEMORY_SECONDS

    # --- the hit path -------------------------------------------------------
    def get(self, page_key, min_lsn):
        """The entry for `page_key` if it may be served to a request pinned at `min_lsn`."""
        if time.monotonic() > self.usable_until:
            return None  # the tier may have missed an invalidation: Redis decides
        entry = self._entries.get(page_key)
        if entry is None or entry.snapshot_lsn < min_lsn or entry.fresh_until <= time.time():
            return None
        try:
            self._entries.move_to_end(page_key)
        except KeyError:
            pass  # dropped meanwhile by the poller: serving this copy once is within the bound
        return entry

    def observed(self):
        """Take before a Redis lookup whose entry may be put here."""
        return self.version

    def put(self, page_key, entry, observed):
        if entry.status != 200:
            return  # 404s live a second in Redis only
        size = entry_bytes(entry)
        with self._lock:
            if observed != self.version or size > conf.memory_tier_bytes():
                return
            current = self._entries.get(page_key)
            if current is not None and current.snapshot_lsn > entry.snapshot_lsn:
                return  # never replace a copy with an older snapshot
            self._remove(page_key)
            self._entries[page_key] = entry
            self._bytes += size
            for tag in entry.tags:
                self._by_tag.setdefault(tag, set()).add(page_key)
            while self._bytes > conf.memory_tier_bytes():
                self._forget(*self._entries.popitem(last=False))  # the least recently served

    # --- the poller's side ----------------------------------------------------
    def drop_tags(self, tags):
        with self._lock:
            self.version += 1
            if "all" in tags:
                self._clear()
                return
            for tag in tags:
                for page_key in list(self._by_tag.get(tag, ())):
                    self._remove(page_key)

    def mark_synced(self, poll_started):
        """Every invalidation recorded before `poll_started` has been applied."""
        self.synced_at = poll_started
        self.usable_until = poll_started + conf.memory_tier_seconds()

    def clear(self):
        """Forget everything and serve nothing until the next complete poll."""
        with self._lock:
            self.version += 1
            self.synced_at = self.usable_until = 0.0
            self._clear()

    def __len__(self):
        return len(self._entries)

    @property
    def size_bytes(self):
        return self._bytes

    # --- internals (under the lock) -------------------------------------------
    def _remove(self, page_key):
        entry = self._entries.pop(page_key, None)
        if entry is not None:
            self._forget(page_key, entry)

    def _forget(self, page_key, entry):
        """Account for an entry taken out of `_entries`."""
        self._bytes -= entry_bytes(entry)
        for tag in entry.tags:
            keys = self._by_tag.get(tag)
            if keys is not None:
                keys.discard(page_key)
                if not keys:
                    del self._by_tag[tag]

    def _clear(self):
        self._entries.clear()
        self._by_tag.clear()
        self._bytes = 0


tier = MemoryTier()


def clear():
    tier.clear()


def _forget_after_fork():
    # A child must not trust what its parent's poller saw: it starts empty,
    # and its own poller (cache/memory_sync.py) starts on first use.
    global tier
    tier = MemoryTier()


os.register_at_fork(after_in_child=_forget_after_fork)
