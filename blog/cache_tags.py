"""Names of the page-cache tags: one tag per thing a page can show.

A page calls `cache.tag_page(request, ...)` with the tags of everything it
shows; a change calls `cache.invalidate(...)` with the tags of everything it
changes. Kind tags (`home`, `feed`, `sitemap`, `search`, `archive:...`) stand
for "which posts are in this list"; the others for one object's content.
"""
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
    """Everything a change to a published post can alter: its own page and
    every list it is (or was) in. `state` is a `publishing.PostState`."""
    if not state.is_published:
        return {post(state.post_id)}
    tags = {post(state.post_id), HOME, FEED, SITEMAP, SEARCH, author(state.author_id)}
    tags.update(tag(slug) for slug in state.tag_slugs)
    if state.published_at:
        tags.add(archive_year(state.published_at.year))
        tags.add(archive_month(state.published_at.year, state.published_at.month))
    return tags
