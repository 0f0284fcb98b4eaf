"""The PostgreSQL servers themselves, as the stack tool and the tests reach
them: one SQL statement as the superuser, readiness, replay pause and the
apply delay of a standby. Patroni (stack/patroni.py) creates, starts, clones
and configures them; authentication is `trust` on loopback only: this is a
local development and test stack, never a deployment.
"""
import shutil
import subprocess

from . import system
from .system import postgres_bin, run, say

# The layout before Patroni: plain servers in these folders, run by pg_ctl.
PRE_PATRONI_FOLDERS = ("primary", "replica1", "replica2")


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
        [postgres_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"],
        capture_output=True,
    )
    return result.returncode == 0


def in_recovery(port):
    return psql(port, "SELECT pg_is_in_recovery()") == "t"


def set_replay_paused(port, paused):
    verb = "pause" if paused else "resume"
    psql(port, f"SELECT pg_wal_replay_{verb}()")


def replay_paused(port):
    return psql(port, "SELECT pg_is_in_recovery() AND pg_is_wal_replay_paused()", check=False) == "t"


def apply_delay_is(port, delay):
    """True once the standby on `port` applies WAL `delay` (e.g. '2s') late."""
    matches = psql(port, "SELECT setting::bigint = (extract(epoch FROM %s::interval) * 1000)::bigint "
                         "FROM pg_settings WHERE name = 'recovery_min_apply_delay'" % _literal(delay),
                   check=False)
    return matches == "t"


def _literal(text):
    return "'" + text.replace("'", "''") + "'"


def stop_pre_patroni_servers(config):
    """Servers a checkout from before Patroni started in this state folder
    (ours: found by their data folders); the names of those it stopped."""
    stopped = []
    for name in PRE_PATRONI_FOLDERS:
        folder = config.path(name)
        if system.pid_alive(system.read_pid(folder / "postmaster.pid"), "postgres"):
            run([postgres_bin("pg_ctl"), "-D", str(folder), "-m", "fast", "-w", "-t", "60", "stop"])
            stopped.append(name)
    return stopped


def adopt_pre_patroni_state(config):
    """A state folder from before Patroni: stop its servers, keep the
    primary's data as the first member's, which Patroni takes over as the
    leader, and drop the replicas (Patroni clones them again)."""
    old_primary = config.path("primary")
    if not (old_primary / "PG_VERSION").exists():
        return
    say(f"state from before Patroni in {config.state_dir}: the primary's data becomes pg0's")
    stop_pre_patroni_servers(config)
    for name in PRE_PATRONI_FOLDERS[1:]:
        shutil.rmtree(config.path(name), ignore_errors=True)
    (old_primary / "stack.conf").unlink(missing_ok=True)
    old_primary.rename(config.path(config.members[0].name))
