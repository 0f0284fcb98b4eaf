"""System check: the memory tier serves only while its last complete read
of the invalidation log is younger than PAGE_CACHE_MEMORY_SECONDS, so one
read (its wait in Redis, or the time between two reads) and its round trip
must end well inside that, or the tier would stop serving between reads."""
from django.core import checks

from . import conf

ROUND_TRIP_ALLOWANCE = 0.1  # seconds: a loaded worker's round trip, and its thread's wait for the GIL


@checks.register()
def log_reads_keep_the_tier_usable(app_configs, **kwargs):
    longest = max(conf.memory_wait_seconds(), conf.memory_poll_seconds()) + ROUND_TRIP_ALLOWANCE
    if longest > conf.memory_tier_seconds():
        return [checks.Error(
            f"PAGE_CACHE_MEMORY_WAIT and PAGE_CACHE_MEMORY_POLL ({conf.memory_wait_seconds():g}s, "
            f"{conf.memory_poll_seconds():g}s) must both stay {ROUND_TRIP_ALLOWANCE:g}s under "
            f"PAGE_CACHE_MEMORY_SECONDS ({conf.memory_tier_seconds():g}s): the memory tier would "
            f"stop serving between two reads of the invalidation log.",
            hint="Lower PAGE_CACHE_MEMORY_WAIT or PAGE_CACHE_MEMORY_POLL.",
            id="page_cache.E001",
        )]
    return []
