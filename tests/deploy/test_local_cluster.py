"""The local stack is a real PostgreSQL primary with two streaming replicas
(three members under Patroni) and a real Redis, and the tests can control
replication deterministically. tests/deploy/test_patroni_cluster.py covers
what Patroni adds: failover, rejoining, synchronous replication."""
import time

import pytest
import redis
from django.conf import settings
from django.db import connections

from tests.fixtures import cluster

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def test_primary_streams_to_both_replicas_through_their_slots_one_synchronously():
    """Check that the first member leads and that pg_stat_replication on it lists
    both others (Patroni's members pg1 and pg2), each on its own slot, one of
    them synchronous: a commit waits for that one."""
    rows = cluster.query(
        "default",
        "SELECT s.slot_name, r.sync_state FROM pg_stat_replication r "
        "JOIN pg_replication_slots s ON s.active_pid = r.pid WHERE r.state = 'streaming'",
    )
    assert sorted(name for name, _ in rows) == ["pg1", "pg2"]
    assert sorted(state for _, state in rows) == ["async", "sync"]
    assert cluster.query("default", "SHOW synchronous_commit") == [("on",)]


def test_replica_aliases_connect_to_every_member_the_standbys_first():
    """Check that each replica alias is its own member on the test database:
    replica1 and replica2 the stack's standbys, replica3 the member that leads
    after a fresh start (out of rotation while it does)."""
    assert settings.REPLICA_ALIASES == ["replica1", "replica2", "replica3"]
    for alias, standby in (("replica1", True), ("replica2", True), ("replica3", False)):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_is_in_recovery(), current_database(), current_setting('port')")
            in_recovery, database, port = cursor.fetchone()
        assert in_recovery is standby
        assert database == connections["default"].settings_dict["NAME"]
        assert int(port) == int(settings.DATABASES[alias]["PORT"])
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery()")
        assert cursor.fetchone() == (False,)


def test_each_alias_names_itself_to_the_server():
    """Check that the server sees each alias's application_name."""
    for alias in ["default", *settings.REPLICA_ALIASES]:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT current_setting('application_name'), current_setting('statement_timeout')")
            name, timeout = cursor.fetchone()
        assert name == f"blog:{alias}"
        assert timeout != "0"


def test_a_write_on_the_primary_reaches_a_replica_by_lsn():
    """Check that waiting for a replica to replay the write's LSN makes it visible there."""
    cluster.query("default", "CREATE TABLE IF NOT EXISTS probe (v text)")
    cluster.query("default", "INSERT INTO probe VALUES ('written')")
    cluster.wait_replayed("replica1", cluster.primary_lsn())
    assert cluster.query("replica1", "SELECT v FROM probe") == [("written",)]
    cluster.query("default", "DROP TABLE probe")


def test_a_paused_replica_serves_a_stale_read():
    """Check that with replay paused a replica keeps serving the old value."""
    cluster.query("default", "CREATE TABLE IF NOT EXISTS probe (v text)")
    cluster.wait_all_replayed()
    with cluster.replay_paused("replica2"):
        cluster.query("default", "INSERT INTO probe VALUES ('new')")
        cluster.wait_replayed("replica1", cluster.primary_lsn())
        assert cluster.query("replica1", "SELECT v FROM probe") == [("new",)]
        assert cluster.query("replica2", "SELECT v FROM probe") == []
    cluster.wait_replayed("replica2", cluster.primary_lsn())
    assert cluster.query("replica2", "SELECT v FROM probe") == [("new",)]
    cluster.query("default", "DROP TABLE probe")


def test_apply_delay_holds_a_commit_back_for_that_long():
    """Check that recovery_min_apply_delay (REPLICA_APPLY_DELAY) delays visibility by the delay."""
    cluster.query("default", "CREATE TABLE IF NOT EXISTS probe (v text)")
    cluster.wait_all_replayed()
    delay = 1.5
    with cluster.apply_delay("replica1", f"{int(delay * 1000)}ms"):
        committed = time.monotonic()
        cluster.query("default", "INSERT INTO probe VALUES ('delayed')")
        assert cluster.query("replica1", "SELECT v FROM probe") == []
        cluster.wait_until(lambda: cluster.query("replica1", "SELECT v FROM probe"), timeout=10,
                           message="the delayed row")
        waited = time.monotonic() - committed
    # A lower bound only: the standby may not apply a commit before its delay.
    assert waited >= delay * 0.9
    cluster.query("default", "DROP TABLE probe")


def test_redis_is_a_real_server_with_a_page_cache_eviction_policy():
    """Check that Redis evicts only keys with a TTL, so invalidation records survive."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    assert client.ping()
    assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "volatile-lru"
    assert int(client.config_get("maxmemory")["maxmemory"]) > 0


def test_up_again_finds_the_running_stack():
    """Check that a second `up` returns at once, reporting the running stack."""
    result = cluster.stack_tool("up")
    assert "already running" in result.stderr
