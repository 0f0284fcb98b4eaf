"""404 answers carry the headers of every other reader page (Cache-Control,
Vary, a strong ETag), whether a @cacheable view raised it (stored briefly,
replayed with the same headers) or no view handles the URL at all (never
stored: junk URLs must not fill the cache)."""
import pytest

from tests.cache.conftest import page_keys
from tests.fixtures.wsgi import request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

UNKNOWN_URLS = ("/no/such/page/", "/posts/", "/archive/2026/13/", "/static/missing.css")


def assert_reader_page_headers(response):
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["ETag"].startswith('"')


def test_a_404_for_a_url_no_view_handles_carries_the_headers_and_is_never_stored(app, redis_client):
    """Check that unknown URLs answer 404 with Cache-Control: no-cache, Vary:
    Accept-Encoding and an ETag, every time from Django (BYPASS), storing nothing."""
    for path in UNKNOWN_URLS:
        for _ in range(2):
            response = request(app, path, headers={"Accept-Encoding": "gzip"})
            assert (response.status, response.headers["X-Cache"]) == (404, "BYPASS"), path
            assert_reader_page_headers(response)
    assert page_keys(redis_client) == []


def test_a_cacheable_views_404_has_the_same_headers_rendered_and_cached(app, settings, redis_client):
    """Check that a @cacheable view's 404 carries the headers on its MISS and
    on the HIT that replays it (gzip and identity alike)."""
    settings.PAGE_CACHE_404_TTL = 60  # long enough to be hit on a busy machine
    miss = request(app, "/c/group/nobody/")
    hits = [request(app, "/c/group/nobody/", headers={"Accept-Encoding": encoding}) for encoding in ("gzip", "")]
    assert (miss.status, miss.headers["X-Cache"]) == (404, "MISS")
    for response in (miss, *hits):
        assert response.status == 404
        assert_reader_page_headers(response)
    assert [hit.headers["X-Cache"] for hit in hits] == ["HIT", "HIT"]
    assert len(page_keys(redis_client)) == 1
