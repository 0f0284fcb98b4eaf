"""Reads go to replicas, writes to the primary, and no session misses its own
write: proven against the real cluster, where reads went being read from the
servers' own statistics (pg_stat_statements), not from the router."""
import threading

import pytest
from django.db import transaction
from django.contrib.auth.models import Group
from django.test import Client, override_settings

from routing import health, use_primary
from tests.fixtures import cluster

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

READ_SQL = 'FROM "auth_group"'


def test_anonymous_reads_hit_the_replicas_and_not_the_primary(probe):
    """Check that a burst of anonymous GETs is served by the replicas, by the servers' own counts."""
    cluster.reset_statement_stats()
    for _ in range(40):
        assert probe.get("/probe/read/").status_code == 200
    calls = cluster.calls_per_server(READ_SQL)
    print(f"read-only burst of 40: queries per server {calls}")
    assert calls["default"] == 0
    assert calls["replica1"] + calls["replica2"] == 40
    assert calls["replica1"] > 0 and calls["replica2"] > 0


def test_health_polls_are_told_apart_from_reads(probe):
    """Check that the servers see the poller under its own application_name."""
    names = {row[0] for row in cluster.query("replica1", "SELECT application_name FROM pg_stat_activity")}
    assert "blog:health" in names


def test_reads_inside_atomic_and_use_primary_go_to_the_primary(probe):
    """Check that a read inside a transaction on the primary, or in use_primary(), reads the primary."""
    from routing import context
    from routing.router import read_alias

    with context.activate(context.ReadPosition()):
        with transaction.atomic():
            assert read_alias() == "default"
        with use_primary():
            assert read_alias() == "default"
        assert read_alias().startswith("replica")


def test_a_logged_in_session_reads_from_the_primary(probe, django_user_model):
    """Check that a logged-in editor (known by the login marker its session
    got on its first response) reads only from the primary."""
    probe.force_login(django_user_model.objects.create_user("ed", is_staff=True))
    cluster.wait_all_replayed()  # the session was written outside any request: no pin
    first = probe.get("/probe/read/")
    assert "signedin" in first.cookies
    cluster.reset_statement_stats()
    response = probe.get("/probe/read/")
    assert response.json()["why"] == "logged-in"
    calls = cluster.calls_per_server(READ_SQL)
    assert calls == {"default": 1, "replica1": 0, "replica2": 0}


def test_a_bare_session_cookie_reads_from_a_replica(probe):
    """Check that a session cookie alone (anyone can send one) is no lever to
    aim reads at the primary."""
    probe.cookies["sessionid"] = "anything"
    cluster.reset_statement_stats()
    response = probe.get("/probe/read/")
    assert response.json()["why"] == "replica"
    assert cluster.calls_per_server(READ_SQL)["default"] == 0


def test_a_get_that_writes_nothing_sets_no_pin(probe):
    """Check that plain reads never set the pin cookie."""
    response = probe.get("/probe/read/")
    assert "pin" not in response.cookies


def test_without_the_pin_a_writer_misses_its_own_write_on_a_paused_replica(probe):
    """Check the hazard: with pinning switched off, a commenter reads a stale replica."""
    with override_settings(ROUTING_PIN_WRITES=False), \
            cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        response = probe.post("/probe/write/", {"name": "unpinned"})
        assert response.status_code == 303
        assert "pin" not in response.cookies
        assert "unpinned" not in probe.get("/probe/read/").json()["names"]


def test_with_the_pin_a_writer_always_sees_its_own_write(probe):
    """Check read-your-writes over many trials while both replicas are paused,
    and that anonymous readers are still served (stale) by a replica meanwhile."""
    anonymous = Client()
    with cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        for trial in range(25):
            name = f"pinned-{trial}"
            assert probe.post("/probe/write/", {"name": name}).status_code == 303
            assert "pin" in probe.cookies
            seen = probe.get("/probe/read/").json()
            assert name in seen["names"], f"trial {trial} missed its write"
            assert seen["alias"] == "default"
            stranger = anonymous.get("/probe/read/").json()
            assert stranger["alias"].startswith("replica")
            assert name not in stranger["names"]


def test_with_a_delayed_replica_the_pin_prefers_a_caught_up_replica(probe, monitor):
    """Check that a pinned read goes to a replica that has replayed the write, not the primary."""
    with cluster.replay_paused("replica1"):
        probe.post("/probe/write/", {"name": "fresh"})
        pin_lsn = cluster.primary_lsn()
        cluster.wait_replayed("replica2", pin_lsn)
        cluster.wait_until(lambda: monitor.replicas["replica2"].replay_lsn >= pin_lsn, 5,
                           message="the monitor to see replica2 caught up")
        for _ in range(10):
            seen = probe.get("/probe/read/").json()
            assert "fresh" in seen["names"]
            assert seen["alias"] == "replica2"


