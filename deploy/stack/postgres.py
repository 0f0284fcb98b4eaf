"""A PostgreSQL 15 primary and its streaming replicas, on 127.0.0.1.

The primary keeps one physical replication slot per replica, with
`max_slot_wal_keep_size` so a dead replica cannot fill the disk; replicas are
made with `pg_basebackup -R -X stream -S <slot>` and can be rebuilt when they
fall too far behind. Authentication is `trust` on loopback only: this is a
local development and test stack, never a deployment.
"""
import re
import shutil
import subprocess
import time

from . import system
from .system import postgres_bin, run, say

SETTINGS_FILE = "stack.conf"

COMMON_SETTINGS = """\
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
shared_buffers = 128MB
fsync = off                       # local stack: speed over crash safety
full_page_writes = off
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
max_slot_wal_keep_size = 1GB      # a dead replica cannot fill the disk
wal_keep_size = 64MB
hot_standby = on
hot_standby_feedback = on         # fewer query cancellations on the replicas
max_standby_streaming_delay = 5s  # a long replica read delays replay 5 s at most
checkpoint_timeout = 30s          # frequent restartpoints: a killed replica restarts fast
wal_receiver_status_interval = 1s
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
track_activity_query_size = 4096
logging_collector = off
log_min_duration_statement = -1
"""


def psql(port, sql, database="postgres", check=True):
    """Run one SQL statement as the superuser and return its unaligned output."""
    result = subprocess.run(
        [postgres_bin("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
         "-d", database, "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],
        capture_output=True, text=True,
    )
    if check and result.returncode != 0:
        raise SystemExit(f"[stack] psql on :{port} failed: {result.stderr.strip()}")
    return result.stdout.strip() if result.returncode == 0 else None


def is_ready(port):
    result = subprocess.run(
        [postgres_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)],
        capture_output=True,
    )
    return result.returncode == 0


def running(datadir):
    pid = system.read_pid(datadir / "postmaster.pid")
    return system.pid_alive(pid, "postgres")


def start(datadir, logfile, port):
    if running(datadir):
        return
    system.wait_port_free(port)
    run([postgres_bin("pg_ctl"), "-D", str(datadir), "-l", str(logfile), "-w", "-t", "60", "start"])


def stop(datadir, mode="fast"):
    if running(datadir):
        run([postgres_bin("pg_ctl"), "-D", str(datadir), "-m", mode, "-w", "-t", "60", "stop"])
        return True
    return False


def write_settings(datadir, port, extra=""):
    (datadir / SETTINGS_FILE).write_text(f"port = {port}\n{COMMON_SETTINGS}{extra}")
    system.give_to_run_user(datadir / SETTINGS_FILE)


def create_primary(config):
    datadir = config.path("primary")
    if (datadir / "PG_VERSION").exists():
        return
    say("initdb primary")
    datadir.mkdir(parents=True)
    system.give_to_run_user(datadir)
    run([postgres_bin("initdb"), "-D", str(datadir), "-U", "postgres", "-A", "trust",
         "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
    with open(datadir / "postgresql.conf", "a") as conf:
        conf.write(f"\ninclude_if_exists = '{SETTINGS_FILE}'\n")
    with open(datadir / "pg_hba.conf", "a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    write_settings(datadir, config.pg_port)


def start_primary(config):
    create_primary(config)
    write_settings(config.path("primary"), config.pg_port)
    start(config.path("primary"), config.path("logs", "primary.log"), config.pg_port)
    if psql(config.pg_port, "SELECT 1 FROM pg_database WHERE datname = 'blog'") != "1":
        psql(config.pg_port, "CREATE DATABASE blog")
    psql(config.pg_port, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", database="blog")
    for slot, _ in config.replicas:
        ensure_slot(config.pg_port, slot)


def ensure_slot(port, slot):
    exists = psql(port, f"SELECT 1 FROM pg_replication_slots WHERE slot_name = '{slot}'")
    if exists != "1":
        psql(port, f"SELECT pg_create_physical_replication_slot('{slot}')")


def create_replica(config, name, port):
    datadir = config.path(name)
    if (datadir / "PG_VERSION").exists():
        return
    say(f"pg_basebackup {name}")
    ensure_slot(config.pg_port, name)
    datadir.mkdir(parents=True)
    system.give_to_run_user(datadir)
    datadir.chmod(0o700)
    run([postgres_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(config.pg_port),
         "-U", "postgres", "-D", str(datadir), "-R", "-X", "stream", "-S", name,
         "-c", "fast", "--no-sync"])


def start_replica(config, name, port):
    create_replica(config, name, port)
    write_settings(config.path(name), port)
    follow_primary_port(config.path(name), config.pg_port)
    start(config.path(name), config.path("logs", f"{name}.log"), port)
    set_apply_delay(port, config.replica_apply_delay or "0")


def follow_primary_port(datadir, primary_port):
    """Keep primary_conninfo (written by pg_basebackup -R) on the primary's current port."""
    auto = datadir / "postgresql.auto.conf"
    text = auto.read_text()
    updated = re.sub(r"(primary_conninfo = '[^']*?port=)\d+", rf"\g<1>{primary_port}", text)
    if updated != text:
        auto.write_text(updated)


def rebuild_replica(config, name, port):
    """Throw a replica away and clone it again from the primary."""
    datadir = config.path(name)
    stop(datadir, mode="immediate")
    shutil.rmtree(datadir, ignore_errors=True)
    psql(config.pg_port, f"SELECT pg_drop_replication_slot('{name}') "
                         f"FROM pg_replication_slots WHERE slot_name = '{name}' AND NOT active")
    start_replica(config, name, port)


def wait_streaming(config, timeout=60):
    """Block until every replica streams from the primary."""
    want = len(config.replicas)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        count = psql(config.pg_port, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
        if count and int(count) >= want:
            return True
        time.sleep(0.1)
    raise SystemExit(f"[stack] replicas did not start streaming within {timeout}s "
                     f"(see {config.path('logs')})")


def set_replay_paused(port, paused):
    verb = "pause" if paused else "resume"
    psql(port, f"SELECT pg_wal_replay_{verb}()")


def set_apply_delay(port, delay):
    psql(port, f"ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'")
    psql(port, "SELECT pg_reload_conf()")
