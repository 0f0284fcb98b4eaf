"""Each process's view of the primary and the replicas, kept fresh by a
background thread (never on the hot path of a query).

Every REPLICA_HEALTH_INTERVAL seconds it reads the primary's WAL position
and each replica's replay position, over its own short-timeout connections
(application_name `blog:health`, so the servers can tell polls from reads).

Lag in seconds is measured against the primary's own history, not with
`now() - pg_last_xact_replay_timestamp()` (which grows on an idle primary):
a replica is as many seconds behind as it has been since the primary first
stood past the position the replica has replayed.

A replica lagging past MAX_REPLICA_LAG_SECONDS / MAX_REPLICA_LAG_BYTES, or
unreachable, leaves rotation; after a failure it stays out for a backoff
that doubles (1 s to 30 s) and comes back by itself once healthy again.
"""
import logging
import os
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass

import psycopg2
from django.conf import settings
from django.dispatch import Signal

from . import conf
from .lsn import CURRENT_PRIMARY_LSN_SQL, REPLAY_LSN_SQL

logger = logging.getLogger(__name__)

# Sent from the poller thread when a server changes state; ops turns it into
# one Sentry event per change. kwargs: alias, up, in_rotation, reason.
server_state_changed = Signal()

MIN_BACKOFF, MAX_BACKOFF = 1.0, 30.0
EVERYTHING = 2 ** 63  # what the primary has replayed, as far as any LSN comparison goes


@dataclass(frozen=True)
class ReplicationView:
    """What refills need to know, recomputed after every poll.

    caught_up_lsn: the furthest any replica in rotation has replayed (with no
        replica in rotation, the primary serves: EVERYTHING).
    bound_seconds: B = L + STALENESS_EXTRA_SECONDS, L the lag of the slowest
        replica in rotation.
    """
    caught_up_lsn: int = 0
    bound_seconds: float = conf.STALENESS_EXTRA_SECONDS


@dataclass
class ServerStatus:
    alias: str
    up: bool = True
    in_rotation: bool = True
    replay_lsn: int = 0
    lag_bytes: int = 0
    lag_seconds: float = 0.0
    reason: str = ""
    failures: int = 0
    out_until: float = 0.0

    def public(self):
        return {"alias": self.alias, "up": self.up, "in_rotation": self.in_rotation,
                "lag_seconds": round(self.lag_seconds, 3), "lag_bytes": self.lag_bytes}


class PrimaryHistory:
    """(time, primary LSN) samples, to say since when the primary was past an LSN."""

    def __init__(self):
        self.samples = deque(maxlen=4096)

    def add(self, now, lsn):
        if not self.samples or lsn > self.samples[-1][1]:
            self.samples.append((now, lsn))

    def latest(self):
        return self.samples[-1][1] if self.samples else 0

    def seconds_behind(self, replay_lsn, now):
        """How long the primary has stood past `replay_lsn` (0 if it has not)."""
        for moment, lsn in self.samples:
            if lsn > replay_lsn:
                return now - moment
        return 0.0


