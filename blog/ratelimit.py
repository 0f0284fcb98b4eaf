"""Per-client fixed-window rate limits, counted in Redis through Django's cache.

    decision = check("comment", client_address(request), conf.comment_rate_limit())
    if not decision.allowed: ... 429, Retry-After: decision.retry_after

When Redis is down the limit fails open (the request is allowed): a spam
burst during an outage is a smaller harm than refusing every reader. The
cache's short socket timeouts (settings.CACHES) keep that to milliseconds.
"""
import logging
import math
import time
from dataclasses import dataclass

from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0


ALLOWED = Decision(True)


def client_address(request):
    """The peer's address. Behind a proxy, the proxy must set REMOTE_ADDR
    (e.g. gunicorn's forwarded_allow_ips): X-Forwarded-For is never trusted here."""
    return request.META.get("REMOTE_ADDR") or "unknown"


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
