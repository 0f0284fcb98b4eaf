"""Conditional requests (RFC 9110 §13.2.2), one evaluation for the cache's
fast path and for a render: which status a GET or HEAD of a current
representation gets, given its ETag and Last-Modified.

    status = precondition_status(headers_get, etag='"abc-gz"', last_modified="Tue, 01 Dec 2026 ...")
    # None: send the representation; 304: not modified; 412: precondition failed

The order is the RFC's: If-Match (strong comparison; `*` matches), else
If-Unmodified-Since; then If-None-Match (weak comparison; `*` matches),
else If-Modified-Since. A date that does not parse is ignored, as the RFC
says; a header longer than MAX_HEADER is treated as a list that matches
nothing rather than parsed at length.
"""
from django.utils.http import parse_http_date_safe

NOT_MODIFIED, PRECONDITION_FAILED = 304, 412
# A request with none of these has no precondition (most requests).
CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")
MAX_HEADER = 4096


def precondition_status(header, etag, last_modified=None):
    """`header(name)` gives a request header's value or None (e.g. environ.get on HTTP_ names)."""
    if_match, if_unmodified_since = header("HTTP_IF_MATCH"), header("HTTP_IF_UNMODIFIED_SINCE")
    if_none_match, if_modified_since = header("HTTP_IF_NONE_MATCH"), header("HTTP_IF_MODIFIED_SINCE")
    if if_match is None and if_unmodified_since is None and if_none_match is None and if_modified_since is None:
        return None  # nothing to compare
    if if_match is not None:
        if not matches(if_match, etag, weak=False):
            return PRECONDITION_FAILED
    elif modified_since(if_unmodified_since, last_modified) is True:
        return PRECONDITION_FAILED
    if if_none_match is not None:
        return NOT_MODIFIED if matches(if_none_match, etag, weak=True) else None
    if modified_since(if_modified_since, last_modified) is False:
        return NOT_MODIFIED
    return None


def matches(field, etag, weak):
    """Whether `field` (an If-Match / If-None-Match value) names `etag`."""
    if len(field) > MAX_HEADER:
        return False
    if field.strip() == "*":
        return True
    for candidate in field.split(","):
        candidate = candidate.strip()
        if candidate.startswith("W/"):
            if not weak:
                continue
            candidate = candidate[2:]
        if candidate == opaque(etag, weak):
            return True
    return False


def opaque(etag, weak):
    return etag[2:] if weak and etag.startswith("W/") else etag


def modified_since(field, last_modified):
    """Whether the representation changed after the date in `field`; None
    when either date is missing or does not parse (the condition is then
    ignored)."""
    if not field or not last_modified or len(field) > 64:
        return None
    since, modified = parse_http_date_safe(field), parse_http_date_safe(last_modified)
    if since is None or modified is None:
        return None
    return modified > since
