"""No stale page is stored: invalidation by tags stamped with the primary's
WAL position, fills from lagging replicas refused, a slow render never
overwrites a newer entry."""
import pytest
from django.test import override_settings

from cache import store
from cache.entry import PageCacheEntry
from tests.cache.conftest import add_group, page_keys, renders, wait_until_a_replica_has_everything
from tests.fixtures import cluster
from tests.fixtures.wsgi import request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_invalidating_a_tag_refreshes_exactly_the_pages_showing_it(app, redis_client):
    """Check that adding group b invalidates the list and b's page, not a's page."""
    add_group("a")
    cluster.wait_all_replayed()
    for path in ("/c/groups/", "/c/group/a/", "/c/group/b/"):
        request(app, path)
    add_group("b")
    wait_until_a_replica_has_everything()
    assert request(app, "/c/group/a/").headers["X-Cache"] == "HIT"
    listing = request(app, "/c/groups/")
    assert listing.headers["X-Cache"] == "MISS" and "a, b" in listing.text
    detail = request(app, "/c/group/b/")
    assert detail.status == 200 and detail.headers["X-Cache"] == "MISS"


def test_invalidation_costs_one_record_per_tag_and_scans_no_keys(app, redis_client):
    """Check that an invalidation writes only its tags' records and one log entry, whatever number of pages is cached."""
    for n in range(30):
        request(app, f"/c/groups/?page={n}")
    before = set(redis_client.keys("*"))
    log_before = redis_client.xlen("pc:invlog")
    add_group("c")
    allowed = {b"pc:tag:groups", b"pc:tag:group:c", b"pc:tag-history:groups", b"pc:tag-history:group:c",
               b"pc:invlog", b"pc:epoch"}  # epoch: set by the tier's poller
    assert set(redis_client.keys("*")) - before <= allowed
    assert {b"pc:tag:groups", b"pc:tag:group:c"} <= set(redis_client.keys("*")) - before
    assert redis_client.xlen("pc:invlog") == log_before + 1


def test_without_lsn_gating_a_lagging_replica_fills_the_cache_with_a_stale_page(app, redis_client):
    """Check the hazard: gating off, a refill rendered on a paused replica after an invalidation is stored and served."""
    with override_settings(PAGE_CACHE_LSN_GATING=False), cluster.replay_paused("replica1"), \
            cluster.replay_paused("replica2"):
        request(app, "/c/groups/")
        add_group("hidden")
        refill = request(app, "/c/groups/")
        assert "hidden" not in refill.text
        served = request(app, "/c/groups/")
        assert served.headers["X-Cache"] == "HIT" and "hidden" not in served.text


def test_a_fill_from_a_snapshot_behind_an_invalidation_is_refused(app, redis_client):
    """Check that the store refuses a page whose snapshot LSN is behind its tags' newest invalidation."""
    add_group("x")
    newest = cluster.primary_lsn()
    old = PageCacheEntry.from_response(_response("old"), snapshot_lsn=newest - 100_000,
                                       tags=["groups"], fresh_until=2e9)
    assert store.store("pc:dev:0:test-key", None, old, 60) is False
    fresh = PageCacheEntry.from_response(_response("fresh"), snapshot_lsn=newest + 1,
                                         tags=["groups"], fresh_until=2e9)
    assert store.store("pc:dev:0:test-key", None, fresh, 60) is True


def test_a_slow_render_never_overwrites_a_newer_entry(app, redis_client):
    """Check compare-and-set: an entry rendered from an older snapshot cannot replace a newer one."""
    newer = PageCacheEntry.from_response(_response("newer"), snapshot_lsn=2000, tags=[], fresh_until=2e9)
    older = PageCacheEntry.from_response(_response("older"), snapshot_lsn=1000, tags=[], fresh_until=2e9)
    assert store.store("pc:dev:0:cas", None, newer, 60) is True
    assert store.store("pc:dev:0:cas", None, older, 60) is False
    assert redis_client.hget("pc:dev:0:cas", "s") == b"2000"


def test_a_render_that_started_before_an_invalidation_is_not_stored(app, redis_client):
    """Check the race end to end: a page whose reads predate a commit + invalidation made
    during its render is served to its requester but not stored."""
    from cache.middleware import PageCacheMiddleware

    original = PageCacheMiddleware.fill

    def invalidate_during_render(self, request_, response, state, position):
        add_group("during-render")  # commits after the view's reads, before the store
        return original(self, request_, response, state, position)

    PageCacheMiddleware.fill = invalidate_during_render
    try:
        first = request(app, "/c/groups/")
    finally:
        PageCacheMiddleware.fill = original
    assert "during-render" not in first.text
    assert request(app, "/c/groups/").headers["X-Cache"] == "MISS"


def _response(text):
    from django.http import HttpResponse

    return HttpResponse(text)
