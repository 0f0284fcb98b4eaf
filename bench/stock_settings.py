"""The project's settings with Django's stock per-site cache instead of the
page cache: UpdateCacheMiddleware first, FetchFromCacheMiddleware last, on
the same django-redis cache. Only what must change is changed.

bench.stock_renders sits just inside FetchFromCacheMiddleware, so it runs on
misses only and counts them in Redis: the bench checks the hit ratio with it.
"""
from settings import *  # noqa: F401,F403
from settings import MIDDLEWARE

MIDDLEWARE = [
    "django.middleware.cache.UpdateCacheMiddleware",
    *[m for m in MIDDLEWARE if m != "cache.middleware.PageCacheMiddleware"],
    "django.middleware.cache.FetchFromCacheMiddleware",
    "bench.stock_renders.CountRendersMiddleware",
]
CACHE_MIDDLEWARE_ALIAS = "default"
CACHE_MIDDLEWARE_SECONDS = 600
CACHE_MIDDLEWARE_KEY_PREFIX = "stock"
