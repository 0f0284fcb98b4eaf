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

For the input guard: `readable_wsgi_text()` (the key's own rule).
For ops: `status()` (Redis up?, outcome counters), the `redis_state_changed`
signal, and `redis_guard()`, the process's guarded Redis connection.
"""
from .connection import redis_guard
from .declare import cacheable, tag_page
from .invalidation import invalidate
from .keys import readable_wsgi_text
from .outage import redis_state_changed
from .stats import status

__all__ = ["cacheable", "tag_page", "invalidate", "readable_wsgi_text", "redis_guard", "redis_state_changed",
           "status"]
