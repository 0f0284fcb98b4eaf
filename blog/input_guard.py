"""Refuse input no page of this site can use, before anything reads it: a
NUL byte (PostgreSQL refuses it in any text, so a query would end in a 500)
or bytes that are not UTF-8, in the path, the query string, a header, a
cookie or a form field. Such a request gets a small 400 page.

It runs on every request that reaches Django (cache hits never do), so the
common case is cheap: ASCII text without `%` is accepted after `isascii()`
and one `in` test, and only the rest is decoded.

What a WSGI server hands over is bytes decoded as latin-1 (PEP 3333), except
the path, which Django has already decoded as UTF-8 by the time middleware
runs, re-escaping each byte that is not UTF-8 as `%XX` (hex 80 to FF). No URL
of this site contains `%`, so such an escape in the path means it had bytes
that are not UTF-8 (or an escaped `%`, refused alike).
"""
import re

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string

from cache import readable_wsgi_text

REESCAPED_BYTE = re.compile(r"%[89A-F][0-9A-F]")
# Request headers that WSGI does not prefix with HTTP_.
UNPREFIXED_HEADERS = ("CONTENT_TYPE", "CONTENT_LENGTH")
URLENCODED, MULTIPART = "application/x-www-form-urlencoded", "multipart/form-data"
REPLACEMENT_CHARACTER = "\ufffd"


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        where = unreadable_part(request)
        if where is not None:
            return refusal(where)
        return self.get_response(request)


def refusal(where):
    html = render_to_string("400.html", {"where": where})  # no request: no session, no query
    response = HttpResponseBadRequest(html)
    response["Cache-Control"] = "no-store"
    return response


def unreadable_part(request):
    """Which part of the request holds a NUL or bytes that are not UTF-8, or None."""
    if "\x00" in request.path_info or REESCAPED_BYTE.search(request.path_info):
        return "the address"
    if not readable_wsgi_text(request.META.get("QUERY_STRING", ""), percent_encoded=True):
        return "the query string"
    unclean_header = first_unclean_header(request.META)
    if unclean_header is not None:
        return "a cookie" if unclean_header == "HTTP_COOKIE" else "a header"
    # A quoted cookie value may spell a NUL as an octal escape ("\000").
    if "\\" in request.META.get("HTTP_COOKIE", "") and not all_clean(request.COOKIES.items()):
        return "a cookie"
    if request.method == "POST" and not form_is_clean(request):
        return "the form"
    return None


def first_unclean_header(meta):
    """The name of the first header holding a NUL or non-UTF-8 bytes, or None.
    All values are tested at once first: nearly always they are plain ASCII."""
    headers = [(name, value) for name, value in meta.items()
               if (name[:5] == "HTTP_" or name in UNPREFIXED_HEADERS) and isinstance(value, str)]
    every_value = "".join(value for _, value in headers)
    if every_value.isascii() and "\x00" not in every_value:
        return None
    return next((name for name, value in headers if not readable_wsgi_text(value)), None)


def all_clean(pairs):
    return not any("\x00" in key or "\x00" in value for key, value in pairs)


def form_is_clean(request):
    """The POST body's fields. Urlencoded: the percent-decoded body itself.
    Multipart: the fields as Django's own parser read them (with its limits on
    fields and sizes): no NUL (a base64 part may hide one), and no U+FFFD, the
    character that parser puts where bytes were not UTF-8 (a real one, in the
    multipart forms this site does not have, is refused alike). A file's own
    bytes are its business; its name is checked."""
    if request.content_type not in (URLENCODED, MULTIPART):
        return True  # no view of this site parses other bodies
    if declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        return True  # too big to read here: whatever reads it refuses it (the comment view: a 413)
    if request.content_type == URLENCODED:
        return readable_wsgi_text(request.body.decode("latin-1"), percent_encoded=True)
    texts = [*(text for key, values in request.POST.lists() for text in (key, *values)),
             *(text for key, files in request.FILES.lists() for text in (key, *(f.name or "" for f in files)))]
    return not any("\x00" in text or REPLACEMENT_CHARACTER in text for text in texts)


def declared_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:  # gunicorn refuses such a request before it gets here
        return 0
