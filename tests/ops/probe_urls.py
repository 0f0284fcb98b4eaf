"""A tiny URLconf for ops tests (in-process and under gunicorn): a read, a
write, a page the cache may keep, a slow query and an unhandled error that
has a reader's email and address at hand, as a comment view would; and
the functions a request runs under."""
import inspect
import logging

from django.contrib.auth.models import Group
from django.db import connections, router
from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

import routing
from cache import cacheable, tag_page

logger = logging.getLogger("blog")


def read(request):
    names = sorted(Group.objects.values_list("name", flat=True))
    return JsonResponse({"names": names, "alias": routing.current().alias})


def three_queries(request):
    for _ in range(3):
        Group.objects.exists()
    return JsonResponse({"alias": routing.current().alias})


@csrf_exempt
def write(request):
    Group.objects.create(name=request.POST["name"])
    return HttpResponse("written", status=201)


@cacheable()
def cached_page(request):
    tag_page(request, "groups")
    return HttpResponse(f"<p>{Group.objects.count()} groups</p>")


def slow(request):
    """One statement that takes `seconds` on the server the request reads from."""
    alias = router.db_for_read(Group)
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [float(request.GET.get("seconds", "0.05"))])
    return JsonResponse({"alias": alias})


@csrf_exempt
def boom(request):
    """Fails after reading, with personal data in its local variables."""
    commenter_email = request.POST.get("email", "reader@example.com")
    client_address = request.META.get("HTTP_X_FORWARDED_FOR", "203.0.113.7")
    names = list(Group.objects.values_list("name", flat=True))
    logger.info("thanking %s at %s", commenter_email, client_address)  # becomes a breadcrumb
    raise RuntimeError(f"could not thank {commenter_email} from {client_address} ({len(names)} groups)")


def stack(request):
    """The qualified names of the functions this request is running under."""
    return JsonResponse({"functions": [frame.f_code.co_qualname for frame, *_ in inspect.stack(context=0)]})


urlpatterns = [
    path("ops-probe/read/", read),
    path("ops-probe/three-queries/", three_queries),
    path("ops-probe/write/", write),
    path("ops-probe/cached/", cached_page),
    path("ops-probe/slow/", slow),
    path("ops-probe/boom/", boom),
    path("ops-probe/stack/", stack),
    path("", include("urls")),
]
