"""How a view declares that it may be cached, which query parameters change
its output, and which tags (things it shows) its page depends on."""
from functools import wraps
from urllib.parse import urlencode

from django.http import QueryDict

PARAMS_ATTRIBUTE = "page_cache_params"
BYPASS_ATTRIBUTE = "page_cache_bypass_params"


def cacheable(params=(), bypass=()):
    """Mark a view as cacheable; `params` are the only query parameters that
    change its output (everything else neither splits the key nor floods it).
    A request carrying any of the `bypass` parameters (a per-reader variant,
    such as a "your comment awaits moderation" notice) skips the cache.

    The view sees only those parameters in `request.GET`: the cache key is
    built from them alone (cache/keys.py), so reading any other would let
    one reader's query string decide what others are served."""
    params, bypass = tuple(sorted(params)), frozenset(bypass)
    visible = (*params, *sorted(bypass))

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            request.page_cache_params = params
            request.GET = only(request.GET, visible)
            return view(request, *args, **kwargs)

        setattr(wrapper, PARAMS_ATTRIBUTE, params)
        setattr(wrapper, BYPASS_ATTRIBUTE, bypass)
        return wrapper

    return decorate


def only(query, names):
    """A read-only copy of `query` holding just `names`."""
    if all(name in names for name in query):
        return query
    return QueryDict(urlencode([(name, value) for name in names for value in query.getlist(name)]))


def tag_page(request, *tags):
    """Record that the page being rendered shows these things."""
    if not hasattr(request, "page_cache_tags"):
        request.page_cache_tags = set()
    request.page_cache_tags.update(tags)
