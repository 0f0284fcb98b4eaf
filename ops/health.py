"""Liveness and readiness endpoints: /healthz, /readyz (docs/guarantees.md).

Both are cheap enough for a load balancer to call every second from every
node: /healthz touches nothing; /readyz reads this process's view of the
servers (kept fresh by its background poller, routing.health: no query of
its own) and reads the cache counters from Redis, which is also how it
learns whether Redis answers (through the cache's guarded connection:
nothing while it is open). Neither is ever cached (no @cacheable, `no-cache` headers),
and /readyz answers 503, never 500, when it cannot tell.
"""
import logging

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

import cache
import routing

logger = logging.getLogger(__name__)


@never_cache
def healthz(request):
    """200 whenever the process serves; touches no database."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def readyz(request):
    """200 while reads can be served ("ok", or "degraded" with a server out),
    503 when they cannot ("down")."""
    try:
        report = readiness()
    except Exception:  # a probe must answer: a 500 would read as a crash, and hide the cause
        logger.exception("readiness could not be determined")
        return JsonResponse({"status": "down", "version": settings.APP_VERSION}, status=503)
    return JsonResponse(report, status=503 if report["status"] == "down" else 200)


def readiness():
    servers = routing.servers()
    redis_up, counters = cache.status()
    return {
        "status": status_of(servers, redis_up),
        "version": settings.APP_VERSION,
        "primary": servers["primary"],
        "replicas": servers["replicas"],
        "redis": {"up": redis_up},
        "cache": counters,
    }


def status_of(servers, redis_up):
    """down: no server can serve a read; degraded: something is out; ok.
    A replica alias whose member leads now (after a promotion) is the
    primary, not a replica out of rotation."""
    primary_up = servers["primary"]["up"]
    standbys = [replica for replica in servers["replicas"] if replica["role"] != "primary"]
    if not primary_up and not any(replica["up"] for replica in standbys):
        return "down"
    if not primary_up or not redis_up or not all(replica["in_rotation"] for replica in standbys):
        return "degraded"
    return "ok"
