"""Raw bytes through the real gunicorn, where its parser and the WSGI
environ it builds matter: no byte sequence gets a 5xx."""
import socket
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

RAW_REQUESTS = [
    b"GET /authors/x%00/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /search/?q=a%00b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /posts/\xc3\x28/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /tags/\xff\xfe/?page=%FF HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: pin=" + b"f" * 3700 + b"\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid=\xff\xfe; pin=\x01\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: \xc3\x28\xff\r\nX-Request-ID: \xff\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip;q=\xff\r\nIf-None-Match: \"\xff\"\r\n\r\n",
    b"GET /" + b"a" * 4000 + b"/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET /?" + b"page=1&" * 600 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"POST /posts/x/comments/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded"
    b"\r\nContent-Length: 18\r\n\r\nname=%00&body=%ff%",
    b"GET / HTTP/1.1\r\nHost: evil.example\x00\r\n\r\n",
]


def send_raw(base_url, raw):
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as conn:
        conn.sendall(raw)
        reply = b""
        while b"\r\n" not in reply:
            chunk = conn.recv(4096)
            if not chunk:
                break
            reply += chunk
    return int(reply.split(b" ", 2)[1]) if reply else None


@pytest.mark.parametrize("raw", RAW_REQUESTS, ids=range(len(RAW_REQUESTS)))
def test_no_byte_sequence_gets_a_5xx_from_the_real_server(replicated_db, gunicorn_server, raw):
    """Check that gunicorn and the site answer hostile bytes with a 2xx, 3xx or 4xx."""
    status = send_raw(gunicorn_server, raw)
    assert status is not None and status < 500, (raw[:80], status)
