"""The miss path: Django rendered a page the fast path could not serve;
store it in Redis if it is safe to share, stamped with the snapshot LSN the
router measured and the tags the view declared.

Sits just inside the routing middleware, so that it can raise the request's
required WAL position (a refill after an invalidation at LSN X must render
on a server that has replayed X) before the first query.
"""
import logging
import time

from django.utils.cache import patch_vary_headers

from routing import request_state

from . import conf, stats, store
from .entry import PageCacheEntry, content_hash

logger = logging.getLogger(__name__)

STORABLE_STATUSES = (200, 404)


class PageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        state = request_state(request)
        position = state.position
        if state.required_lsn and position is not None:
            position.require(state.required_lsn)
        response = self.get_response(request)
        # A 404 is a reader's page like the others, an unknown URL's too (no
        # view answered it): it revalidates and varies by encoding. Only a
        # @cacheable view's 404 is ever stored: the fast path sets a fill key
        # for no other URL, so junk URLs cannot flood the cache.
        if hasattr(request, "page_cache_params") or response.status_code == 404:
            mark_cacheable(response)
        if state.fill_key:
            self.fill(request, response, state, position)
        return response

    def fill(self, request, response, state, position):
        stats.count_render()
        if not shareable(request, response, position):
            if state.fill_lease:
                store.release_lease(state.fill_key, state.fill_lease)
            return
        not_found = response.status_code == 404
        fresh_for = conf.not_found_ttl() if not_found else conf.ttl()
        lifetime = fresh_for if not_found else conf.ttl() + conf.grace()
        entry = PageCacheEntry.from_response(
            response,
            snapshot_lsn=position.snapshot_lsn if position and position.alias else 0,
            tags=getattr(request, "page_cache_tags", ()),
            fresh_until=time.time() + fresh_for,
        )
        store.store(state.fill_key, state.fill_lease, entry, lifetime)


def mark_cacheable(response):
    """Reader pages: revalidate every time (a cheap 304), never replay an old
    page; the ETag is the one the cache will give this (identity) body."""
    if not response.has_header("Cache-Control"):
        response["Cache-Control"] = "no-cache"
    patch_vary_headers(response, ["Accept-Encoding"])
    if not response.streaming and not response.has_header("ETag"):
        response["ETag"] = f'"{content_hash(response.content)}"'


def shareable(request, response, position):
    """Safe to serve to every anonymous reader?"""
    if request.method not in ("GET", "HEAD") or not hasattr(request, "page_cache_params"):
        return False
    if response.status_code not in STORABLE_STATUSES or response.streaming:
        return False
    if response.cookies or response.has_header("Set-Cookie"):
        return False
    cache_control = response.get("Cache-Control", "").lower()
    if "private" in cache_control or "no-store" in cache_control:
        return False
    if "cookie" in response.get("Vary", "").lower():
        return False  # the page used the session: it may be someone's own
    return position is None or not position.wrote_lsn
