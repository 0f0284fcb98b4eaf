"""`?page=N` lists that stay cheap on deep pages.

The page's ids are picked by a subquery that PostgreSQL answers from a
partial index alone (an index-only scan, however deep the OFFSET), and only
those rows are fetched in full. No COUNT(*): one extra id tells whether
there is a next page, which is all "Newer / Older" links need.
"""
from dataclasses import dataclass

from django.http import Http404

from . import conf
from .models import Post

# Deeper than any real blog goes; keeps OFFSET far from integer overflow.
MAX_PAGE = 100_000


@dataclass
class PostPage:
    posts: list
    number: int
    has_next: bool

    @property
    def has_previous(self):
        return self.number > 1

    @property
    def next_number(self):
        return self.number + 1

    @property
    def previous_number(self):
        return self.number - 1


def page_number(request):
    """The `page` query parameter: a positive integer, else 404."""
    raw = request.GET.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise Http404("No such page")
    return int(raw)


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
