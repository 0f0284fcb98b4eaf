"""How a view declares that it may be cached, which query parameters change
its output, and which tags (things it shows) its page depends on."""
from functools import wraps

PARAMS_ATTRIBUTE = "page_cache_params"
BYPASS_ATTRIBUTE = "page_cache_bypass_params"


def cacheable(params=(), bypass=()):
    """Mark a view as cacheable; `params` are the only query parameters that
    change its output (everything else neither splits the key nor floods it).
    A request carrying any of the `bypass` parameters (a per-reader variant,
    such as a "your comment awaits moderation" notice) skips the cache."""
    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            request.page_cache_params = tuple(sorted(params))
            return view(request, *args, **kwargs)

        setattr(wrapper, PARAMS_ATTRIBUTE, tuple(sorted(params)))
        setattr(wrapper, BYPASS_ATTRIBUTE, frozenset(bypass))
        return wrapper

    return decorate


def tag_page(request, *tags):
    """Record that the page being rendered shows these things."""
    if not hasattr(request, "page_cache_tags"):
        request.page_cache_tags = set()
    request.page_cache_tags.update(tags)
