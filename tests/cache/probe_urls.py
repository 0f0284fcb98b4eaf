"""A tiny URLconf for page cache tests: cacheable views over a real table
(auth_group) that declare their tags and parameters like the blog's do."""
from django.contrib.auth.models import Group
from django.http import Http404, HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

import routing
from cache import cacheable, invalidate, tag_page


def describe(request, names):
    position = routing.current()
    page = request.GET.get("page", "1")
    return HttpResponse(
        f"<html><body>page {page}: {', '.join(names)} "
        f"<!-- read from {position.alias if position else '-'} -->" + " filler" * 200 + "</body></html>")


@cacheable(params=("page",))
def groups(request):
    tag_page(request, "groups")
    return describe(request, sorted(Group.objects.values_list("name", flat=True)))


@cacheable(bypass=("notice",))
def group(request, name):
    tag_page(request, f"group:{name}")
    if not Group.objects.filter(name=name).exists():
        raise Http404("no such group")
    return describe(request, [name])


@cacheable()
def private(request):
    response = HttpResponse("mine")
    response["Cache-Control"] = "private"
    return response


@cacheable()
def sets_cookie(request):
    response = HttpResponse("here is a cookie")
    response.set_cookie("flavour", "oat")
    return response


def not_cacheable(request):
    return HttpResponse("never cached")


@csrf_exempt
def add_group(request):
    Group.objects.create(name=request.POST["name"])
    invalidate("groups", f"group:{request.POST['name']}")
    return HttpResponse("added", status=201)


urlpatterns = [
    path("c/groups/", groups),
    path("c/group/<str:name>/", group),
    path("c/private/", private),
    path("c/cookie/", sets_cookie),
    path("c/plain/", not_cacheable),
    path("c/add/", add_group),
    path("", include("urls")),
]
