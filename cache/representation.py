"""The one rule for how a reader's page is answered, on a cache hit
(cache/wsgi.py) and on a render (cache/middleware.py) alike: the same
encoding negotiation (cache/encoding.py), the same strong ETag per
representation, the same validators and conditional-request evaluation
(cache/conditional.py). A client's ETag from a miss therefore matches the
hit that follows, and the other way round.

    status, headers, body = answer(entry, environ.get)
"""
from .conditional import NOT_MODIFIED, PRECONDITION_FAILED, precondition_status
from .encoding import wants_gzip

PRECONDITION_FAILED_HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-cache"),
                               ("Content-Length", "0")]


def answer(entry, header):
    """(status, headers, body) of a GET or HEAD of `entry`; `header(name)`
    reads a request header by its WSGI name (environ.get, request.META.get)."""
    chosen = entry.representation(wants_gzip(header("HTTP_ACCEPT_ENCODING")))
    if entry.status == 200:  # preconditions apply to a current representation
        status = precondition_status(header, chosen.etag, entry.last_modified)
        if status == NOT_MODIFIED:
            return NOT_MODIFIED, chosen.not_modified_headers, b""
        if status == PRECONDITION_FAILED:
            return PRECONDITION_FAILED, PRECONDITION_FAILED_HEADERS, b""
    return entry.status, chosen.headers, chosen.body
