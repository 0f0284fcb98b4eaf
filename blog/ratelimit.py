"""Per-client fixed-window rate limits, counted in Redis through Django's cache,
and who the client is behind proxies (`client_address`, `client_ip`).

    decision = check("comment", client_address(request), conf.comment_rate_limit())
    if not decision.allowed: ... 429, Retry-After: decision.retry_after

When Redis is down the limit fails open (the request is allowed): a spam
burst during an outage is a smaller harm than refusing every reader. The
cache's short socket timeouts (settings.CACHES) keep that to milliseconds.
"""
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from . import conf

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0


ALLOWED = Decision(True)


def client_address(request):
    """The client's address, for rate-limit keys ("unknown" if not known)."""
    return client_ip(request) or "unknown"


def client_ip(request):
    """The client's IP address as text (None if not known): the
    peer's (REMOTE_ADDR), unless the peer is a proxy trusted in
    FORWARDED_ALLOW_IPS; then X-Forwarded-For, read from the right past the
    trusted proxies. The first hop no trusted proxy could have written is
    the client; whatever lies left of it the client sent itself, so a forged
    header moves nothing. A peer with no IP address (a Unix socket) is
    trusted, as gunicorn trusts it. The PROXY protocol needs none of this:
    gunicorn puts the client's own address in REMOTE_ADDR."""
    address = parse_address(request.META.get("REMOTE_ADDR") or "")
    proxies = conf.trusted_proxies()
    if address is not None and not proxies.trust(address):
        return str(address)
    for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        hop_address = parse_address(hop)
        if hop_address is None:
            break  # garbage: the last trusted proxy is all that is known
        address = hop_address
        if not proxies.trust(address):
            break
    return str(address) if address is not None else None


def parse_address(text):
    """An IP address from a REMOTE_ADDR or X-Forwarded-For hop ("1.2.3.4",
    "1.2.3.4:5678", "[2001:db8::1]:443"), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def check(scope, client, rate, now=None):
    """Count one event of `client` in `scope`; allowed while within `rate`."""
    if rate is None:
        return ALLOWED
    now = time.time() if now is None else now
    window = int(now // rate.seconds)
    key = f"ratelimit:{scope}:{rate.seconds}:{window}:{client}"
    try:
        cache.add(key, 0, timeout=rate.seconds + 1)
        count = cache.incr(key)
    except (ConnectionInterrupted, RedisError, OSError) as error:
        logger.warning("rate limit %s not enforced: Redis unavailable (%s)", scope, error)
        return ALLOWED
    except ValueError:  # the window's key expired between add and incr
        return ALLOWED
    if count <= rate.count:
        return ALLOWED
    return Decision(False, retry_after=max(1, math.ceil((window + 1) * rate.seconds - now)))
