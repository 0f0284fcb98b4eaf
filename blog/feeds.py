"""The Atom feed of the latest posts, and the sitemap."""
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from cache import cacheable, tag_page

from . import cache_tags
from .models import Post, Tag
from .templatetags.blog_extras import author_name

FEED_LENGTH = 20
SITE_TITLE = "Field Notes"


class LatestPostsFeed(Feed):
    feed_type = Atom1Feed
    title = SITE_TITLE
    subtitle = "Notes on databases, caching and the web, from the people who run them."

    def __call__(self, request, *args, **kwargs):
        # Every change to a published post invalidates `feed`, so that one tag
        # covers every entry's title, summary, author and date.
        tag_page(request, cache_tags.FEED)
        return super().__call__(request, *args, **kwargs)

    def link(self):
        return reverse("blog:home")

    def items(self):
        return Post.objects.published().newest_first().select_related("author__author_profile")[:FEED_LENGTH]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_author_name(self, item):
        return author_name(item.author)

    def item_pubdate(self, item):
        return item.published_at

    def item_updateddate(self, item):
        return item.updated_at


class PostSitemap(Sitemap):
    changefreq = "weekly"
    limit = 2000  # per file, so a miss renders in a fraction of a second

    def items(self):
        return Post.objects.published().newest_first().only("slug", "updated_at")

    def location(self, post):
        return f"/posts/{post.slug}/"  # reverse() for each of thousands of rows is the slow part

    def lastmod(self, post):
        return post.updated_at

    def get_latest_lastmod(self):
        return None  # the index would otherwise read every post for each file it lists


class TagSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return Tag.objects.filter(latest_post__isnull=False).only("slug")

    def location(self, tag):
        return f"/tags/{tag.slug}/"


SITEMAPS = {"posts": PostSitemap, "tags": TagSitemap}

latest_posts_feed = cacheable(params=())(LatestPostsFeed())


@cacheable(params=())
def sitemap_index(request):
    """/sitemap.xml: the index of the sections' files."""
    tag_page(request, cache_tags.SITEMAP)
    return sitemap_views.index(request, sitemaps=SITEMAPS, sitemap_url_name="blog:sitemap_section")


@cacheable(params=("p",))
def sitemap_section(request, section):
    """/sitemap-<section>.xml?p=N: one file of the sitemap."""
    tag_page(request, cache_tags.SITEMAP)
    return sitemap_views.sitemap(request, sitemaps=SITEMAPS, section=section)
