"""`?page=N` lists that stay cheap on deep pages.

The page's ids are picked by a subquery that PostgreSQL answers from a
partial index alone (an index-only scan), and only those rows are fetched
in full. No COUNT(*): one extra id tells whether there is a next page, which
is all "Newer / Older" links need.

Every page has one URL: `?page=1`, `?page=02` and the like answer a
permanent redirect to it (`@canonical_pages`), so they are neither a new
cache key nor a new render. Lists stop at MAX_PAGE: the index scan behind
an OFFSET costs in proportion to its depth, and every uncached page is one
such scan, so the depth bounds what any request can cost (older posts stay
reachable through the archives, the sitemap and search).
"""
from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.http import Http404, HttpResponsePermanentRedirect

from . import conf
from .models import Post

MAX_PAGE = 500


@dataclass
class PostPage:
    posts: list
    number: int
    has_next: bool

    previous_url: str = ""
    next_url: str = ""

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def next_number(self):
        return self.number + 1

    @property
    def previous_number(self):
        return self.number - 1


class NonCanonicalPage(Exception):
    """The page exists, under another URL."""

    def __init__(self, number):
        super().__init__(number)
        self.number = number


def page_number(request):
    """The `page` query parameter: 1 when absent, a page number when written
    canonically; NonCanonicalPage for another spelling of one; else 404."""
    raw = request.GET.get("page")
    if raw is None:
        return 1
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise Http404("No such page")
    number = int(raw)
    if number == 1 or raw != str(number):
        raise NonCanonicalPage(number)
    return number


def page_url(request, number):
    """The canonical URL of page `number` of the list `request` shows."""
    params = [(name, value) for name, value in request.GET.items() if name != "page"]
    if number > 1:
        params.append(("page", str(number)))
    return f"{request.path}?{urlencode(params)}" if params else request.path


def canonical_pages(view):
    """Answer a non-canonical `?page=` with a permanent redirect to the page's URL."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NonCanonicalPage as page:
            return HttpResponsePermanentRedirect(page_url(request, page.number))

    return wrapper


def link_pages(request, page):
    """Fill in the page's "Newer" and "Older" links."""
    if page.has_previous:
        page.previous_url = page_url(request, page.previous_number)
    if page.has_next and page.next_number <= MAX_PAGE:
        page.next_url = page_url(request, page.next_number)
    return page


def paginate_posts(published, number, per_page=conf.POSTS_PER_PAGE):
    """One page of `published` (a Post queryset), newest first, ready to list."""
    offset = (number - 1) * per_page
    page_ids = published.newest_first().values("pk")[offset:offset + per_page + 1]
    posts = list(Post.objects.filter(pk__in=page_ids).for_list().newest_first())
    return make_page(posts, number, per_page)


def paginate_ranked(queryset, number, per_page=conf.POSTS_PER_PAGE):
    """One page of an already ordered queryset (search results)."""
    offset = (number - 1) * per_page
    return make_page(list(queryset[offset:offset + per_page + 1]), number, per_page)


def make_page(rows, number, per_page):
    if number > 1 and not rows:
        raise Http404("No such page")
    return PostPage(rows[:per_page], number, has_next=len(rows) > per_page)
