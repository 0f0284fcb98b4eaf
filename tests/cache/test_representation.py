"""One representation rule on both paths: a render (MISS) and the hit that
follows answer the same request with the same encoding, the same strong
ETag and the same validators; conditional requests get the same answers
(RFC 9110 §13.2.2) on both. Driven through the real WSGI application."""
import gzip

import pytest

from tests.cache.conftest import page_keys
from tests.fixtures import cluster
from tests.fixtures.factories import PostFactory
from tests.fixtures.wsgi import application_on, request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def forget_cached_pages(redis_client):
    """Redis's entries and this process's memory tier emptied: the next request renders."""
    from cache import memory

    for key in page_keys(redis_client):
        redis_client.delete(key)
    memory.clear()


@pytest.fixture
def blog(replicated_db, redis_client):
    PostFactory(slug="hello")
    cluster.wait_all_replayed()
    with application_on("urls") as application:
        yield application


@pytest.mark.parametrize("path", ["/posts/hello/", "/", "/feed/", "/sitemap-posts.xml"])
def test_a_miss_and_the_hit_after_it_answer_alike(blog, path):
    """Check that the render is gzipped for a gzip client with the ETag the
    hit gives, and carries the same validators (Last-Modified included)."""
    miss = request(blog, path, headers=GZIP)
    hit = request(blog, path, headers=GZIP)
    assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT")
    for name in ("Content-Encoding", "ETag", "Last-Modified", "Cache-Control", "Content-Type"):
        assert miss.headers.get(name) == hit.headers.get(name), name
    assert miss.headers["Content-Encoding"] == "gzip" and miss.headers["ETag"].endswith('-gz"')
    assert gzip.decompress(miss.body) == gzip.decompress(hit.body)


def test_the_etag_a_client_got_from_a_miss_revalidates_on_a_hit_and_the_other_way_round(blog, redis_client):
    """Check that a 304 answers either path's ETag on the other path."""
    miss = request(blog, "/posts/hello/", headers=GZIP)
    revalidated = request(blog, "/posts/hello/", headers={**GZIP, "If-None-Match": miss.headers["ETag"]})
    assert revalidated.status == 304 and revalidated.headers["X-Cache"] == "HIT" and revalidated.body == b""
    forget_cached_pages(redis_client)
    rendered = request(blog, "/posts/hello/", headers={**GZIP, "If-None-Match": miss.headers["ETag"]})
    assert rendered.status == 304 and rendered.headers["X-Cache"] == "MISS"
    assert rendered.headers["ETag"] == miss.headers["ETag"] and "Content-Type" not in rendered.headers


@pytest.mark.parametrize("warm", [False, True], ids=["miss", "hit"])
@pytest.mark.parametrize("conditions, status", [
    ({"If-None-Match": "*"}, 304),
    ({"If-Match": '"no-such-tag"'}, 412),
    ({"If-Match": "*"}, 200),
    ({"If-None-Match": '"other"'}, 200),
])
def test_conditional_requests_get_the_same_answer_on_both_paths(blog, redis_client, warm, conditions, status):
    """Check If-None-Match: * and If-Match on a render and on a hit."""
    if warm:
        request(blog, "/posts/hello/")
    answer = request(blog, "/posts/hello/", headers=conditions)
    assert answer.status == status and answer.headers["X-Cache"] == ("HIT" if warm else "MISS")


@pytest.mark.parametrize("warm", [False, True], ids=["miss", "hit"])
def test_if_modified_since_is_answered_from_last_modified(blog, redis_client, warm):
    """Check that the feed's exact Last-Modified, sent back, gets a 304 on both paths."""
    first = request(blog, "/feed/")
    if not warm:
        forget_cached_pages(redis_client)
    answer = request(blog, "/feed/", headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert answer.status == 304 and answer.headers["X-Cache"] == ("HIT" if warm else "MISS")
    assert request(blog, "/feed/", headers={"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}).status == 200


@pytest.mark.parametrize("accept, encoded", [("gzip;q=0", False), ("GZIP", True), ("identity", False),
                                             ("*", True), ("br", False)])
@pytest.mark.parametrize("warm", [False, True], ids=["miss", "hit"])
def test_accept_encoding_is_negotiated_with_q_values_on_both_paths(blog, accept, encoded, warm):
    """Check that `gzip;q=0` gets identity and `GZIP` gets gzip, rendered or cached."""
    if warm:
        request(blog, "/posts/hello/")
    answer = request(blog, "/posts/hello/", headers={"Accept-Encoding": accept})
    assert ("Content-Encoding" in answer.headers) is encoded
    assert answer.headers["ETag"].endswith('-gz"') is encoded
