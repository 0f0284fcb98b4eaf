"""The blog's settings, read lazily through small getters so that
`override_settings` works in tests. Defaults are documented in the README."""
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

POSTS_PER_PAGE = 10
SEARCH_MAX_LENGTH = 200
COMMENT_NAME_MAX_LENGTH = 80
COMMENT_BODY_MAX_LENGTH = 5000
# A comment form is a few KiB at most; anything bigger is refused before parsing.
COMMENT_MAX_REQUEST_BYTES = 32 * 1024
# The comment token's timestamp is rounded down to this, so every render of a
# page within the window carries the same bytes (stable ETags, one cache entry).
COMMENT_TOKEN_WINDOW = 3600

RATE_PERIODS = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "hour": 3600}
RATE_PATTERN = re.compile(r"^\s*(\d+)\s*/\s*([a-z]+)\s*$")


@dataclass(frozen=True)
class Rate:
    """At most `count` events per `seconds` window."""
    count: int
    seconds: int


def parse_rate(text, name):
    """`N/s`, `N/min`, `N/h` -> Rate; `off` (or empty) -> None."""
    if text is None or text.strip().lower() in {"", "off", "0"}:
        return None
    match = RATE_PATTERN.match(text.lower())
    if not match or match.group(2) not in RATE_PERIODS or int(match.group(1)) < 1:
        raise ImproperlyConfigured(f"{name} must look like 5/min, 10/s, 100/h or off, not {text!r}")
    return Rate(int(match.group(1)), RATE_PERIODS[match.group(2)])


def comment_rate_limit():
    return parse_rate(getattr(settings, "COMMENT_RATE_LIMIT", "5/min"), "COMMENT_RATE_LIMIT")


def search_rate_limit():
    return parse_rate(getattr(settings, "SEARCH_RATE_LIMIT", "30/min"), "SEARCH_RATE_LIMIT")


def comment_moderation():
    return bool(getattr(settings, "COMMENT_MODERATION", False))


def comment_token_max_age():
    """How long a comment form stays valid: comfortably longer than a cached
    page can live (TTL + grace), plus the rounding window, and at least a day
    so a reader who writes slowly is not refused."""
    ttl = int(getattr(settings, "PAGE_CACHE_TTL", 300))
    grace = int(getattr(settings, "PAGE_CACHE_GRACE", 60))
    return max(86400, 4 * (ttl + grace)) + COMMENT_TOKEN_WINDOW


def trusted_origins():
    return list(getattr(settings, "CSRF_TRUSTED_ORIGINS", []))


@dataclass(frozen=True)
class TrustedProxies:
    """The proxies in FORWARDED_ALLOW_IPS, as gunicorn reads them."""
    networks: tuple
    everyone: bool = False

    def trust(self, address):
        """`address` (an ipaddress object, or None) is one of these proxies."""
        return self.everyone or (address is not None and any(address in network for network in self.networks))


def trusted_proxies():
    return _parse_proxies(tuple(getattr(settings, "FORWARDED_ALLOW_IPS", ["127.0.0.1"])))


@lru_cache(maxsize=8)
def _parse_proxies(entries):
    try:
        networks = tuple(ipaddress.ip_network(entry.strip()) for entry in entries if entry.strip() != "*")
    except ValueError as error:
        raise ImproperlyConfigured(f"FORWARDED_ALLOW_IPS: {error} (IPs or networks such as 10.0.0.0/8, or *)") from error
    return TrustedProxies(networks, everyone=any(entry.strip() == "*" for entry in entries))
