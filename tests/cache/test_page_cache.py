"""The page cache: what is cached for whom, in which form, under which key."""
import gzip

import pytest
from django.contrib.auth.models import Group

from cache.wsgi import milliseconds
from routing.request_state import ENVIRON_KEY
from tests.cache.conftest import add_group, page_keys, renders
from tests.fixtures import cluster
from tests.fixtures.wsgi import environ_for, request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_a_second_anonymous_get_is_a_hit_without_rendering(app, redis_client):
    """Check that the first GET renders (MISS) and stores, and the next is served by the fast path (HIT)."""
    first = request(app, "/c/groups/")
    assert first.status == 200 and first.headers["X-Cache"] == "MISS"
    second = request(app, "/c/groups/")
    assert second.headers["X-Cache"] == "HIT" and 'desc="redis"' in second.headers["Server-Timing"]
    assert second.body == first.body
    assert renders(redis_client) == 1


def test_every_reader_response_carries_request_id_and_server_timing(app):
    """Check X-Request-ID and Server-Timing (cache, db, app) on a miss, a hit and a bypass."""
    for path in ("/c/groups/", "/c/groups/", "/c/plain/"):
        response = request(app, path)
        assert len(response.headers["X-Request-ID"]) >= 8
        timing = response.headers["Server-Timing"]
        assert "cache;dur=" in timing and "db;dur=" in timing and "app;dur=" in timing
    assert request(app, "/c/plain/").headers["X-Cache"] == "BYPASS"


def test_a_sane_request_id_from_the_proxy_is_kept(app):
    """Check that a well-formed X-Request-ID is echoed back rather than
    replaced, by the render (MISS) and by the hit that follows."""
    for outcome in ("MISS", "HIT"):
        response = request(app, "/c/groups/", headers={"X-Request-ID": "abc12345-proxy"})
        assert (response.headers["X-Cache"], response.headers["X-Request-ID"]) == (outcome, "abc12345-proxy")


def test_only_a_request_that_enters_django_gets_a_request_record(app):
    """Check that the request's record (routing.RequestState, what Django's
    parts share) is made for a render and never for a hit, which answers
    without it (a hit's path stays short)."""
    rendered, hit = environ_for("/c/groups/"), environ_for("/c/groups/")
    for environ in (rendered, hit):
        b"".join(app(environ, lambda status, headers, exc_info=None: None))
    assert rendered[ENVIRON_KEY].cache_outcome == "MISS" and rendered[ENVIRON_KEY].request_id
    assert ENVIRON_KEY not in hit


@pytest.mark.parametrize("seconds, shown", [(0, "0.00"), (0.0005, "0.50"), (0.012345, "12.34"), (1.5, "1500.00")])
def test_a_hits_server_timing_shows_milliseconds_with_two_decimals(seconds, shown):
    """Check the hit's duration format without a float formatted (cut, not rounded)."""
    assert milliseconds(seconds) == shown


def test_gzip_and_identity_are_served_with_distinct_strong_etags(app):
    """Check that one entry serves both representations, each with its own strong ETag."""
    request(app, "/c/groups/")
    zipped = request(app, "/c/groups/", headers={"Accept-Encoding": "gzip, br"})
    plain = request(app, "/c/groups/")
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.body) == plain.body
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["ETag"] != plain.headers["ETag"]
    assert not zipped.headers["ETag"].startswith("W/")
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert plain.headers["Cache-Control"] == "no-cache"


def test_if_none_match_is_answered_304_from_the_cache(app):
    """Check that a matching ETag gets a bodiless 304 (a HIT), a stale one the page."""
    request(app, "/c/groups/")
    etag = request(app, "/c/groups/").headers["ETag"]
    revalidated = request(app, "/c/groups/", headers={"If-None-Match": etag})
    assert revalidated.status == 304 and revalidated.body == b""
    assert revalidated.headers["X-Cache"] == "HIT"
    assert request(app, "/c/groups/", headers={"If-None-Match": '"other"'}).status == 200


def test_head_is_served_from_the_cache_without_a_body(app):
    """Check that HEAD gets the headers of the cached page and no body."""
    request(app, "/c/groups/")
    head = request(app, "/c/groups/", method="HEAD")
    assert head.status == 200 and head.body == b"" and head.headers["X-Cache"] == "HIT"


