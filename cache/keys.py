"""Cache keys, built from exactly what the view will read.

A key is the request's scheme, its Host header as Django will read it (if
ALLOWED_HOSTS allows it), its path, and the values of the query parameters
the view declares (`@cacheable(params=...)`), parsed by Django's own
QueryDict from the same bytes. Nothing is normalised: two requests share a
key only if the view sees the same input, so what one client sends can
never become what another reads. The view sees only its declared
parameters (cache/declare.py hides the rest), so it cannot read one that
the key leaves out.

A request is answered but never stored (no key) when its declared
parameters are repeated, blank, overlong or not UTF-8, when it has no Host header,
when its path resolves to no @cacheable view, or when it carries one of the
view's bypass parameters.

Which view a path belongs to is remembered per process in a table bounded
in bytes (RESOLVED_PATHS_BYTES), so junk URLs cannot grow a worker's memory.
"""
import threading
from urllib.parse import unquote_to_bytes, urlencode

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.core.handlers.wsgi import get_path_info
from django.http import QueryDict
from django.http.request import split_domain_port, validate_host
from django.urls import Resolver404, resolve

from .declare import BYPASS_ATTRIBUTE, PARAMS_ATTRIBUTE

MAX_PATH_LENGTH = 1024
MAX_PARAM_LENGTH = 200
MAX_HOST_LENGTH = 255
RESOLVED_PATHS_BYTES = 4 * 1024 * 1024
ENTRY_OVERHEAD_BYTES = 120  # a dict slot and a str header, roughly
VALID_HOSTS_KEPT = 64


class ResolvedPaths:
    """path -> (params, bypass) of its @cacheable view, or None; at most
    `max_bytes` of paths, the oldest forgotten first (a forgotten path is
    only resolved again)."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self._views = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, path):
        try:
            return self._views[path]
        except KeyError:
            return self._remember(path, resolve_declared(path))

    def _remember(self, path, declared):
        size = len(path) + ENTRY_OVERHEAD_BYTES
        with self._lock:
            if path not in self._views:
                self._views[path] = declared
                self._bytes += size
            while self._bytes > self.max_bytes and self._views:
                oldest = next(iter(self._views))
                del self._views[oldest]
                self._bytes -= len(oldest) + ENTRY_OVERHEAD_BYTES
        return declared

    def clear(self):
        with self._lock:
            self._views.clear()
            self._bytes = 0

    @property
    def size_bytes(self):
        return self._bytes


def resolve_declared(path):
    """(parameters, bypass parameters) the view declares for `path`, or None
    if it is not cacheable."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    params = getattr(match.func, PARAMS_ATTRIBUTE, None)
    if params is None:
        return None
    return params, getattr(match.func, BYPASS_ATTRIBUTE, frozenset())


resolved_paths = ResolvedPaths(RESOLVED_PATHS_BYTES)
_valid_hosts = {}


def valid_host(environ):
    """The Host header exactly as Django's `get_host()` returns it, if
    ALLOWED_HOSTS allows it; else None (no Host header: not cached either)."""
    host = environ.get("HTTP_HOST")
    if not host or len(host) > MAX_HOST_LENGTH:
        return None
    if host in _valid_hosts:
        return host
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    if len(_valid_hosts) < VALID_HOSTS_KEPT:
        _valid_hosts[host] = True
    return host


def readable_wsgi_text(text, percent_encoded=False):
    """`text` (bytes as WSGI gives them: latin-1-decoded) has no NUL and is
    UTF-8, once its %-escapes are decoded when `percent_encoded`. Shared with
    the input guard (blog/input_guard.py), which answers 400 to what is not:
    a query string it refuses is never stored, so a hit answers as a render would."""
    if text.isascii() and not (percent_encoded and "%" in text):
        return "\x00" not in text
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:  # not what a WSGI server hands over
        return False
    raw = unquote_to_bytes(raw) if percent_encoded else raw
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def declared_query(query_string, params, bypass):
    """The declared parameters as the view will read them, as a key part;
    None when the request must not be stored."""
    if not query_string:
        return ""
    if not readable_wsgi_text(query_string, percent_encoded=True):
        return None
    try:
        query = QueryDict(query_string.encode("iso-8859-1"))  # as WSGIRequest.GET does
    except (TooManyFieldsSent, UnicodeEncodeError):
        return None
    if bypass and any(name in query for name in bypass):
        return None
    found = []
    for name in params:
        values = query.getlist(name)
        if not values:
            continue
        if len(values) > 1 or not values[0] or len(values[0]) > MAX_PARAM_LENGTH:
            return None
        found.append((name, values[0]))
    return urlencode(found)


def page_key(environ):
    """The version-less key of the request's page, or None when it is not
    to be stored."""
    raw_path = environ.get("PATH_INFO", "/")
    if len(raw_path) > MAX_PATH_LENGTH:
        return None
    path = get_path_info(environ)
    declared = resolved_paths.get(path)
    if declared is None:
        return None
    host = valid_host(environ)
    if host is None:
        return None
    query = declared_query(environ.get("QUERY_STRING", ""), *declared)
    if query is None:
        return None
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}{environ.get('SCRIPT_NAME', '')}{path}?{query}"


def forget():
    """Forget resolved paths and hosts (the URLconf or ALLOWED_HOSTS changed)."""
    resolved_paths.clear()
    _valid_hosts.clear()
