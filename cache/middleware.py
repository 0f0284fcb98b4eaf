"""The miss path: Django rendered a page the fast path could not serve;
store it in Redis if it is safe to share, stamped with the snapshot LSN the
router measured and the tags the view declared; and answer it in the
representation a hit would give (cache/representation.py: the same
encoding, ETag, validators and conditional-request answers).

Sits just inside the routing middleware, so that it can raise the request's
required WAL position (a refill after an invalidation at LSN X must render
on a server that has replayed X) before the first query.
"""
import logging
import time

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from routing import request_state

from . import conf, representation, stats, store
from .entry import NOT_MODIFIED_LEAVES_OUT, PageCacheEntry

logger = logging.getLogger(__name__)

STORABLE_STATUSES = (200, 404)
# What a render's answer takes from its representation (the rest of its
# headers are its own: a private answer's Vary: Cookie, its cookies).
REPRESENTATION_HEADERS = ("ETag", "Content-Encoding", "Content-Length")


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
        readers_page = hasattr(request, "page_cache_params") or response.status_code == 404
        if readers_page:
            mark_cacheable(response)
        if not readers_page or response.streaming or response.status_code not in STORABLE_STATUSES:
            if state.fill_lease:
                store.release_lease(state.fill_key, state.fill_lease)
            return response
        entry = entry_of(request, response, position)
        if state.fill_key:
            self.fill(request, response, entry, state, position)
        return in_its_representation(request, response, entry)

    def fill(self, request, response, entry, state, position):
        stats.count_render()
        if not shareable(request, response, position):
            if state.fill_lease:
                store.release_lease(state.fill_key, state.fill_lease)
            return
        lifetime = conf.not_found_ttl() if entry.status == 404 else conf.ttl() + conf.grace()
        store.store(state.fill_key, state.fill_lease, entry, lifetime)


def entry_of(request, response, position):
    """The page as the cache would keep it (whether or not it is kept)."""
    fresh_for = conf.not_found_ttl() if response.status_code == 404 else conf.ttl()
    return PageCacheEntry.from_response(
        response,
        snapshot_lsn=position.snapshot_lsn if position and position.alias else 0,
        tags=getattr(request, "page_cache_tags", ()),
        fresh_until=time.time() + fresh_for,
    )


def in_its_representation(request, response, entry):
    """The render answered as a hit would be: the negotiated body and its
    ETag, or the 304 / 412 the request's preconditions call for."""
    status, headers, body = representation.answer(entry, request.META.get)
    chosen = {name: value for name, value in headers if name in REPRESENTATION_HEADERS}
    if status == response.status_code:
        response.content = body
        for name, value in chosen.items():
            response[name] = value
        return response
    answer = HttpResponse(status=status)
    if status == 304:  # the render's own headers (a private answer's Vary: Cookie too), no body's
        del answer["Content-Type"]
        for name, value in response.items():
            if name not in NOT_MODIFIED_LEAVES_OUT:
                answer[name] = value
        answer["ETag"] = chosen["ETag"]
    else:
        for name, value in headers:
            answer[name] = value
    answer.cookies = response.cookies
    return answer


def mark_cacheable(response):
    """Reader pages: revalidate every time (a cheap 304), never replay an old
    page; one representation per encoding."""
    if not response.has_header("Cache-Control"):
        response["Cache-Control"] = "no-cache"
    patch_vary_headers(response, ["Accept-Encoding"])


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
