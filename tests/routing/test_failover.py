"""Replica health and failover: lagging or dead replicas leave rotation and
come back by themselves; readers see no failed request."""
import time

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings

from tests.fixtures import cluster

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")
from tests.routing.conftest import primary_stopped, wait_in_rotation


@override_settings(MAX_REPLICA_LAG_SECONDS=1)
def test_a_replica_paused_beyond_the_lag_limit_leaves_rotation_and_returns(probe, monitor):
    """Check that a replica lagging past MAX_REPLICA_LAG_SECONDS leaves rotation, then rejoins on resume."""
    with cluster.replay_paused("replica1"):
        Group.objects.using("default").create(name="moves-the-primary")
        wait_in_rotation(monitor, "replica1", False)
        assert monitor.replicas["replica1"].up is True
        assert monitor.replicas["replica1"].lag_seconds > 1
        for _ in range(10):
            assert probe.get("/probe/read/").json()["alias"] in ("replica2", "default")
    wait_in_rotation(monitor, "replica1", True)


def test_lag_is_zero_on_an_idle_primary(probe, monitor):
    """Check that with nothing written, a caught-up replica reports no lag however long it stays idle."""
    cluster.wait_all_replayed()
    monitor.polled.clear()
    monitor.polled.wait(5)
    monitor.polled.clear()
    monitor.polled.wait(5)
    for status in monitor.replicas.values():
        assert status.lag_seconds == 0 and status.lag_bytes == 0


def test_a_connection_lost_mid_request_is_retried_elsewhere(probe, monitor):
    """Check that a GET whose replica connection dies mid-view runs again on another server, without error."""
    Group.objects.using("default").create(name="kept")
    cluster.wait_all_replayed()
    response = probe.get("/probe/lose-connection/")
    assert response.status_code == 200
    body = response.json()
    assert body["first"] == body["second"] == ["kept"]
    assert len(body["excluded"]) == 1 and body["alias"] not in body["excluded"]


def test_a_stopped_replica_leaves_rotation_and_rejoins_when_started(probe, monitor):
    """Check that reads go on with one replica stopped, and it comes back by itself."""
    stopped_at = time.monotonic()
    cluster.stack_tool("stop", "replica2")
    try:
        for _ in range(20):
            assert probe.get("/probe/read/").status_code == 200
        wait_in_rotation(monitor, "replica2", False)
        print(f"killed replica out of rotation after {time.monotonic() - stopped_at:.2f}s")
    finally:
        cluster.stack_tool("start", "replica2")
    wait_in_rotation(monitor, "replica2", True, timeout=40)


def test_primary_stopped_reads_go_on_and_writes_get_a_read_only_503(probe, monitor):
    """Check read-only mode: GETs still 200, a POST gets 503 with the text kept, and writes resume after restart."""
    Group.objects.using("default").create(name="before-outage")
    cluster.wait_all_replayed()
    cluster.stack_tool("stop", "primary")
    try:
        for _ in range(5):
            response = probe.get("/probe/read/")
            assert response.status_code == 200
            assert "before-outage" in response.json()["names"]
        refused = probe.post("/probe/write/", {"name": "my precious words"})
        assert refused.status_code == 503
        assert b"read-only" in refused.content
        assert b"my precious words" in refused.content
    finally:
        cluster.stack_tool("start", "primary")
    cluster.wait_until(lambda: monitor.primary.up, 30, message="the primary to be seen up")
    assert probe.post("/probe/write/", {"name": "after-outage"}).status_code == 303



# A WAL position no standby will have replayed (a refill's required one,
# stamped by a primary that was lost before it sent that far).
BEYOND_EVERY_STANDBY = 2 ** 62


def test_with_the_primary_down_a_refill_past_every_standby_reads_the_freshest_at_once(probe, monitor):
    """Check that a read which must reach a position no standby has replayed,
    and which is not the session's own (a refill after an invalidation, whose
    position the lost primary may never have sent), is served at once by a
    standby, marked primary-down, while the primary is down. It used to wait
    for a standby past it as a pinned read does, up to MAX_REPLICA_LAG_SECONDS
    (10 s): readers timed out during a failover (the bench, 3 of 6,249)."""
    Group.objects.using("default").create(name="before-the-loss")
    cluster.wait_all_replayed()
    with primary_stopped(monitor):
        seen = probe.get(f"/probe/read-past/?lsn={BEYOND_EVERY_STANDBY}").json()
        assert seen["waited"] is False
        assert seen["why"] == "primary-down" and seen["alias"] in ("replica1", "replica2")
        assert "before-the-loss" in seen["names"]
    # Back, the primary serves it (a request opens its connections afresh).
    assert probe.get(f"/probe/read-past/?lsn={BEYOND_EVERY_STANDBY}").json()["alias"] == "default"


def test_with_the_primary_down_a_pinned_refill_waits_only_for_its_own_write(probe, monitor):
    """Check that a writer's read which must also reach a position beyond
    every standby (a refill of a page someone else's comment invalidated)
    is served, while the primary is down, by a standby that has its own
    write, as a pinned read (not degraded): it waits for its own position
    only, never for the refill's, which no standby may ever reach."""
    assert probe.post("/probe/write/", {"name": "my-own-write"}).status_code == 303
    cluster.wait_all_replayed()
    with primary_stopped(monitor):
        seen = probe.get(f"/probe/read-past/?lsn={BEYOND_EVERY_STANDBY}").json()
        assert seen["why"] == "pinned" and seen["alias"] in ("replica1", "replica2")
        assert "my-own-write" in seen["names"]
    assert probe.get("/probe/read/").status_code == 200  # connections opened afresh after the restart
