"""Cache hits sent whole by the project's workers (deploy/http_response.py
`send_prepared`), through the real gunicorn and the site: one connection
carries hits, a HEAD and a revalidation in turn, each framed as HTTP/1.1
requires, and the access log counts what each one sent."""
import http.client
import re
import time
from urllib.parse import urlsplit

import pytest

from tests.fixtures.cluster import wait_until
from tests.fixtures.server import run_gunicorn

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")
OWN_HEADERS = ("X-Cache", "X-Request-ID", "Server-Timing")


def ask(connection, method, path, headers=None):
    connection.request(method, path, headers=headers or {})
    response = connection.getresponse()
    return response.status, dict(response.getheaders()), response.read()


def first_hit(connection, path):
    """Ask until the page is a cache hit (the first request renders it)."""
    for _ in range(50):
        status, headers, body = ask(connection, "GET", path)
        if headers.get("X-Cache") == "HIT":
            return status, headers, body
        time.sleep(0.1)
    raise AssertionError(f"{path} never became a hit")


def log_once_it_has(base, text):
    """The server's log, once `text` is in it (access lines are flushed every 0.1 s)."""
    log = base.read_log()
    return log if text in log else None


@pytest.mark.parametrize("worker_class", ["gthread", "sync"])
def test_hits_sent_whole_keep_a_connection_in_step(django_db_setup, redis_client, worker_class):
    """Check, for both worker classes, that on one connection a hit, a HEAD
    of it (its Content-Length, no body), a revalidation (304) and another
    hit each arrive whole and in order, with the site's own headers; that
    gthread keeps the connection alive and sync closes it, as gunicorn
    does; and that the access log counts the body bytes each one sent."""
    env = {"GUNICORN_WORKER_CLASS": worker_class, "COMMENT_RATE_LIMIT": "off"}
    with run_gunicorn(env=env, workers=1) as base:
        parts = urlsplit(base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        status, headers, body = first_hit(connection, "/")
        head_status, head_headers, head_body = ask(connection, "HEAD", "/")
        revalidated = ask(connection, "GET", "/", {"If-None-Match": headers["ETag"]})
        again = ask(connection, "GET", "/")
        connection.close()
        log = wait_until(lambda: log_once_it_has(base, '"HEAD / '), timeout=10,
                         message="the HEAD's access log line")
    assert status == 200 and int(headers["Content-Length"]) == len(body) > 0
    assert all(name in headers and name in head_headers for name in OWN_HEADERS)
    assert head_status == 200 and head_body == b"" and head_headers["Content-Length"] == headers["Content-Length"]
    assert head_headers["X-Cache"] == "HIT" and head_headers["ETag"] == headers["ETag"]
    assert revalidated[0] == 304 and revalidated[2] == b""
    assert again[0] == 200 and again[2] == body and again[1]["X-Cache"] == "HIT"
    assert headers["Connection"] == ("keep-alive" if worker_class == "gthread" else "close")
    assert re.search(rf'"GET / HTTP/1.1" 200 {len(body)} \d+ms rid=\S+ cache=HIT', log), log[-3000:]
    assert re.search(r'"HEAD / HTTP/1.1" 200 0 \d+ms rid=\S+ cache=HIT', log), log[-3000:]
