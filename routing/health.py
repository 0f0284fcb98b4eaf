"""Each process's view of the primary and the replicas, kept fresh by a
background thread (never on the hot path of a query).

Every REPLICA_HEALTH_INTERVAL seconds it asks the primary (through the
primary's DSN: with several hosts, libpq finds whichever member takes
writes) for its WAL position, timeline and address, and each replica alias
for its role, replay position and the timeline it receives, over its own
short-timeout connections (application_name `blog:health`, so the servers
can tell polls from reads: routing/poll_connections.py).

Lag in seconds is measured against the primary's own history, not with
`now() - pg_last_xact_replay_timestamp()` (which grows on an idle primary):
a replica is as many seconds behind as it has been since the primary first
stood past the position the replica has replayed.

A replica alias out of rotation: unreachable (for a backoff that doubles,
1 s to 30 s), lagging past MAX_REPLICA_LAG_SECONDS / MAX_REPLICA_LAG_BYTES,
the primary itself (after a promotion every member may be named a replica:
REPLICA_URLS lists them all), or receiving another timeline than the
primary's (a standby not yet following a new primary could hold writes that
were never acknowledged). Each comes back by itself once healthy again.

A new timeline on the primary (a promotion: failover or switchover) starts
a new history, and `primary_changed` tells whoever cares (the page cache
starts afresh; ops reports it).

Under gunicorn one worker polls for all the server's workers, the others
adopt what it saw (routing/shared_health.py).
"""
import logging
import os
import random
import threading
import time

import psycopg2
from django.dispatch import Signal

from . import conf, shared_health
from .lsn import MEMBER_STATE_SQL, PRIMARY_IDENTITY_SQL
from .poll_connections import PollConnections
from .servers import (EVERYTHING, PRIMARY_ROLE, STANDBY_ROLE, PrimaryHistory, PrimaryIdentity,
                      ReplicationView, ServerStatus)

logger = logging.getLogger(__name__)

# Sent from the poller thread when a server changes state; ops turns it into
# one Sentry event per change. kwargs: alias, up, in_rotation, reason.
server_state_changed = Signal()
# Sent from the poller thread when another member leads, on a new timeline.
# kwargs: old (PrimaryIdentity), new (PrimaryIdentity), lsn (the new
# primary's position when seen), refused_seconds (how long this process saw
# no primary: writes were refused meanwhile).
primary_changed = Signal()

MIN_BACKOFF, MAX_BACKOFF = 1.0, 30.0