def test_a_hit_goes_whole_to_a_server_that_offers_to_send_it(app):
    """Check that where the worker offers send_prepared (deploy/http_response.py),
    a hit hands it the representation's own header list (built once per
    entry), its three own headers and the body, and never calls
    start_response; a HEAD hands no body; and when the server declines, the
    hit is answered through start_response with those same headers."""
    from cache.wsgi import SEND_PREPARED

    plain = request(app, "/c/groups/")
    handed = []

    def send_prepared(status, headers, own, body):
        handed.append((status, headers, own, body))
        return () if len(handed) < 3 else None

    def never_called(status, headers, exc_info=None):
        raise AssertionError("start_response called on a prepared hit")

    for method in ("GET", "HEAD"):
        environ = {**environ_for("/c/groups/", method), SEND_PREPARED: send_prepared}
        assert app(environ, never_called) == ()
    (get_status, get_headers, own, get_body), (_, head_headers, _, head_body) = handed
    assert get_status == "200 OK" and head_headers == get_headers
    assert [name for name, _ in own] == ["X-Cache", "X-Request-ID", "Server-Timing"] and own[0][1] == "HIT"
    assert get_body == plain.body and head_body == b""
    assert ("Content-Length", str(len(plain.body))) in get_headers
    declined = {}
    environ = {**environ_for("/c/groups/"), SEND_PREPARED: send_prepared}
    body = b"".join(app(environ, lambda status, headers, exc_info=None: declined.update(headers=headers)))
    assert body == plain.body and declined["headers"][:len(get_headers)] == get_headers
    assert [name for name, _ in declined["headers"][len(get_headers):]] == ["X-Cache", "X-Request-ID", "Server-Timing"]


def test_the_key_keeps_only_declared_parameters_normalised(app, redis_client):
    """Check that utm_* and other junk neither split the key nor add entries, and order does not matter."""
    request(app, "/c/groups/?page=2&utm_source=x")
    assert request(app, "/c/groups/?utm_campaign=y&page=2&junk=1").headers["X-Cache"] == "HIT"
    for n in range(5):
        request(app, f"/c/groups/?page=2&flood={n}")
    assert page_keys(redis_client) == ["pc:dev:0:http://127.0.0.1/c/groups/?page=2"]


def test_unknown_paths_and_undeclared_views_are_never_cached(app, redis_client):
    """Check that a URL no view answers, or a view not marked cacheable, leaves no entry."""
    request(app, "/c/plain/")
    request(app, "/no/such/page/")
    assert page_keys(redis_client) == []


def test_a_declared_bypass_parameter_skips_the_cache(app, redis_client):
    """Check that a per-reader variant (?notice=...) is never answered from, nor stored in, the cache."""
    add_group("g")
    cluster.wait_all_replayed()
    request(app, "/c/group/g/")
    variant = request(app, "/c/group/g/?notice=held")
    assert variant.headers["X-Cache"] == "BYPASS"
    assert request(app, "/c/group/g/").headers["X-Cache"] == "HIT"
    assert len(page_keys(redis_client)) == 1


def test_an_unknown_host_is_not_cached(app, redis_client):
    """Check that a Host outside ALLOWED_HOSTS never reaches the cache (Django answers 400)."""
    response = request(app, "/c/groups/", host="evil.example")
    assert response.status == 400
    assert page_keys(redis_client) == []


@pytest.mark.parametrize("cookie", [{"csrftoken": "abc"}, {"_ga": "GA1.2.3"}, {"whatever": "1"}])
def test_csrf_analytics_and_unknown_cookies_neither_bypass_nor_split(app, redis_client, cookie):
    """Check that such cookies are served the shared entry."""
    request(app, "/c/groups/")
    response = request(app, "/c/groups/", cookies=cookie)
    assert response.headers["X-Cache"] == "HIT"
    assert len(page_keys(redis_client)) == 1


