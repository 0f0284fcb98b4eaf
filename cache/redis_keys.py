"""The page cache's names in Redis, defined once (the Lua scripts in
cache/scripts.py spell the same ones)."""
import time

from . import conf

GENERATION_KEY = "pc:gen"        # bumped after an outage: every entry before it is unreachable
EPOCH_KEY = "pc:epoch"           # a new one means Redis lost its data
LOG_KEY = "pc:invlog"            # the invalidation log the memory tiers follow
LOG_LENGTH = 10_000              # entries the log keeps, about (trimmed by every XADD)
STATS_KEY = "pc:stats"           # hit / stale / miss / bypass / render counters
ALL_TAG = "all"                  # every page shows it implicitly (raised after an outage)
RESETTING_KEY = "pc:resetting"   # set while the cache starts afresh: no fill is stored
TIMELINE_KEY = "pc:timeline"     # the newest primary timeline the cache started afresh for


def key_prefix():
    """Entries: <prefix><generation>:<page key>."""
    return f"pc:{conf.app_version()}:"


def tag_key(tag):
    return f"pc:tag:{tag}"


def lease_key(full_key):
    return f"pc:lease:{full_key}"


def now_ms():
    return int(time.time() * 1000)