class HealthMonitor(shared_health.SharedViewMixin):
    def __init__(self, aliases, share=None):
        self.replicas = {alias: ServerStatus(alias) for alias in aliases}
        self.share = share        # a SharedPoll; None: this process polls for itself
        self.leading = share is None
        self.adopting = False     # following the shared view (not polling) this round
        self._alone = False       # polling for itself: the shared view went stale
        self.last_change = None   # the latest promotion seen: timeline, lsn, refused_seconds
        self._held_out = {}       # alias -> until when a failed read here keeps it out, whatever is shared
        self.primary = ServerStatus(conf.PRIMARY, role=PRIMARY_ROLE)
        self.identity = PrimaryIdentity()
        self.primary_changes = 0     # how many promotions this process has seen
        self.history = PrimaryHistory()
        self._connections = PollConnections()
        self._lock = threading.Lock()
        self._thread = None
        self._pid = None
        self._primary_lost_at = None
        self._adopted_written = 0.0   # when the shared view this process adopted was written
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
        """The standby furthest ahead that answers (read-only mode's fallback)."""
        up = [s for s in self.replicas.values() if s.up and s.role != PRIMARY_ROLE and s.alias not in exclude]
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
            if status is not self.primary:  # the primary: asked again at the next poll, backoff or not
                self._held_out[alias] = status.out_until
        self.view = self.replication_view()

    def snapshot(self):
        return {"primary": {"up": self.primary.up, "member": self.identity.member,
                            "timeline": self.identity.timeline},
                "replicas": [s.public() for s in self.replicas.values()]}

    # --- polling ------------------------------------------------------------
    def ensure_running(self):
        """Start the poller in this process (again after a fork)."""
        if self._pid == os.getpid() and self._thread and self._thread.is_alive():
            return
        self._pid = os.getpid()
        self._connections.forget()
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
                self.poll_or_adopt()
            except Exception:  # the poller must survive anything; report and go on
                logger.exception("replica health poll failed")
            # A follower looks several times per poll: what the poller saw
            # reaches it soon after (conf.health_view_age: the staleness budget).
            self._stopping.wait(conf.health_interval() / (conf.LOOKS_PER_POLL if self.adopting else 1))
        self._connections.close_all()
        if self.share is not None:
            self.share.close()

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
        found = self._query(self.primary, PRIMARY_IDENTITY_SQL, now)
        if found is None:
            if self._primary_lost_at is None:
                self._primary_lost_at = now
            return self.history.latest()
        lsn, timeline, member = int(found[0]), int(found[1]), found[2]
        self._follow(PrimaryIdentity(member, timeline), lsn, now)
        self.primary.replay_lsn, self.primary.timeline = lsn, timeline
        self.history.add(now, lsn)
        self._succeed(self.primary)
        return self.history.latest()

    def _follow(self, identity, lsn, now):
        lost_at, self._primary_lost_at = self._primary_lost_at, None
        self._take_identity(identity, lsn, now - lost_at if lost_at is not None else 0.0)

    def _take_identity(self, identity, lsn, refused):
        """Another primary (a new timeline) starts a new history; say so once."""
        old = self.identity
        self.identity = identity
        if not old.timeline or identity.timeline <= old.timeline:
            return
        self.history = PrimaryHistory()
        self.primary_changes += 1
        self.last_change = {"timeline": identity.timeline, "lsn": lsn, "refused_seconds": refused}
        logger.warning("the primary is now %s on timeline %s (was %s on timeline %s; no primary for %.1f s)",
                       identity.member, identity.timeline, old.member, old.timeline, refused)
        primary_changed.send(sender=HealthMonitor, old=old, new=identity, lsn=lsn, refused_seconds=refused)

    def _poll_replica(self, status, primary_lsn, now):
        if not status.up and now < status.out_until:
            return
        found = self._query(status, MEMBER_STATE_SQL, now)
        if found is None:
            return
        in_recovery, replay, timeline = bool(found[0]), int(found[1]), int(found[2])
        status.replay_lsn, status.timeline = replay, timeline
        first_seen, status.role = not status.role, STANDBY_ROLE if in_recovery else PRIMARY_ROLE
        if first_seen and not in_recovery:  # the primary since before this process: no news
            status.in_rotation, status.reason = False, "it is the primary"
        status.lag_bytes = max(0, primary_lsn - replay) if in_recovery else 0
        status.lag_seconds = self.history.seconds_behind(replay, now) if in_recovery else 0.0
        reason = self._out_of_rotation_because(status)
        if reason:
            self._change(status, up=True, in_rotation=False, reason=reason)
        else:
            self._succeed(status)

    def _out_of_rotation_because(self, status):
        if status.role == PRIMARY_ROLE:
            return "it is the primary"
        if status.timeline and self.identity.timeline and status.timeline != self.identity.timeline:
            return f"on timeline {status.timeline}, the primary on {self.identity.timeline}"
        if status.lag_seconds > conf.max_lag_seconds() or status.lag_bytes > conf.max_lag_bytes():
            return f"lagging {status.lag_seconds:.1f}s / {status.lag_bytes} bytes"
        return ""

    def _query(self, status, sql, now):
        """The row of one poll question; None (and the server down) if it failed."""
        try:
            return self._connections.ask(status.alias, sql)
        except psycopg2.Error as error:
            with self._lock:
                self._fail(status, f"unreachable: {str(error).strip().splitlines()[0]}", now)
            return None

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
                                      in_rotation=in_rotation, reason=reason, role=status.role)


_monitor = None
_monitor_lock = threading.Lock()
_shared_directory = None  # set in each gunicorn worker: one poll for all of them


def monitor():
    """This process's HealthMonitor, its poller running."""
    global _monitor
    aliases = conf.replica_aliases()
    if _monitor is None or list(_monitor.replicas) != aliases:
        with _monitor_lock:
            if _monitor is None or list(_monitor.replicas) != aliases:
                if _monitor is not None:
                    _monitor.stop()
                share = shared_health.SharedPoll(_shared_directory) if _shared_directory else None
                _monitor = HealthMonitor(aliases, share)
    _monitor.ensure_running()
    return _monitor


def start_polling(shared_directory=None):
    """Start this process's poller and wait for its first round (gunicorn's
    post_fork). With `shared_directory` (made by the master), one worker
    polls for all those given the same one."""
    global _shared_directory
    if shared_directory != _shared_directory:
        reset()
        _shared_directory = shared_directory
    monitor().polled.wait(timeout=3)


def reset(wait=False):
    """Forget the monitor (tests that change the configured replicas)."""
    global _monitor
    with _monitor_lock:
        if _monitor is not None:
            _monitor.stop(wait)
        _monitor = None
