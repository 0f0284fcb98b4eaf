"""deploy/compose/replica-entrypoint.sh, the script docker-compose.yml's
replicas start with, run for real against the test stack's primary with the
machine's PostgreSQL binaries (as the unprivileged user when we are root):
it must produce a streaming replica, and survive the restarts compose does."""
import os
import shutil
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings

from deploy.stack import system
from tests.fixtures import cluster
from tests.fixtures.cluster import REPO

SCRIPT = REPO / "deploy" / "compose" / "replica-entrypoint.sh"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def on_primary(sql, params=None):
    return cluster.query("default", sql, params, dbname="postgres")


class BootstrappedReplica:
    """One run of the script: its data directory, slot, port and process."""

    def __init__(self, workdir, slot, **environment):
        self.datadir = workdir / "pgdata"
        self.slot = slot
        self.port = None
        self.environment = environment
        self.log = workdir / f"{slot}.log"
        self.process = None

    def start(self):
        """Run the script (as the server would be started by compose) in the background."""
        self.port = free_port()
        bindir = str(Path(system.postgres_bin("postgres")).parent)
        variables = {
            "PATH": f"{bindir}:{os.environ['PATH']}", "PGDATA": str(self.datadir),
            "PRIMARY_HOST": "127.0.0.1", "PRIMARY_PORT": str(settings.DATABASES["default"]["PORT"]),
            "REPLICATION_USER": "postgres", "REPLICA_SLOT": self.slot, "PRIMARY_WAIT_SECONDS": "30",
            **self.environment,
        }
        argv = ["env", *(f"{k}={v}" for k, v in variables.items()), "sh", str(SCRIPT),
                "postgres", f"--port={self.port}", "--listen_addresses=127.0.0.1"]
        with open(self.log, "ab") as log:
            # A session of its own, so that stop() can end the whole tree.
            self.process = subprocess.Popen(system.as_run_user(argv), stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def output(self):
        return self.log.read_text()

    def streaming(self):
        """True once the primary streams to this replica's server through its
        slot (pg_basebackup's own WAL stream, during the copy, does not count)."""
        if self.process.poll() is not None:
            raise AssertionError(f"the script exited with {self.process.returncode}:\n{self.output()}")
        rows = on_primary(
            "SELECT r.state FROM pg_stat_replication r "
            "JOIN pg_replication_slots s ON s.active_pid = r.pid "
            "WHERE s.slot_name = %s AND r.application_name <> 'pg_basebackup'", [self.slot])
        return rows == [("streaming",)]

    def wait_streaming(self):
        cluster.wait_until(self.streaming, timeout=60, interval=0.1,
                           message=f"replica on slot {self.slot} to stream")

    def query(self, sql):
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres",
                                dbname="postgres", connect_timeout=3)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall()
        finally:
            conn.close()

    def stop(self):
        """The server's clean shutdown; or, mid-copy, the end of the script."""
        if not self.process or self.process.poll() is not None:
            return
        if (self.datadir / "postmaster.pid").exists():
            system.run([system.postgres_bin("pg_ctl"), "-D", str(self.datadir),
                        "-m", "fast", "-w", "-t", "60", "stop"], check=False)
        else:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def bootstrap():
    """Start replicas with the script; afterwards stop them, drop their slots
    on the primary and delete their data."""
    base = Path(os.environ.get("STACK_STATE_DIR") or "/tmp")
    workdir = base / f"replica-bootstrap-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True)
    system.give_to_run_user(workdir)
    started = []

    def make(slot=None, **environment):
        replica = BootstrappedReplica(workdir, slot or f"deploy_test_{uuid.uuid4().hex[:8]}", **environment)
        started.append(replica)
        return replica

    yield make
    for replica in started:
        replica.stop()
    for slot in {replica.slot for replica in started}:
        cluster.wait_until(lambda: not on_primary(
            "SELECT 1 FROM pg_replication_slots WHERE slot_name = %s AND active", [slot]),
            timeout=30, message=f"slot {slot} to be released")
        on_primary("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                   "WHERE slot_name = %s", [slot])
    shutil.rmtree(workdir, ignore_errors=True)


def test_script_clones_the_primary_into_a_streaming_replica(bootstrap):
    """Check that on an empty data directory the script makes a standby that
    streams through a slot it created, and replays the primary's writes."""
    replica = bootstrap()
    assert on_primary("SELECT 1 FROM pg_replication_slots WHERE slot_name = %s", [replica.slot]) == []
    replica.start().wait_streaming()
    assert "creating slot" in replica.output()
    assert replica.query("SELECT pg_is_in_recovery()") == [(True,)]
    marker = f"probe_{uuid.uuid4().hex[:8]}"
    on_primary(f"CREATE TABLE {marker} (v int)")
    try:
        cluster.wait_until(lambda: replica.query(f"SELECT to_regclass('{marker}') IS NOT NULL") == [(True,)],
                           timeout=30, message="the primary's write on the new replica")
    finally:
        on_primary(f"DROP TABLE {marker}")


def test_script_restarts_an_existing_replica_without_cloning_again(bootstrap):
    """Check that a second start on the same data directory (a container
    restart) starts the server as it is, and it streams again."""
    replica = bootstrap()
    replica.start().wait_streaming()
    replica.stop()
    keepsake = replica.datadir / "kept-across-restart"
    system.run(["touch", str(keepsake)])
    replica.start().wait_streaming()
    assert "data directory exists" in replica.output()
    assert keepsake.exists()


def test_script_reuses_a_slot_left_by_a_replica_that_lost_its_data(bootstrap):
    """Check that when the slot already exists unused (the volume was lost,
    the slot stayed), the script clones through it instead of failing."""
    replica = bootstrap()
    on_primary("SELECT pg_create_physical_replication_slot(%s)", [replica.slot])
    replica.start().wait_streaming()
    assert "reusing it" in replica.output()


def test_script_refuses_a_slot_another_replica_streams_from(bootstrap):
    """Check that two replicas configured with one slot do not fight over it:
    the second one stops with a clear message and copies nothing."""
    first = bootstrap()
    first.start().wait_streaming()
    second = BootstrappedReplica(first.datadir.parent / "second", first.slot)
    second.datadir.parent.mkdir()
    system.give_to_run_user(second.datadir.parent)
    second.start()
    assert second.process.wait(timeout=60) != 0
    assert "in use by another server" in second.output()
    assert not second.datadir.exists()


def test_script_applies_the_lagging_replicas_delay(bootstrap):
    """Check that RECOVERY_MIN_APPLY_DELAY (the compose `lagging` profile)
    reaches the server's recovery_min_apply_delay."""
    replica = bootstrap(RECOVERY_MIN_APPLY_DELAY="1500ms")
    replica.start().wait_streaming()
    assert replica.query("SHOW recovery_min_apply_delay") == [("1500ms",)]
