"""Page cache settings, read lazily (so `override_settings` works in tests)."""
from django.conf import settings


def redis_url():
    return settings.REDIS_URL


def redis_timeouts():
    """(connect, socket) timeouts in seconds: the rate limits' cache backend's
    (settings.CACHES), so every Redis client of the site fails equally fast."""
    options = settings.CACHES["default"]["OPTIONS"]
    return float(options["SOCKET_CONNECT_TIMEOUT"]), float(options["SOCKET_TIMEOUT"])


def app_version():
    return getattr(settings, "APP_VERSION", "dev")


def ttl():
    return int(getattr(settings, "PAGE_CACHE_TTL", 300))


def grace():
    return int(getattr(settings, "PAGE_CACHE_GRACE", 60))


def not_found_ttl():
    """404s are kept briefly: a second, so a page published meanwhile shows within bound B."""
    return float(getattr(settings, "PAGE_CACHE_404_TTL", 1.0))


def lsn_gating():
    """Refuse fills from snapshots behind an invalidation; off only to show the hazard in tests."""
    return bool(getattr(settings, "PAGE_CACHE_LSN_GATING", True))


def memory_tier_seconds():
    """The most staleness the per-process tier may add: it serves nothing while
    its knowledge of invalidations is older than this. With the health poll
    interval it must fit in SPEC's extra second (0.5 s + 0.25 s)."""
    return float(getattr(settings, "PAGE_CACHE_MEMORY_SECONDS", 0.5))


def memory_poll_seconds():
    """The least time between the starts of two reads of the invalidation
    log by one process (a burst of invalidations costs no more reads)."""
    return float(getattr(settings, "PAGE_CACHE_MEMORY_POLL", 0.1))


def memory_wait_seconds():
    """The longest one read of the invalidation log waits in Redis for an
    entry. A read that waited it out proves the tier in step until its end,
    and the next one must end before the tier's knowledge is too old: well
    under memory_tier_seconds() (cache/checks.py)."""
    return float(getattr(settings, "PAGE_CACHE_MEMORY_WAIT", 0.3))


def memory_tier_bytes():
    """Each process's memory tier budget (gzip and identity bodies)."""
    return int(getattr(settings, "PAGE_CACHE_MEMORY_MB", 64)) * 1024 * 1024


def lease_seconds():
    return float(getattr(settings, "PAGE_CACHE_LEASE_SECONDS", 5.0))


def fill_wait_seconds():
    """How long a miss waits for another request's fill before rendering itself.
    A fill that fails releases its lease at once, so waiting only costs time
    while a render is really running."""
    return float(getattr(settings, "PAGE_CACHE_FILL_WAIT", 3.0))

