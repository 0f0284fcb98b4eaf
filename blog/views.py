"""Readers' pages: thin views over the QuerySet methods.

Each cacheable view names the query parameters that change its output
(`@cacheable(params=...)`) and tags its page with everything it shows
(`tag_page`, names in cache_tags.py), so any change to those invalidates it.
The tags are declared before any lookup that may raise Http404: a 404 is
cached too (briefly), and must not be stored after the change that ends it.
"""
from django.contrib.auth import get_user_model
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.cache import add_never_cache_headers, patch_cache_control

from cache import cacheable, tag_page

from . import cache_tags, comment_guard, conf, ratelimit
from .forms import CommentForm
from .models import Post, Tag
from .pagination import canonical_pages, link_pages, page_number, page_url, paginate_posts, paginate_ranked

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December"]


def render_list(request, page, *, heading, page_tags, **context):
    tag_page(request, *page_tags, *cache_tags.for_listed_posts(page.posts))
    return render(request, "blog/post_list.html", {
        "page": link_pages(request, page), "heading": heading,
        "canonical_path": page_url(request, page.number), **context})


@cacheable(params=("page",))
@canonical_pages
def home(request):
    tag_page(request, cache_tags.HOME)
    page = paginate_posts(Post.objects.published(), page_number(request))
    return render_list(request, page, heading=None, page_tags=[cache_tags.HOME])


@cacheable(params=(), bypass=("comment",))
def post_detail(request, slug):
    tag_page(request, cache_tags.post_at(slug))
    post = get_object_or_404(
        Post.objects.published().select_related("author__author_profile__latest_post"), slug=slug)
    tags = list(post.tags.all())
    comments = list(post.comments.visible())
    tag_page(request, cache_tags.post(post.pk), cache_tags.author(post.author_id),
             *(cache_tags.tag(t.slug) for t in tags))
    held = request.GET.get("comment") == "held"
    response = render(request, "blog/post_detail.html", {
        "post": post, "tags": tags, "comments": comments, "comment_held": held,
        "canonical_path": post.get_absolute_url(),
        "form": CommentForm(slug=post.slug), "comment_token": comment_guard.form_token(post.slug),
    })
    if held:
        # Only the commenter sees this notice: never store or share it.
        add_never_cache_headers(response)
        patch_cache_control(response, private=True)
    return response


@cacheable(params=("page",))
@canonical_pages
def tag_posts(request, slug):
    tag_page(request, cache_tags.tag(slug))
    tag = get_object_or_404(Tag, slug=slug)
    page = paginate_posts(Post.objects.published().filter(tags=tag), page_number(request))
    return render_list(request, page, heading=f"Posts tagged “{tag.name}”", topic=tag,
                       page_tags=[cache_tags.tag(tag.slug)])


@cacheable(params=("page",))
@canonical_pages
def author_posts(request, username):
    tag_page(request, *cache_tags.for_author_address(username))
    author = get_user_model().objects.select_related("author_profile").filter(username=username).first()
    if author is not None:
        tag_page(request, cache_tags.author(author.pk))  # their first publish ends this 404
    # Only people who have published are authors; other accounts stay unlisted.
    if author is None or not has_published(author):
        raise Http404("No such author")
    page = paginate_posts(Post.objects.published().filter(author=author), page_number(request))
    return render_list(request, page, heading=None, author=author,
                       page_tags=[cache_tags.author(author.pk)])


@cacheable(params=("page",))
@canonical_pages
def archive_year(request, year):
    tag_page(request, cache_tags.archive_year(year))
    months = list(Post.objects.published().in_year(year).annotate(month=TruncMonth("published_at"))
                  .values("month").annotate(posts=Count("pk")).order_by("month"))
    if not months:
        raise Http404("Nothing published that year")
    page = paginate_posts(Post.objects.published().in_year(year), page_number(request))
    return render_list(request, page, heading=f"Archive: {year}", year=year, months=months,
                       page_tags=[cache_tags.archive_year(year)])


@cacheable(params=("page",))
@canonical_pages
def archive_month(request, year, month):
    tag_page(request, cache_tags.archive_month(year, month))
    page = paginate_posts(Post.objects.published().in_month(year, month), page_number(request))
    if not page.posts:
        raise Http404("Nothing published that month")
    return render_list(request, page, heading=f"Archive: {MONTH_NAMES[month - 1]} {year}", year=year,
                       page_tags=[cache_tags.archive_month(year, month)])


@cacheable(params=("page", "q"))
@canonical_pages
def search(request):
    terms = request.GET.get("q", "").strip()
    context = {"terms": terms, "max_length": conf.SEARCH_MAX_LENGTH}
    if len(terms) > conf.SEARCH_MAX_LENGTH:
        context["error"] = f"Please search for at most {conf.SEARCH_MAX_LENGTH} characters."
        return uncached(render(request, "blog/search.html", context, status=400))
    tag_page(request, cache_tags.SEARCH)
    if not terms:
        return render(request, "blog/search.html", context)
    decision = ratelimit.check("search", ratelimit.client_address(request), conf.search_rate_limit())
    if not decision.allowed:
        context["error"] = "Too many searches from your address; please wait a moment."
        response = uncached(render(request, "blog/search.html", context, status=429))
        response["Retry-After"] = str(decision.retry_after)
        return response
    page = paginate_ranked(Post.objects.search(terms).for_list(), page_number(request))
    tag_page(request, *cache_tags.for_listed_posts(page.posts))
    return render(request, "blog/search.html", {**context, "page": link_pages(request, page)})


def has_published(user):
    profile = getattr(user, "author_profile", None)  # None when the user has no profile
    return profile is not None and profile.latest_post_id is not None


def uncached(response):
    """An answer for this client only (errors, refusals): never stored."""
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    return response


@cacheable(params=())
def robots_txt(request):
    sitemap = request.build_absolute_uri("/sitemap.xml")
    lines = ["User-agent: *", "Disallow: /admin/", "Disallow: /search/", "Allow: /", "",
             f"Sitemap: {sitemap}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