def test_the_pin_is_dropped_once_every_replica_has_caught_up_and_the_bound_has_passed(
        probe, monitor, monkeypatch):
    """Check that the pin cookie is kept while younger than the staleness
    bound B (a previous copy of a page may still be served as STALE to
    readers until then), even with every replica caught up; then cleared."""
    from routing import middleware

    probe.post("/probe/write/", {"name": "caught-up"})
    pin = probe.cookies["pin"].value
    assert pin
    target = cluster.primary_lsn()
    cluster.wait_until(
        lambda: all(s.replay_lsn >= target for s in monitor.replicas.values()), 10,
        message="the monitor to see both replicas caught up")
    kept = probe.get("/probe/read/")
    assert "caught-up" in kept.json()["names"]
    assert "pin" not in kept.cookies and probe.cookies["pin"].value == pin
    bound = monitor.view.bound_seconds + 2 * middleware.conf.health_interval()
    monkeypatch.setattr("routing.signed.time.time", lambda real=__import__("time").time: real() + bound)
    response = probe.get("/probe/read/")
    assert "caught-up" in response.json()["names"]
    assert response.cookies["pin"].value == ""
    assert response.cookies["pin"]["max-age"] == 0


def test_a_forged_pin_cookie_is_ignored(probe):
    """Check that a pin with a bad signature does not route to the primary."""
    probe.cookies["pin"] = "FFFF/FFFFFFFF:1abc:forged"
    assert probe.get("/probe/read/").json()["why"] == "replica"


def test_a_pinned_session_never_reads_behind_what_it_has_seen(probe, monitor):
    """Check monotonic reads: a pinned session that read the primary (seeing a
    newer write by someone else) has its pin raised to that position, so it is
    never sent to a replica that has not replayed what it saw."""
    from routing.pin import verified_pin

    def lsn_in_cookie(value):
        return verified_pin(value)[0]

    with cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        probe.post("/probe/write/", {"name": "mine"})
        own_write = lsn_in_cookie(probe.cookies["pin"].value)
        Group.objects.using("default").create(name="someone-else")
        newer = cluster.primary_lsn()
        response = probe.get("/probe/read/")
        assert response.json()["alias"] == "default"
        assert "someone-else" in response.json()["names"]
        assert lsn_in_cookie(response.cookies["pin"].value) >= newer > own_write
        cluster.stack_tool("resume", "replica2")
        cluster.wait_replayed("replica2", newer)
        cluster.wait_until(lambda: monitor.replicas["replica2"].replay_lsn >= newer, 5,
                           message="the monitor to see replica2 caught up")
        for _ in range(5):
            seen = probe.get("/probe/read/").json()
            assert seen["alias"] in ("replica2", "default")
            assert "someone-else" in seen["names"]


@override_settings(REPLICA_ALIASES=[])
def test_with_zero_replicas_everything_reads_from_the_primary(probe):
    """Check that with no replica configured reads and writes work on the
    primary, and a write still pins the session (the page cache honours the
    pin: a worker's memory tier may not have seen the write's invalidation yet)."""
    response = probe.post("/probe/write/", {"name": "solo"})
    assert response.status_code == 303
    assert response.cookies["pin"].value
    seen = probe.get("/probe/read/").json()
    assert seen["alias"] == "default" and "solo" in seen["names"]


def test_a_pinned_session_tries_the_primary_even_when_it_was_last_seen_down(probe, monitor):
    """Check that just after the primary comes back (this process still thinks it down),
    a pinned read goes to the primary rather than to a replica behind its write."""
    with cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        probe.post("/probe/write/", {"name": "just-back"})
        monitor.mark_down("default", "as if the poller had not seen it come back yet")
        seen = probe.get("/probe/read/").json()
        assert seen["alias"] == "default" and "just-back" in seen["names"]


def test_a_pinned_read_while_the_primary_restarts_is_served_by_it_once_it_is_back(probe):
    """Check the switchover case: a pinned read that finds no primary (here
    restarting) and no standby past its write is served by the primary, with
    the write, as soon as the primary is back; it does not wait out the whole
    lag bound and then read from a standby behind the write. (The restarting
    member is left out of the replicas: in recovery for a moment before it
    leads again, it would serve the read itself, as it may.)"""
    assert cluster.stack_tool("leader").stdout.split()[0] == "primary"  # the member stopped below leads
    standbys = ["replica1", "replica2"]
    with override_settings(MAX_REPLICA_LAG_SECONDS=30, REPLICA_ALIASES=standbys):
        health.reset()
        health.monitor().polled.wait(5)
        restart = threading.Timer(1.0, cluster.stack_tool, ("start", "primary"))
        try:
            with cluster.apply_delay("replica1", "60s"), cluster.apply_delay("replica2", "60s"):
                probe.post("/probe/write/", {"name": "across-a-restart"})
                cluster.query("default", "CHECKPOINT")  # a restart replays seconds of WAL, not minutes
                cluster.stack_tool("stop", "primary")
                restart.start()
                seen = probe.get("/probe/read/").json()
        finally:
            # Only once the delay is lifted: a standby waiting out its delay
            # streams again only past it, and `start` waits for the cluster
            # to be whole (a minute of the suite's time otherwise).
            if restart.ident is not None:
                restart.join()
    assert seen["alias"] == "default" and "across-a-restart" in seen["names"]
