"""NUL bytes and bytes that are not UTF-8, wherever a client can put them
(path, query string, header, cookie, form field), get a 400 page and never
reach a view or PostgreSQL: through the real WSGI application, and through
the real gunicorn for the cases a server could treat differently."""
import socket
import urllib.request
from urllib.parse import urlsplit

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

from cache.wsgi import PageCacheApplication
from tests.fixtures.factories import PostFactory
from tests.fixtures.wsgi import application_on, request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

REFUSED = "We could not read that request"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app(replicated_db, redis_client):
    with application_on("urls") as application:
        yield application


def multipart(*parts, boundary="b0undary"):
    """(headers, body) of a multipart/form-data POST; each part is
    (name, raw bytes, extra header lines)."""
    chunks = []
    for name, content, *extra in parts:
        headers = [f'Content-Disposition: form-data; name="{name}"'.encode(), *(extra[0] if extra else [])]
        chunks.append(b"--" + boundary.encode() + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + content + b"\r\n")
    body = b"".join(chunks) + b"--" + boundary.encode() + b"--\r\n"
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, body


def test_without_the_guard_a_nul_in_a_search_or_an_author_reaches_postgresql(app):
    """Check the hazard: without the guard, a NUL in the query string or the
    path is handed to PostgreSQL, whose driver refuses it: a 500."""
    from django.conf import settings

    unguarded = [name for name in settings.MIDDLEWARE if "input_guard" not in name]
    with override_settings(MIDDLEWARE=unguarded):
        bare = PageCacheApplication(WSGIHandler())
        assert request(bare, "/search/?q=a%00b").status == 500
        assert request(bare, "/authors/x\x00/").status == 500


@pytest.mark.parametrize("path, headers, cookies", [
    ("/authors/x\x00/", {}, {}),                        # a NUL in a path segment (as WSGI gives %00)
    ("/authors/\xff\xfe/", {}, {}),                     # bytes that are not UTF-8 in the path
    ("/search/?q=a%00b", {}, {}),                       # a NUL in a parameter
    ("/search/?q=a\x00b", {}, {}),                      # ... sent raw
    ("/search/?q=caf%E9", {}, {}),                      # latin-1, not UTF-8, percent-encoded
    ("/search/?q=caf\xe9", {}, {}),                     # ... and raw
    ("/?utm=%00", {}, {}),                              # a parameter no view reads
    ("/", {"User-Agent": "curl\x00"}, {}),              # a NUL in a header
    ("/", {"Referer": "http://127.0.0.1/\xff"}, {}),    # a header that is not UTF-8
    ("/", {}, {"csrftoken": "\xc3\x28"}),               # a cookie that is not UTF-8
    ("/", {}, {"sessionid": '"\\000abcdefghij"'}),      # a NUL spelt as a quoted octal escape
])
def test_nul_and_non_utf8_anywhere_in_a_get_is_a_400(app, path, headers, cookies):
    """Check that a GET with a NUL or non-UTF-8 bytes in its path, query
    string, a header or a cookie gets the 400 page, never a 5xx."""
    response = request(app, path, headers=headers, cookies=cookies)
    assert response.status == 400, response.body[:300]
    assert REFUSED in response.text
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("body, headers", [
    (b"name=Ada&body=hello%00world", FORM),
    (b"name=Ada&body=caf%E9", FORM),
    (b"name=Ada\xff&body=hello", FORM),
    multipart(("name", b"Ada"), ("body", b"hello\x00world"))[::-1],
    multipart(("name", b"Ada"), ("body", b"caf\xe9"))[::-1],
    # A NUL hidden in a base64-encoded part: only Django's own parse shows it.
    multipart(("body", b"aGVsbG8Ad29ybGQ=", [b"Content-Transfer-Encoding: base64"]))[::-1],
    multipart(("bo\x00dy", b"hello"))[::-1],
])
def test_nul_and_non_utf8_in_a_form_field_is_a_400(app, body, headers):
    """Check that a POST whose urlencoded or multipart fields (names or values)
    hold a NUL or non-UTF-8 bytes (raw, percent-encoded, base64) gets the 400 page."""
    post = PostFactory()
    response = request(app, f"/posts/{post.slug}/comments/", method="POST", data=body,
                       headers={**headers, "Origin": "http://127.0.0.1"})
    assert response.status == 400
    assert REFUSED in response.text


