"""Static files: WhiteNoise, with a strong ETag per encoding.

collectstatic (CompressedManifestStaticFilesStorage) writes each file with a
content hash in its name, plus a gzip (`.gz`) and, with the `Brotli` package
installed, a brotli (`.br`) copy; WhiteNoise sends the smallest copy the
client's Accept-Encoding names. Stock WhiteNoise gives all of a file's copies
one ETag, although their bytes differ: a strong ETag must name one
representation (RFC 9110 §8.8.1), or a cache holding the gzip body may
answer a client that asked for brotli, or none, with a 304. Here each copy
gets its own tag: `"<mtime>-<size>"` for the identity bytes (WhiteNoise's
own), `"<mtime>-<size>-gz"` and `"<mtime>-<size>-br"` for the compressed ones,
and If-None-Match is compared with the tag of the copy this request would get.
"""
from http import HTTPStatus

from django.utils.http import parse_etags
from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.responders import NOT_ALLOWED_RESPONSE, NOT_MODIFIED_HEADERS, Response

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


def matches_if_none_match(etag, if_none_match):
    """RFC 9110 §13.1.2: `*`, or any listed tag equal to ours by weak comparison."""
    listed = parse_etags(if_none_match)
    if "*" in listed:
        return True
    if etag is None:
        return False
    opaque = etag.removeprefix("W/")
    return any(tag.removeprefix("W/") == opaque for tag in listed)


class TaggedPerEncoding:
    """A WhiteNoise StaticFile whose encoded copies each carry their own strong
    ETag; it answers requests as the StaticFile would, conditional ones
    against the tag of the copy the request gets."""

    def __init__(self, static_file):
        static_file.alternatives = [(accepts, path, tagged_for_its_encoding(headers))
                                    for accepts, path, headers in static_file.alternatives]
        self.static_file = static_file

    def get_response(self, method, request_headers):
        if method not in ("GET", "HEAD"):
            return NOT_ALLOWED_RESPONSE
        path, headers = self.static_file.get_path_and_headers(request_headers)
        if self.not_modified(dict(headers).get("ETag"), request_headers):
            return Response(HTTPStatus.NOT_MODIFIED,
                            [(name, value) for name, value in headers if name in NOT_MODIFIED_HEADERS], None)
        file_handle = open(path, "rb") if method != "HEAD" else None  # noqa: SIM115 (the WSGI server closes it)
        range_header = request_headers.get("HTTP_RANGE")
        if range_header:
            try:
                return self.static_file.get_range_response(range_header, headers, file_handle)
            except ValueError:
                pass  # an unreadable Range is ignored (RFC 9110 §14.2), as WhiteNoise does
        return Response(HTTPStatus.OK, headers, file_handle)

    def not_modified(self, etag, request_headers):
        """If-None-Match against this copy's tag; without it, If-Modified-Since."""
        if_none_match = request_headers.get("HTTP_IF_NONE_MATCH")
        if if_none_match is not None:
            return matches_if_none_match(etag, if_none_match)
        return self.static_file.is_not_modified(request_headers)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise's middleware, each static file tagged per encoding."""

    def get_static_file(self, path, url, stat_cache=None):
        return TaggedPerEncoding(super().get_static_file(path, url, stat_cache=stat_cache))
