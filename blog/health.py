"""Liveness and readiness endpoints (SPEC: /healthz, /readyz)."""
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """200 whenever the process serves; touches no database."""
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def readyz(request):
    return JsonResponse({"status": "ok"})