@pytest.mark.parametrize("path, headers, body", [
    ("/search/?q=caf%C3%A9", {}, b""),
    ("/authors/jos\xc3\xa9/", {}, b""),                         # UTF-8 bytes, as WSGI gives them
    ("/", {"User-Agent": "navigateur-\xc3\xa9t\xc3\xa9"}, b""),
    ("/search/?q=100%25", {}, b""),                             # an escaped % in the query is fine
])
def test_utf8_text_of_any_language_goes_through(app, path, headers, body):
    """Check that well-formed UTF-8 (percent-encoded or raw) is not refused."""
    response = request(app, path, headers=headers)
    assert response.status in (200, 404)
    assert REFUSED not in response.text


def test_a_body_too_big_to_read_is_left_to_the_view(app):
    """Check that the guard does not read a body past DATA_UPLOAD_MAX_MEMORY_SIZE:
    the comment view refuses it unread (413), as before."""
    post = PostFactory()
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024):
        response = request(app, f"/posts/{post.slug}/comments/", method="POST", data=b"body=" + b"x" * 40_000,
                           headers={**FORM, "Origin": "http://127.0.0.1"})
    assert response.status == 413


def test_a_multipart_body_of_thousands_of_fields_is_refused_by_djangos_limit(app):
    """Check that a multipart body with more fields than DATA_UPLOAD_MAX_NUMBER_FIELDS
    is a 400 (Django's parser stops counting there), not a long parse."""
    post = PostFactory()
    headers, body = multipart(*((f"f{number}", b"v") for number in range(5000)))
    response = request(app, f"/posts/{post.slug}/comments/", method="POST", data=body,
                       headers={**headers, "Origin": "http://127.0.0.1"})
    assert response.status == 400


def test_a_file_part_may_hold_any_bytes(app):
    """Check that the bytes of an uploaded file are its own business: only
    fields and names are checked (the comment view then answers as it would)."""
    post = PostFactory()
    headers, body = multipart(("name", b"Ada"), ("body", "Grüße".encode()),
                              ("attachment", b"\x00\xff\xfe binary", [b"Content-Type: application/octet-stream"]))
    body = body.replace(b'name="attachment"', b'name="attachment"; filename="notes.bin"')
    response = request(app, f"/posts/{post.slug}/comments/", method="POST", data=body,
                       headers={**headers, "Origin": "http://127.0.0.1"})
    assert REFUSED not in response.text
    assert response.status < 500


def raw_http(base_url, request_bytes):
    """Send exact bytes to the server; (status, body) of its answer."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(request_bytes)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize("path", ["/authors/x%00/", "/search/?q=a%00b", "/authors/%FF/", "/search/?q=%C3%28"])
def test_through_gunicorn_a_nul_or_non_utf8_in_the_url_is_a_400(gunicorn_server, path):
    """Check the issue's reproductions against the real server: 400, not 500."""
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(gunicorn_server + path, timeout=10)
    assert refused.value.code == 400
    assert REFUSED in refused.value.read().decode()


@pytest.mark.parametrize("header", [b"Cookie: csrftoken=\xc3\x28", b"User-Agent: \xff\xfe", b"X-Note: a\x00b"])
def test_through_gunicorn_a_broken_header_is_never_a_5xx(gunicorn_server, header):
    """Check that header bytes the server lets through reach the guard (400),
    and that those it refuses itself are refused with a 4xx too."""
    status, _ = raw_http(gunicorn_server, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header +
                         b"\r\nConnection: close\r\n\r\n")
    assert 400 <= status < 500