def test_a_login_marker_bypasses_the_cache(app, redis_client):
    """Check that a genuine login marker for the session always renders and never stores."""
    from routing.login_marker import SIGNER

    request(app, "/c/groups/")
    marker = SIGNER.sign("editor", bound_to="a-session-key")
    response = request(app, "/c/groups/", cookies={"sessionid": "a-session-key", "signedin": marker})
    assert response.headers["X-Cache"] == "BYPASS"
    assert renders(redis_client) == 1


@pytest.mark.parametrize("cookies", [
    {"sessionid": "x"},
    {"sessionid": "x", "signedin": "editor.0.00"},
    "marker of another session",
])
def test_a_bare_or_forged_session_is_served_like_any_reader(app, redis_client, cookies):
    """Check that a session cookie without a genuine marker (anyone can send
    one) neither bypasses the cache nor reaches the primary."""
    from routing.login_marker import SIGNER

    if cookies == "marker of another session":
        cookies = {"sessionid": "mine", "signedin": SIGNER.sign("editor", bound_to="someone-else")}
    request(app, "/c/groups/")
    response = request(app, "/c/groups/", cookies=cookies)
    assert response.headers["X-Cache"] == "HIT"
    assert renders(redis_client) == 1


def test_a_pinned_request_is_served_only_entries_at_or_past_its_pin(app):
    """Check that a pin behind the entry gets a HIT and a pin ahead of it renders."""
    from routing.pin import SIGNER

    request(app, "/c/groups/")
    assert request(app, "/c/groups/", cookies={"pin": SIGNER.sign(f"{1:x}")}).headers["X-Cache"] == "HIT"
    ahead = request(app, "/c/groups/", cookies={"pin": SIGNER.sign(f"{2 ** 60:x}")})
    assert ahead.headers["X-Cache"] == "MISS"


@pytest.mark.parametrize("forged", [f"{2 ** 60:x}.0.{'0' * 32}", "FFFFFFFF/0", "f" * 3700,
                                    f"{2 ** 70:x}.1.{'a' * 32}", "\x00"])
def test_a_forged_pin_is_no_pin_in_the_fast_path(app, redis_client, forged):
    """Check that a pin whose signature does not check out is ignored before
    Django too: the request is a plain HIT, not a render without a lease."""
    request(app, "/c/groups/")
    response = request(app, "/c/groups/", cookies={"pin": forged})
    assert response.status == 200 and response.headers["X-Cache"] == "HIT"
    assert renders(redis_client) == 1


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_unsafe_methods_are_never_cached(app, redis_client, method):
    """Check that no unsafe method is served from or stored in the cache."""
    request(app, "/c/groups/")
    response = request(app, "/c/groups/", method=method)
    assert response.headers["X-Cache"] == "BYPASS"
    assert renders(redis_client) == 1


def test_responses_with_set_cookie_or_private_are_not_stored(app, redis_client):
    """Check that a Set-Cookie or Cache-Control: private response is never stored or replayed."""
    for path in ("/c/cookie/", "/c/private/"):
        request(app, path)
        assert request(app, path).headers["X-Cache"] == "MISS"
    assert page_keys(redis_client) == []


def test_a_404_is_cached_briefly(app, redis_client):
    """Check that a 404 of a cacheable view is stored with a short lifetime."""
    assert request(app, "/c/group/nobody/").status == 404
    assert request(app, "/c/group/nobody/").headers["X-Cache"] == "HIT"
    key = page_keys(redis_client)[0]
    assert 0 < redis_client.pttl(key) <= 1000


def test_a_new_app_version_never_serves_an_old_page(app, settings):
    """Check that APP_VERSION is part of the key."""
    request(app, "/c/groups/")
    settings.APP_VERSION = "next-release"
    assert request(app, "/c/groups/").headers["X-Cache"] == "MISS"


def test_outcomes_are_counted_exactly_for_readyz(app):
    """Check that hits, misses and bypasses add up exactly in the shared counters."""
    from cache import stats

    before = stats.totals()
    request(app, "/c/groups/")
    for _ in range(3):
        request(app, "/c/groups/")
    request(app, "/c/plain/")
    after = stats.totals()
    assert {name: after[name] - before[name] for name in after} == {
        "hit": 3, "miss": 1, "bypass": 1, "stale": 0}
