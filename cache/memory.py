"""A tiny per-process tier in front of Redis for the hottest pages.

Entries live PAGE_CACHE_MEMORY_SECONDS (0.5 s): with the 0.25 s health poll
that stays inside SPEC's extra second of staleness. Only entries Redis has
just confirmed fresh go in, so the tier never serves what Redis would not.
"""
import time

from . import conf

MAX_ENTRIES = 2048
_entries = {}


def get(page_key):
    found = _entries.get(page_key)
    if found is None:
        return None
    expires, entry = found
    if time.monotonic() >= expires:
        _entries.pop(page_key, None)
        return None
    return entry


def put(page_key, entry):
    if entry.status != 200:
        return  # 404s live a second in Redis only
    if len(_entries) >= MAX_ENTRIES:
        _entries.clear()  # cheap and rare: the hot set refills within a second
    _entries[page_key] = (time.monotonic() + conf.memory_tier_seconds(), entry)


def clear():
    _entries.clear()
