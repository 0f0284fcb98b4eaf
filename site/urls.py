"""URL map of the whole site: readers' pages, the admin, health endpoints."""
from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path

from ops import health


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says (the admin, feeds): point them at ours."""
    return HttpResponsePermanentRedirect(static("blog/favicon.svg"))


urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("", include("blog.urls")),
]
