"""Names of the page-cache tags: one tag per thing a page can show.

A page calls `cache.tag_page(request, ...)` with the tags of everything it
shows (before it looks anything up, so that its 404 carries them too); a
change calls `cache.invalidate(...)` with the tags of everything it changes.
Kind tags (`home`, `feed`, `sitemap`, `search`, `archive:...`) stand for
"which posts are in this list"; `post-at:` and `author-at:` for what is at
an address; the others for one object's content.
"""
import re

# What Django's username validator allows (and its length): other addresses
# under /authors/ can never be anyone's.
USERNAME = re.compile(r"[\w.@+-]{1,150}")

HOME = "home"
FEED = "feed"
SITEMAP = "sitemap"
SEARCH = "search"


def post(post_id):
    return f"post:{post_id}"


def tag(slug):
    return f"tag:{slug}"


def author(user_id):
    return f"author:{user_id}"


def post_at(slug):
    """The page at /posts/<slug>/, found or not: a 404 there must not outlive
    the publish (or the edit) that puts a post at that address."""
    return f"post-at:{slug}"


def author_at(username):
    """The page at /authors/<username>/, found or not (a rename moves it)."""
    return f"author-at:{username}"


def for_author_address(username):
    """The tag of /authors/<username>/ when someone could ever have that
    username (a junk address gets none: nothing can change it)."""
    return [author_at(username)] if USERNAME.fullmatch(username) else []


def archive_year(year):
    return f"archive:{year:04d}"


def archive_month(year, month):
    return f"archive:{year:04d}-{month:02d}"


def for_listed_posts(posts):
    """Tags of the posts a list shows: each post, its author and its tags
    (the prefetched `tags` are used, so this runs no query)."""
    tags = set()
    for listed in posts:
        tags.add(post(listed.pk))
        tags.add(author(listed.author_id))
        tags.update(tag(t.slug) for t in listed.tags.all())
    return tags


def for_post_state(state):
    """Everything a change to a published post can alter: its own page (at
    its address) and every list it is (or was) in. `state` is a
    `publishing.PostState`."""
    if not state.is_published:
        return {post(state.post_id), post_at(state.slug)}
    tags = {post(state.post_id), post_at(state.slug), HOME, FEED, SITEMAP, SEARCH, author(state.author_id)}
    tags.update(tag(slug) for slug in state.tag_slugs)
    if state.published_at:
        tags.add(archive_year(state.published_at.year))
        tags.add(archive_month(state.published_at.year, state.published_at.month))
    return tags
