"""Readers' URLs (SPEC "Reader-facing contract")."""
from django.urls import path, register_converter

from . import comment_views, feeds, views


class YearConverter:
    regex = "[1-9][0-9]{3}"
    to_python = int

    def to_url(self, value):
        return f"{int(value):04d}"


class MonthConverter:
    """Two digits, 01 to 12: `/archive/2026/03/`."""
    regex = "0[1-9]|1[0-2]"
    to_python = int

    def to_url(self, value):
        return f"{int(value):02d}"


register_converter(YearConverter, "yyyy")
register_converter(MonthConverter, "mm")

app_name = "blog"
urlpatterns = [
    path("", views.home, name="home"),
    path("posts/<slug:slug>/", views.post_detail, name="post"),
    path("posts/<slug:slug>/comments/", comment_views.post_comment, name="post_comment"),
    path("tags/<slug:slug>/", views.tag_posts, name="tag"),
    path("authors/<str:username>/", views.author_posts, name="author"),
    path("archive/<yyyy:year>/", views.archive_year, name="archive_year"),
    path("archive/<yyyy:year>/<mm:month>/", views.archive_month, name="archive_month"),
    path("search/", views.search, name="search"),
    path("feed/", feeds.latest_posts_feed, name="feed"),
    path("sitemap.xml", feeds.sitemap_index, name="sitemap"),
    path("sitemap-<slug:section>.xml", feeds.sitemap_section, name="sitemap_section"),
    path("robots.txt", views.robots_txt, name="robots"),
]
