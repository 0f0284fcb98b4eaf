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

Which view a path belongs to, and the key of a request that is stored,
are remembered per process in tables bounded in bytes (RESOLVED_PATHS_BYTES,
PAGE_KEYS_BYTES), so junk URLs cannot grow a worker's memory.
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
PAGE_KEYS_BYTES = 1024 * 1024
ENTRY_OVERHEAD_BYTES = 120  # a dict slot and a str header, roughly
KEY_OBJECTS_BYTES = 360     # a remembered key's tuple of five strings and the key's own header
VALID_HOSTS_KEPT = 64


class BoundedMemo:
    """key -> compute(key), remembered while the keys (`size(key)` bytes
    each, plus a slot's overhead) stay within `max_bytes`, the oldest
    forgotten first (a forgotten key is only computed again). With
    `keep_none=False` a None is computed every time, never remembered."""

    def __init__(self, max_bytes, compute, size=len, keep_none=True):
        self.max_bytes = max_bytes
        self.compute = compute
        self.size = size
        self.keep_none = keep_none
        self._values = {}
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def table(self):
        """The remembered values by key, to read (never to change)."""
        return self._values

    def get(self, key):
        try:
            return self._values[key]
        except KeyError:
            value = self.compute(key)
            if value is not None or self.keep_none:
                self._remember(key, value)
            return value

    def _remember(self, key, value):
        with self._lock:
            if key not in self._values:
                self._values[key] = value
                self._bytes += self.size(key) + ENTRY_OVERHEAD_BYTES
            while self._bytes > self.max_bytes and self._values:
                oldest = next(iter(self._values))
                del self._values[oldest]
                self._bytes -= self.size(oldest) + ENTRY_OVERHEAD_BYTES

    def clear(self):
        with self._lock:
            self._values.clear()  # in place: `table` (page_key reads it) stays this dict
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


resolved_paths = BoundedMemo(RESOLVED_PATHS_BYTES, resolve_declared)
_valid_hosts = {}


def valid_host(host):
    """The Host header exactly as Django's `get_host()` returns it, if
    ALLOWED_HOSTS allows it; else None (no Host header: not cached either)."""
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
    request = (environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST"),
               environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "/"), environ.get("QUERY_STRING", ""))
    # The memo's table read here: a remembered key (every hit's) costs no
    # further call (docs/performance.md, "What a hit touches").
    found = remembered_keys.get(request)
    return found if found is not None else page_keys.get(request)


def key_of(request):
    """page_key's work, from the five parts of the environ a key depends on."""
    scheme, host, script_name, raw_path, query_string = request
    if len(raw_path) > MAX_PATH_LENGTH:
        return None
    path = get_path_info({"PATH_INFO": raw_path})
    declared = resolved_paths.get(path)
    if declared is None:
        return None
    host = valid_host(host)
    if host is None:
        return None
    query = declared_query(query_string, *declared)
    if query is None:
        return None
    return f"{scheme}://{host}{script_name}{path}?{query}"


def request_bytes(request):
    """What a remembered key costs: its parts and the key built from them
    (about as long), plus the objects that hold them (a 5-tuple, six
    strings: 477 bytes an entry measured with tracemalloc, where the
    characters alone counted 165)."""
    return 2 * sum(len(part) for part in request if part) + KEY_OBJECTS_BYTES


# Every hit builds its key: it is remembered per process, as the parts of
# the request it came from (a stored key only; what is not stored costs a
# render anyway, and must not push the stored ones out).
page_keys = BoundedMemo(PAGE_KEYS_BYTES, key_of, size=request_bytes, keep_none=False)
remembered_keys = page_keys.table


def forget():
    """Forget resolved paths, hosts and keys (the URLconf or ALLOWED_HOSTS changed)."""
    resolved_paths.clear()
    page_keys.clear()
    _valid_hosts.clear()
