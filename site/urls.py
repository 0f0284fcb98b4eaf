"""URL map of the whole site: readers' pages, the admin, health endpoints."""
from django.contrib import admin
from django.urls import include, path

from blog import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("", include("blog.urls")),
]
