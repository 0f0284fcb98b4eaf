"""The Permissions-Policy header: every browser capability denied, on every
response Django produces and on the page cache's hits, which replay it
because cache/entry.py stores it with the page. (Chromium's reading of it is
checked in tests/e2e/test_permissions_policy.py.)"""
import pytest

from blog import permissions_policy
from tests.fixtures import cluster
from tests.fixtures.factories import PostFactory
from tests.fixtures.wsgi import application_on, request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

POLICY = ", ".join(f"{feature}=()" for feature in sorted(permissions_policy.DENIED_FEATURES))
POWERFUL = ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()", "browsing-topics=()")


@pytest.fixture
def site(replicated_db, redis_client):
    with application_on("urls") as application:
        yield application


@pytest.fixture
def post():
    made = PostFactory()
    cluster.wait_all_replayed()
    return made


def test_the_policy_denies_the_powerful_features_and_allows_nothing():
    """Check that the header names the capabilities an injected script would want, each with no origin."""
    assert all(feature in POLICY.split(", ") for feature in POWERFUL)
    assert all(entry.endswith("=()") for entry in POLICY.split(", "))


def test_every_kind_of_response_carries_the_policy(site, post):
    """Check a page rendered (MISS) and from the cache (HIT), a 304 from the
    cache, an unknown URL's 404, the admin, a static file and the health probe."""
    page = post.get_absolute_url()
    miss, hit = request(site, page), request(site, page, headers={"Accept-Encoding": "gzip"})
    not_modified = request(site, page, headers={"If-None-Match": miss.headers["ETag"]})
    assert [r.headers["X-Cache"] for r in (miss, hit, not_modified)] == ["MISS", "HIT", "HIT"]
    assert not_modified.status == 304
    others = [request(site, path) for path in ("/no/such/page/", "/admin/login/", "/healthz",
                                               "/static/blog/favicon.svg")]
    assert [r.status for r in others] == [404, 200, 200, 200]
    for response in (miss, hit, not_modified, *others):
        assert response.headers["Permissions-Policy"] == POLICY


def test_a_hit_carries_the_policy_only_because_the_entry_stores_it(site, post, monkeypatch):
    """Check the hazard first: hits never pass Django's middleware, so with the
    header left out of the stored ones a hit loses it; stored, it is replayed."""
    from cache import entry

    without = tuple(name for name in entry.STORED_HEADERS if name != "Permissions-Policy")
    monkeypatch.setattr(entry, "STORED_HEADERS", without)
    page = post.get_absolute_url()
    miss, hit = request(site, page), request(site, page)
    assert hit.headers["X-Cache"] == "HIT"
    assert miss.headers["Permissions-Policy"] == POLICY and "Permissions-Policy" not in hit.headers
    monkeypatch.undo()

    other = PostFactory()
    cluster.wait_all_replayed()
    miss, hit = request(site, other.get_absolute_url()), request(site, other.get_absolute_url())
    assert hit.headers["X-Cache"] == "HIT" and hit.headers["Permissions-Policy"] == POLICY
