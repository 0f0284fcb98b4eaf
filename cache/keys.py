"""Cache keys: validated host, path, only the query parameters the view
declares it uses (normalised and sorted), and APP_VERSION.

Which view a path belongs to (and so which parameters count) is found with
Django's URL resolver, remembered per path: unknown paths and views that are
not @cacheable are never cached, so junk URLs cannot flood the cache.
"""
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve

from .declare import BYPASS_ATTRIBUTE, PARAMS_ATTRIBUTE

NOT_CACHEABLE = None
MAX_PARAM_LENGTH = 200


@lru_cache(maxsize=65536)
def declared_params(path):
    """(parameters, bypass parameters) the view declares for `path`, or None
    if it is not cacheable."""
    try:
        match = resolve(path)
    except Resolver404:
        return NOT_CACHEABLE
    params = getattr(match.func, PARAMS_ATTRIBUTE, NOT_CACHEABLE)
    if params is NOT_CACHEABLE:
        return NOT_CACHEABLE
    return params, getattr(match.func, BYPASS_ATTRIBUTE, frozenset())


@lru_cache(maxsize=1024)
def valid_host(host):
    """The host, lower-cased without a default port, if ALLOWED_HOSTS allows it."""
    domain, port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return f"{domain}:{port}" if port else domain


def normalised_query(query_string, params):
    """Only the declared parameters, each once, sorted; junk dropped."""
    if not query_string or not params:
        return ""
    kept = {}
    for name, value in parse_qsl(query_string, keep_blank_values=False):
        if name in params and name not in kept:
            kept[name] = value.strip()[:MAX_PARAM_LENGTH]
    return urlencode(sorted(kept.items()))


def bypassed(query_string, bypass):
    return any(name in bypass for name, _ in parse_qsl(query_string, keep_blank_values=True))


def page_key(host, path, query_string):
    """The version-less key of a page, or None when the page is not cacheable."""
    declared = declared_params(path)
    if declared is NOT_CACHEABLE:
        return None
    params, bypass = declared
    if bypass and query_string and bypassed(query_string, bypass):
        return None
    host = valid_host(host)
    if host is None:
        return None
    return f"{host}{path}?{normalised_query(query_string, params)}"
