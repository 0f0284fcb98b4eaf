"""A tiny URLconf for routing tests: one read and one write of a real table
(auth_group), through the real middleware and router."""
from django.contrib.auth.models import Group
from django.db import connections
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

import routing


def read(request):
    names = sorted(Group.objects.values_list("name", flat=True))
    position = routing.current()
    return JsonResponse({"names": names, "alias": position.alias, "why": position.why})


@csrf_exempt
def write(request):
    Group.objects.create(name=request.POST["name"])
    return HttpResponseRedirect("/probe/read/", status=303)


def nothing(request):
    return HttpResponse("no database at all")


def lose_connection_midway(request):
    """Read once, then lose this replica connection (the server terminates
    it, as a crashing or restarting replica would), then read again."""
    first = list(Group.objects.values_list("name", flat=True))
    alias = routing.current().alias
    if alias != "default" and not getattr(request, "already_failed", False):
        request.already_failed = True
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    second = list(Group.objects.values_list("name", flat=True))
    return JsonResponse({"first": first, "second": second, "alias": routing.current().alias,
                         "excluded": sorted(routing.current().excluded)})


urlpatterns = [
    path("probe/read/", read),
    path("probe/write/", write),
    path("probe/nothing/", nothing),
    path("probe/lose-connection/", lose_connection_midway),
    path("", include("urls")),
]
