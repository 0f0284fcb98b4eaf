"""Static files: WhiteNoise, with a strong ETag per encoding.

collectstatic (CompressedManifestStaticFilesStorage) writes each file with a
content hash in its name, plus a gzip (`.gz`) and, with the `Brotli` package
installed, a brotli (`.br`) copy; the copy sent is the one the client's
Accept-Encoding prefers by the page cache's rule (q-values; brotli before
gzip when both are as welcome). Stock WhiteNoise gives all of a file's copies
one ETag, although their bytes differ: a strong ETag must name one
representation (RFC 9110 §8.8.1), or a cache holding the gzip body may
answer a client that asked for brotli, or none, with a 304. Here each copy
gets its own tag: `"<mtime>-<size>"` for the identity bytes (WhiteNoise's
own), `"<mtime>-<size>-gz"` and `"<mtime>-<size>-br"` for the compressed ones,
and preconditions (RFC 9110 §13.2.2, cache/conditional.py) are evaluated
against the tag of the copy this request gets.
"""
from http import HTTPStatus

from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.responders import NOT_ALLOWED_RESPONSE, NOT_MODIFIED_HEADERS, Response

from cache.conditional import precondition_status
from cache.encoding import preferred_coding

ETAG_SUFFIXES = {"gzip": "-gz", "br": "-br"}


def tagged_for_its_encoding(headers):
    """A copy's headers with its own ETag: the identity tag, suffixed by encoding."""
    headers = list(headers)
    found = dict(headers)
    suffix = ETAG_SUFFIXES.get(found.get("Content-Encoding"), "")
    if not suffix or "ETag" not in found:
        return headers
    etag = f'{found["ETag"][:-1]}{suffix}"'
    return [(name, etag if name == "ETag" else value) for name, value in headers]


class TaggedPerEncoding:
    """A WhiteNoise StaticFile whose encoded copies each carry their own strong
    ETag; it answers with the copy the page cache's negotiation rule picks
    (cache/encoding.py: q-values, case-insensitive names) and evaluates
    conditional requests with its rule too (cache/conditional.py), against
    the tag of that copy."""

    def __init__(self, static_file):
        self.copies = {}
        for _, path, headers in static_file.alternatives:
            headers = tagged_for_its_encoding(headers)
            self.copies[dict(headers).get("Content-Encoding")] = (path, headers)
        self.offered = tuple(coding for coding in ("br", "gzip") if coding in self.copies)
        self.static_file = static_file

    def get_response(self, method, request_headers):
        if method not in ("GET", "HEAD"):
            return NOT_ALLOWED_RESPONSE
        coding = preferred_coding(request_headers.get("HTTP_ACCEPT_ENCODING"), self.offered)
        path, headers = self.copies[coding]
        found = dict(headers)
        status = precondition_status(request_headers.get, found.get("ETag", ""), found.get("Last-Modified"))
        if status is not None:
            kept = headers if status == HTTPStatus.NOT_MODIFIED else []
            return Response(HTTPStatus(status), [(name, value) for name, value in kept
                                                 if name in NOT_MODIFIED_HEADERS], None)
        file_handle = open(path, "rb") if method != "HEAD" else None  # noqa: SIM115 (the WSGI server closes it)
        range_header = request_headers.get("HTTP_RANGE")
        if range_header:
            try:
                return self.static_file.get_range_response(range_header, headers, file_handle)
            except ValueError:
                pass  # an unreadable Range is ignored (RFC 9110 §14.2), as WhiteNoise does
        return Response(HTTPStatus.OK, headers, file_handle)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's middleware, each static file tagged per encoding."""

    def get_static_file(self, path, url, stat_cache=None):
        return TaggedPerEncoding(super().get_static_file(path, url, stat_cache=stat_cache))
