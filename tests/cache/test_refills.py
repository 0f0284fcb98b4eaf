"""Replicas carry the refills: after an invalidation at X, readers get the
previous copy (STALE) until a replica in rotation has replayed X, then one
request refills from that replica; never STALE later than B after X; the
primary renders only for writers pinned past every replica and when no
replica is in rotation. Renders are counted per server by the servers' own
pg_stat_statements."""
import time

import pytest
from django.test import override_settings

import routing
import routing.conf
from tests.cache.conftest import add_group
from tests.fixtures import cluster
from tests.fixtures.wsgi import request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

READ_SQL = 'FROM "auth_group"'


def invalidated_at(redis_client, tag="groups"):
    """When (unix seconds) the tag's newest invalidation was recorded."""
    return int(redis_client.get(f"pc:tag:{tag}").split()[1]) / 1000


def test_readers_get_the_previous_copy_until_a_replica_has_the_change_then_it_refills_there(
        app, redis_client):
    """Check the paused-replica case: while no replica has replayed the
    invalidation, readers get STALE and the primary renders nothing; once
    replica1 has, one request refills from replica1 and the rest hit."""
    request(app, "/c/groups/")
    with cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        add_group("later")
        cluster.reset_statement_stats()
        answers = [request(app, "/c/groups/") for _ in range(10)]
        assert {a.headers["X-Cache"] for a in answers} == {"STALE"}
        assert not any("later" in a.text for a in answers)
        assert cluster.calls_per_server(READ_SQL)["default"] == 0
        cluster.stack_tool("resume", "replica1")
        target = cluster.primary_lsn()
        cluster.wait_until(lambda: routing.replication_view().caught_up_lsn >= target, 5,
                           message="the health view to see replica1 caught up")
        refill = request(app, "/c/groups/")
        assert refill.headers["X-Cache"] == "MISS" and "later" in refill.text
        assert "read from replica1" in refill.text
        assert 'db;dur=' in refill.headers["Server-Timing"] and 'desc="replica1, ' in refill.headers["Server-Timing"]
        after = [request(app, "/c/groups/") for _ in range(5)]
        assert {a.headers["X-Cache"] for a in after} == {"HIT"} and all("later" in a.text for a in after)
    calls = cluster.calls_per_server(READ_SQL)
    assert calls["default"] == 0 and calls["replica1"] == 1 and calls["replica2"] == 0


def test_the_writer_reads_its_own_write_and_its_render_is_stored_for_everyone(app, redis_client):
    """Check that a writer pinned past every replica never meets the STALE copy:
    it renders on the primary, which has the write, and that fresh page is
    stored, so readers need no refill."""
    request(app, "/c/groups/")
    with cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        written = request(app, "/c/add/", method="POST", data=b"name=mine",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        pin = written.cookies["pin"].value
        own = request(app, "/c/groups/", cookies={"pin": pin})
        assert own.headers["X-Cache"] == "MISS" and "mine" in own.text and "read from default" in own.text
        reader = request(app, "/c/groups/")
        assert reader.headers["X-Cache"] == "HIT" and "mine" in reader.text


def test_a_replica_that_never_catches_up_leaves_rotation_and_the_page_is_refilled_within_the_bound(
        app, redis_client):
    """Check that with both replicas stuck, readers get STALE only while
    within B of the invalidation (B = their lag + 1 s), and once they have
    left rotation (lag beyond MAX_REPLICA_LAG_SECONDS) the primary refills."""
    with override_settings(MAX_REPLICA_LAG_SECONDS=1.5, PIN_MAX_AGE=30):
        request(app, "/c/groups/")
        with cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
            add_group("stuck")
            since = invalidated_at(redis_client)
            seen = []
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                started = time.time()
                answer = request(app, "/c/groups/")
                seen.append(answer.headers["X-Cache"])
                if answer.headers["X-Cache"] == "STALE":  # B is at most MAX_REPLICA_LAG_SECONDS + 1 s
                    assert started - since < 1.5 + routing.conf.STALENESS_EXTRA_SECONDS
                elif "stuck" in answer.text:
                    break
                time.sleep(0.05)
            assert "stuck" in answer.text and "read from default" in answer.text, seen
            assert seen[0] == "STALE"


def test_with_every_replica_out_of_rotation_the_primary_refills_at_once(app, redis_client, monitor):
    """Check that when no replica is in rotation, the refill is not delayed:
    the primary has everything."""
    request(app, "/c/groups/")
    for alias in ("replica1", "replica2"):
        monitor.mark_down(alias, "out for this test")
    add_group("now")
    answer = request(app, "/c/groups/")
    assert answer.headers["X-Cache"] == "MISS" and "now" in answer.text and "read from default" in answer.text


def test_with_no_previous_copy_a_replica_renders_and_only_a_page_that_passes_the_store_check_is_kept(
        app, redis_client):
    """Check the evicted (or never cached) case: the lookup alone cannot know
    the invalidation X for an absent key, so the render runs on a replica and
    the store checks it against its tags: behind X, it is served but not kept."""
    from tests.cache.conftest import page_keys

    request(app, "/c/groups/")
    with cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        add_group("evicted")
        for key in page_keys(redis_client):
            redis_client.delete(key)
        behind = request(app, "/c/groups/")
        assert behind.headers["X-Cache"] == "MISS" and "read from replica" in behind.text
        assert "evicted" not in behind.text and page_keys(redis_client) == []
    cluster.wait_all_replayed()
    caught_up = request(app, "/c/groups/")
    assert "evicted" in caught_up.text and "read from replica" in caught_up.text
    assert request(app, "/c/groups/").headers["X-Cache"] == "HIT"


@pytest.fixture
def monitor(app):
    from routing import health

    return health.monitor()
