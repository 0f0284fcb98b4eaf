"""One render per key under a stampede, and a Redis outage that costs
readers nothing but a render and leaves no stale page behind."""
import threading
import time

import pytest
from django.test import override_settings

import routing
from cache import redis_guard
from cache import redis_state_changed as breaker_state_changed
from tests.cache.conftest import add_group, renders, wait_until_a_replica_has_everything
from tests.fixtures import cluster
from tests.fixtures.wsgi import request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def released_together(app, path, clients):
    barrier = threading.Barrier(clients)
    outcomes = []

    def reader():
        barrier.wait()
        response = request(app, path)
        outcomes.append((response.status, response.headers["X-Cache"], response.text))

    threads = [threading.Thread(target=reader) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def test_200_concurrent_misses_cause_one_render(app, redis_client):
    """Check that 200 readers of a page that is not cached cause exactly one render (counted on the server)."""
    outcomes = released_together(app, "/c/groups/", 200)
    assert len(outcomes) == 200 and all(status == 200 for status, _, _ in outcomes)
    assert renders(redis_client) == 1


def test_200_concurrent_readers_of_a_just_invalidated_page_cause_one_render(app, redis_client):
    """Check that after an invalidation (once a replica has it) one request
    refills while the others get the stale copy or wait."""
    request(app, "/c/groups/")
    add_group("hot")
    wait_until_a_replica_has_everything()
    outcomes = released_together(app, "/c/groups/", 200)
    assert all(status == 200 for status, _, _ in outcomes)
    assert renders(redis_client) == 2
    assert {cache for _, cache, _ in outcomes} <= {"MISS", "STALE", "HIT"}
    assert "hot" in request(app, "/c/groups/").text


def test_200_concurrent_readers_of_a_page_invalidated_longer_ago_than_b_cause_one_render(app, redis_client):
    """Check the case where the previous copy may no longer be served (its
    invalidation is older than the bound B, as when a refill slowed by the
    load outlasts it): one request refills and the others wait for it,
    instead of each rendering too."""
    request(app, "/c/groups/")
    add_group("late")
    wait_until_a_replica_has_everything()
    time.sleep(routing.replication_view().bound_seconds + 0.5)  # past B: no STALE from here on
    with override_settings(PAGE_CACHE_FILL_WAIT=30):  # how long a waiter waits is not what is checked
        outcomes = released_together(app, "/c/groups/", 200)
    assert all(status == 200 for status, _, _ in outcomes)
    assert {cache for _, cache, _ in outcomes} <= {"MISS", "HIT"}
    assert renders(redis_client) == 2
    assert all("late" in text for _, _, text in outcomes)


def test_redis_stopped_pages_are_rendered_and_the_breaker_reports_once(app, redis_client):
    """Check that with Redis down every request is served from the database, the breaker
    opens once (one signal for many requests), and closes by itself when Redis returns."""
    changes = []

    def record(sender, state, **kwargs):
        changes.append(state)

    breaker_state_changed.connect(record)
    request(app, "/c/groups/")
    cluster.stack_tool("stop", "redis")
    try:
        for _ in range(30):
            response = request(app, "/c/groups/")
            assert response.status == 200 and response.headers["X-Cache"] == "MISS"
        assert changes == ["open"]
        assert redis_guard().available() is False
        cluster.stack_tool("start", "redis")
        cluster.wait_until(lambda: request(app, "/c/groups/").status == 200
                           and not redis_guard().is_open, timeout=10,
                           message="the breaker to close")
        assert changes == ["open", "closed"]
    finally:
        cluster.stack_tool("start", "redis")
        breaker_state_changed.disconnect(record)


def test_entries_from_before_an_outage_are_not_served_after_it(app, redis_client):
    """Check that an invalidation lost while Redis was unreachable cannot leave a stale page:
    when the breaker closes, the generation moves on and old entries are ignored."""
    request(app, "/c/groups/")
    assert request(app, "/c/groups/").headers["X-Cache"] == "HIT"
    redis_client.execute_command("CLIENT", "PAUSE", "1500", "ALL")  # unreachable, data kept
    add_group("lost-invalidation")
    assert redis_guard().is_open
    cluster.wait_until(lambda: request(app, "/c/groups/").status == 200
                       and not redis_guard().is_open, timeout=10, message="the breaker to close")
    assert redis_client.get("pc:gen") is not None
    assert "lost-invalidation" in request(app, "/c/groups/").text


def test_an_outage_that_lost_no_invalidation_keeps_the_cache(app, redis_client):
    """Check that a Redis too slow for a moment (the guard opens, as it would on
    one slow call under load), with no invalidation lost meanwhile, does not
    throw the whole cache away: same generation, the entry still a hit."""
    redis_client.set("pc:tag:all", "1 1")  # as after any earlier recovery: Redis kept its data
    request(app, "/c/groups/")
    generation = redis_client.get("pc:gen")
    redis_client.execute_command("CLIENT", "PAUSE", "1500", "ALL")
    assert request(app, "/c/groups/?page=2").status == 200
    assert redis_guard().is_open
    cluster.wait_until(lambda: request(app, "/c/groups/?page=3").status == 200
                       and not redis_guard().is_open, timeout=10, message="the breaker to close")
    assert redis_client.get("pc:gen") == generation
    assert request(app, "/c/groups/").headers["X-Cache"] == "HIT"


def test_a_redis_that_lost_its_data_gets_a_floor_before_it_is_trusted_again(app, redis_client):
    """Check that when Redis comes back empty (a restart: the tag records of
    earlier invalidations are gone), the `all` record is raised to the
    primary's position, so a replica behind a forgotten invalidation cannot fill."""
    request(app, "/c/groups/")
    assert redis_client.get("pc:tag:all") is None  # emptied, as a restarted Redis is
    redis_client.execute_command("CLIENT", "PAUSE", "1500", "ALL")
    assert request(app, "/c/groups/?page=2").status == 200
    cluster.wait_until(lambda: request(app, "/c/groups/?page=3").status == 200
                       and not redis_guard().is_open, timeout=10, message="the breaker to close")
    floor = int(redis_client.get("pc:tag:all").split()[0])
    assert floor >= cluster.primary_lsn() - 1024 * 1024 and floor > 0
