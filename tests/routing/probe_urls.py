"""A tiny URLconf for routing tests: one read and one write of a real table
(auth_group), writes of the shapes SQL parsing missed, and reads that only
look like writes, through the real middleware and router."""
from django.contrib.auth.models import Group
from django.db import connections, transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

import routing
from blog.models import Post

CTE_INSERT = "WITH added AS (INSERT INTO auth_group (name) VALUES (%s) RETURNING id) SELECT id FROM added"
LOCK_FOR_UPDATE = "SELECT id FROM auth_group WHERE name = %s FOR UPDATE"
# tests/routing/test_write_detection.py creates the function on the primary.
VOLATILE_CALL = "SELECT probe_add_group(%s)"


def read(request):
    names = sorted(Group.objects.values_list("name", flat=True))
    position = routing.current()
    return JsonResponse({"names": names, "alias": position.alias, "why": position.why})


def read_past(request):
    """A read that must reach the WAL position `?lsn=` before its first
    query, as a refill after an invalidation must (the page cache's
    middleware requires it the same way), and whether it waited for one."""
    position = routing.current()
    position.require(int(request.GET["lsn"]))
    names = sorted(Group.objects.values_list("name", flat=True))
    return JsonResponse({"names": names, "alias": position.alias, "why": position.why,
                         "waited": bool(position.wait_deadline)})


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


class RolledBack(Exception):
    pass


def on_primary(sql, name):
    with connections["default"].cursor() as cursor:
        cursor.execute(sql, [name])
        return cursor.fetchall()


def roll_back_a_write(name):
    try:
        with transaction.atomic():
            Group.objects.create(name=name)
            raise RolledBack
    except RolledBack:
        pass


def write_in_a_released_savepoint(name):
    with transaction.atomic():
        Group.objects.filter(name="nothing").exists()
        with transaction.atomic():  # SAVEPOINT ... RELEASE SAVEPOINT
            Group.objects.create(name=name)


SHAPES = {
    "cte-insert": lambda name: on_primary(CTE_INSERT, name),
    "select-for-update": lambda name: on_primary(LOCK_FOR_UPDATE, name),
    "volatile-function": lambda name: on_primary(VOLATILE_CALL, name),
    "released-savepoint": write_in_a_released_savepoint,
    "rolled-back": roll_back_a_write,
    "search": lambda name: list(Post.objects.search(name).values_list("pk", flat=True)),
}


@csrf_exempt
def shape(request, shape):
    """Run one of SHAPES on the primary (a POST reads there too)."""
    SHAPES[shape](request.POST["name"])
    return HttpResponse(shape)


urlpatterns = [
    path("probe/shape/<str:shape>/", shape),
    path("probe/read/", read),
    path("probe/read-past/", read_past),
    path("probe/write/", write),
    path("probe/nothing/", nothing),
    path("probe/lose-connection/", lose_connection_midway),
    path("", include("urls")),
]
