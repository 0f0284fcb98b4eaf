"""The one rule for how a reader's page is answered, on a cache hit
(cache/wsgi.py) and on a render (cache/middleware.py) alike: the same
encoding negotiation (cache/encoding.py), the same strong ETag per
representation, the same validators and conditional-request evaluation
(cache/conditional.py). A client's ETag from a miss therefore matches the
hit that follows, and the other way round.

    status, headers, body = answer(entry, environ.get)
"""
from .conditional import CONDITIONAL_HEADERS, NOT_MODIFIED, PRECONDITION_FAILED, precondition_status
from .encoding import GZIP_ONLY, preferred_coding

IF_NONE_MATCH, IF_MATCH, IF_MODIFIED_SINCE, IF_UNMODIFIED_SINCE = CONDITIONAL_HEADERS
PRECONDITION_FAILED_HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-cache"),
                               ("Content-Length", "0")]


def answer(entry, header):
    """(status, headers, body) of a GET or HEAD of `entry`; `header(name)`
    reads a request header by its WSGI name (environ.get, request.META.get)."""
    # Written out rather than through wants_gzip and a precondition check
    # that finds nothing: every call is code and data a hit must bring into
    # the CPU's cache (docs/performance.md, "What a hit touches").
    accept_encoding = header("HTTP_ACCEPT_ENCODING")
    chosen = entry.representation(accept_encoding is not None
                                  and preferred_coding(accept_encoding, GZIP_ONLY) == "gzip")
    if entry.status == 200 and (header(IF_NONE_MATCH) is not None or header(IF_MATCH) is not None
                                or header(IF_MODIFIED_SINCE) is not None
                                or header(IF_UNMODIFIED_SINCE) is not None):
        # preconditions apply to a current representation
        status = precondition_status(header, chosen.etag, entry.last_modified)
        if status == NOT_MODIFIED:
            return NOT_MODIFIED, chosen.not_modified_headers, b""
        if status == PRECONDITION_FAILED:
            return PRECONDITION_FAILED, PRECONDITION_FAILED_HEADERS, b""
    return entry.status, chosen.headers, chosen.body
