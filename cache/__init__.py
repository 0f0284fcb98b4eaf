"""Full-page cache in Redis, in front of Django, invalidated by tags.

What it offers to views and models:

    from cache import cacheable, tag_page, invalidate

    @cacheable(params=("page",))        # cache this view; only ?page= splits the key
    def home(request): ...
        tag_page(request, "home", *[f"post:{p.pk}" for p in posts])  # what the page shows

    invalidate("post:12", "home")       # on commit: every page showing these is invalid

A view that is not @cacheable is never cached (the admin, previews, POST
targets, health). What it needs: REDIS_URL, the routing package (a request's
snapshot LSN; the primary's LSN at invalidation) and APP_VERSION.
"""
from .declare import cacheable, tag_page
from .invalidation import invalidate

__all__ = ["cacheable", "tag_page", "invalidate"]
