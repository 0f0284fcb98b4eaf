"""Routing settings, read lazily so that `override_settings` works in tests."""
from django.conf import settings

PRIMARY = "default"
# The read-your-writes pin (routing/pin.py) and the login marker (routing/login_marker.py).
PIN_COOKIE = "pin"
LOGIN_MARKER_COOKIE = "signedin"
# The staleness bound is B = L + this, L the lag of the slowest replica in
# rotation (docs/guarantees.md): what the per-process tiers, the health poll
# and a refill may add on top of replication itself.
STALENESS_EXTRA_SECONDS = 1.0


def replica_aliases():
    return list(getattr(settings, "REPLICA_ALIASES", [a for a in settings.DATABASES if a != PRIMARY]))


def pinning_enabled():
    """Read-your-writes pinning; switched off only to demonstrate the hazard in tests."""
    return getattr(settings, "ROUTING_PIN_WRITES", True)


def pin_max_age():
    return float(getattr(settings, "PIN_MAX_AGE", 30))


_pin_max_age = []


def pin_max_age_cached():
    """PIN_MAX_AGE for the page cache's fast path, which verifies pins on
    every pinned request: read once (forget_cached_settings on a change)."""
    if not _pin_max_age:
        _pin_max_age.append(pin_max_age())
    return _pin_max_age[0]


def forget_cached_settings(setting, **kwargs):
    """setting_changed receiver."""
    if setting == "PIN_MAX_AGE":
        _pin_max_age.clear()


def max_lag_seconds():
    return float(getattr(settings, "MAX_REPLICA_LAG_SECONDS", 10))


def max_lag_bytes():
    return int(getattr(settings, "MAX_REPLICA_LAG_BYTES", 16 * 1024 * 1024))


def health_interval():
    return float(getattr(settings, "REPLICA_HEALTH_INTERVAL", 0.25))


# A worker adopting the poll another worker made for all of them
# (routing/shared_health.py) looks for it this many times per poll.
LOOKS_PER_POLL = 4


def health_view_age():
    """How old a process's view of the servers can be: one poll interval,
    plus the wait until a worker sharing the poll looks at it."""
    return health_interval() * (1 + 1 / LOOKS_PER_POLL)


def secure_cookies():
    return bool(getattr(settings, "HTTPS", False))