class HealthMonitor:
    def __init__(self, aliases):
        self.replicas = {alias: ServerStatus(alias) for alias in aliases}
        self.primary = ServerStatus(conf.PRIMARY)
        self.history = PrimaryHistory()
        self._connections = {}
        self._lock = threading.Lock()
        self._thread = None
        self._pid = None
        self.polled = threading.Event()
        self._stopping = threading.Event()
        self.view = ReplicationView()

    # --- what the router asks ---------------------------------------------
    def candidates(self, min_lsn, exclude=()):
        """Replicas in rotation known to have replayed `min_lsn`."""
        return [s.alias for s in self.replicas.values()
                if s.in_rotation and s.alias not in exclude and s.replay_lsn >= min_lsn]

    def pick(self, min_lsn, exclude=()):
        candidates = self.candidates(min_lsn, exclude)
        return random.choice(candidates) if candidates else None

    def freshest_up(self, exclude=()):
        """The replica furthest ahead that answers (read-only mode's fallback)."""
        up = [s for s in self.replicas.values() if s.up and s.alias not in exclude]
        return max(up, key=lambda s: s.replay_lsn).alias if up else None

    def all_caught_up(self, lsn):
        """True when every replica in rotation has replayed `lsn`: at least one
        of them, or none configured at all (then the primary serves everything)."""
        if not self.replicas:
            return True
        rotation = [s for s in self.replicas.values() if s.in_rotation]
        return bool(rotation) and all(s.replay_lsn >= lsn for s in rotation)

    def mark_down(self, alias, reason):
        """Take a server out at once (a failed read); the poller brings it back."""
        status = self.replicas.get(alias) or self.primary
        with self._lock:
            self._fail(status, reason, time.monotonic())
        self.view = self.replication_view()

    def snapshot(self):
        return {"primary": {"up": self.primary.up},
                "replicas": [s.public() for s in self.replicas.values()]}

    # --- polling ------------------------------------------------------------
    def ensure_running(self):
        """Start the poller in this process (again after a fork)."""
        if self._pid == os.getpid() and self._thread and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._connections = {}
        self._thread = threading.Thread(target=self._run, name="replica-health", daemon=True)
        self._thread.start()

    def stop(self, wait=False):
        """Stop polling; with `wait`, until its connections are closed."""
        self._stopping.set()
        if wait and self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self):
        while not self._stopping.is_set():
            try:
                self.poll_once()
            except Exception:  # the poller must survive anything; report and go on
                logger.exception("replica health poll failed")
            self._stopping.wait(conf.health_interval())
        for alias in list(self._connections):
            self._drop_connection(alias)

    def poll_once(self):
        now = time.monotonic()
        primary_lsn = self._poll_primary(now)
        for status in self.replicas.values():
            self._poll_replica(status, primary_lsn, now)
        self.view = self.replication_view()
        self.polled.set()

    def replication_view(self):
        rotation = [s for s in self.replicas.values() if s.in_rotation]
        if not rotation:
            return ReplicationView(EVERYTHING, conf.STALENESS_EXTRA_SECONDS)
        return ReplicationView(max(s.replay_lsn for s in rotation),
                               max(s.lag_seconds for s in rotation) + conf.STALENESS_EXTRA_SECONDS)

    def _poll_primary(self, now):
        lsn = self._query(self.primary, CURRENT_PRIMARY_LSN_SQL, now)
        if lsn is not None:
            self.history.add(now, lsn)
            self._succeed(self.primary)
        return self.history.latest()

    def _poll_replica(self, status, primary_lsn, now):
        if not status.up and now < status.out_until:
            return
        replay = self._query(status, REPLAY_LSN_SQL, now)
        if replay is None:
            return
        status.replay_lsn = replay
        status.lag_bytes = max(0, primary_lsn - replay)
        status.lag_seconds = self.history.seconds_behind(replay, now)
        if status.lag_seconds > conf.max_lag_seconds() or status.lag_bytes > conf.max_lag_bytes():
            reason = f"lagging {status.lag_seconds:.1f}s / {status.lag_bytes} bytes"
            self._change(status, up=True, in_rotation=False, reason=reason)
        else:
            self._succeed(status)

    def _query(self, status, sql, now):
        try:
            conn = self._connection(status.alias)
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return int(cursor.fetchone()[0])
        except psycopg2.Error as error:
            self._drop_connection(status.alias)
            with self._lock:
                self._fail(status, f"unreachable: {str(error).strip().splitlines()[0]}", now)
            return None

    def _connection(self, alias):
        conn = self._connections.get(alias)
        if conn is None or conn.closed:
            conn = psycopg2.connect(**health_dsn(alias))
            conn.autocommit = True
            self._connections[alias] = conn
        return conn

    def _drop_connection(self, alias):
        conn = self._connections.pop(alias, None)
        if conn is not None:
            try:
                conn.close()
            except psycopg2.Error:
                pass

    def _fail(self, status, reason, now):
        status.failures += 1
        backoff = min(MAX_BACKOFF, MIN_BACKOFF * 2 ** (status.failures - 1))
        status.out_until = now + backoff
        self._change(status, up=False, in_rotation=False, reason=reason)

    def _succeed(self, status):
        status.failures = 0
        self._change(status, up=True, in_rotation=True, reason="healthy")

    def _change(self, status, up, in_rotation, reason):
        changed = (status.up, status.in_rotation) != (up, in_rotation)
        status.up, status.in_rotation, status.reason = up, in_rotation, reason
        if changed:
            logger.warning("database %s is now %s (%s)", status.alias,
                           "in rotation" if in_rotation else ("up, out of rotation" if up else "down"),
                           reason)
            server_state_changed.send(sender=HealthMonitor, alias=status.alias, up=up,
                                      in_rotation=in_rotation, reason=reason)


def health_dsn(alias):
    config = settings.DATABASES[alias]
    return {
        "host": config.get("HOST") or "127.0.0.1", "port": config.get("PORT") or 5432,
        "user": config.get("USER"), "password": config.get("PASSWORD") or None,
        "dbname": config.get("NAME"), "application_name": "blog:health",
        "connect_timeout": 1, "options": "-c statement_timeout=500",
    }


_monitor = None
_monitor_lock = threading.Lock()


def monitor():
    """This process's HealthMonitor, its poller running."""
    global _monitor
    aliases = conf.replica_aliases()
    if _monitor is None or list(_monitor.replicas) != aliases:
        with _monitor_lock:
            if _monitor is None or list(_monitor.replicas) != aliases:
                if _monitor is not None:
                    _monitor.stop()
                _monitor = HealthMonitor(aliases)
    _monitor.ensure_running()
    return _monitor


def start_polling():
    """Start this process's poller and wait for its first round (gunicorn's post_fork)."""
    monitor().polled.wait(timeout=3)


def reset(wait=False):
    """Forget the monitor (tests that change the configured replicas)."""
    global _monitor
    with _monitor_lock:
        if _monitor is not None:
            _monitor.stop(wait)
        _monitor = None
