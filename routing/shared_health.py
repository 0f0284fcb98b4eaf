"""One replica-health poll for all the workers of a server (routing/health.py).

Each worker keeps its own view of the primary and the replicas, but when
every worker polled for itself the polls grew with the number of workers,
and under load the poll cost a cache hit about 7 % of its throughput
(docs/performance.md). So the workers of one gunicorn server share a
directory, made by the master before it forks them
(deploy/gunicorn.conf.py):

- whichever worker holds the directory's lock polls, every
  REPLICA_HEALTH_INTERVAL, and writes what it saw to a file there (written
  whole to a temporary name, then renamed: a reader sees the old file or
  the new one, never half of one);
- the others look at that file LOOKS_PER_POLL (4) times per interval (a
  stat() when it has not changed) and replay its changes in their own view, signals
  included, so every process still hears of a new primary or of a server
  leaving rotation.

The lock is flock(): the kernel releases it when its holder exits or dies,
and the next worker to look takes over, with the history the last one
wrote. A worker that finds the file older than stale_after() (its writer
hung) polls for itself until the file is fresh again. Without a directory
(runserver, tests, management commands) every process polls for itself.

SharedPoll is the directory seen from one process; SharedViewMixin is the
part of routing.health.HealthMonitor that decides between polling and
adopting, and writes and reads the view.
"""
import contextlib
import fcntl
import glob
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import asdict

from . import conf
from .servers import PrimaryIdentity

PREFIX, STATE_FILE, LOCK_FILE = "blog-health-", "view.json", "poller.lock"
ABANDONED_AFTER = 60.0  # seconds with nothing written and the lock free: its server is gone

logger = logging.getLogger(__name__)


def stale_after():
    """How old the shared view may grow before a worker polls for itself:
    two polls, plus the 1 s a poll may spend on a server that does not
    answer (routing/health.py's connect_timeout)."""
    return 2 * conf.health_interval() + 1.0


class SharedPoll:
    """The shared directory, seen from one process."""

    def __init__(self, directory):
        self.directory = directory
        self._lock_fd = None
        self._pid = None
        self._seen = None  # (inode, mtime, size) of the state file last read
        self._publish_failed = False

    def lead(self):
        """True when this process holds the lock (taking it if it is free):
        it polls for everyone. False when another process holds it, or the
        directory is gone (the server is stopping)."""
        self._forget_inherited()
        try:
            if self._lock_fd is None:
                self._lock_fd = os.open(os.path.join(self.directory, LOCK_FILE),
                                        os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held already: a no-op
            return True
        except OSError:  # BlockingIOError: another worker polls; FileNotFoundError: no directory
            return False

    def publish(self, state):
        """Write `state` for the others; a failure (the directory gone as the
        server stops, or full) is said once, and the others, seeing the view
        go stale, poll for themselves meanwhile."""
        path = os.path.join(self.directory, STATE_FILE)
        temporary = f"{path}.{os.getpid()}"
        try:
            with open(temporary, "w") as file:
                json.dump(state, file, separators=(",", ":"))
            os.replace(temporary, path)
            self._publish_failed = False
        except OSError as error:
            if not self._publish_failed:
                logger.warning("replica health: cannot write the shared view (%s): the other workers "
                               "will poll for themselves", error)
            self._publish_failed = True
            with contextlib.suppress(OSError):
                os.unlink(temporary)

    def read(self):
        """The state last published, if it changed since the last call
        (else, or if there is none, None)."""
        path = os.path.join(self.directory, STATE_FILE)
        try:
            found = os.stat(path)
            signature = (found.st_ino, found.st_mtime_ns, found.st_size)
            if signature == self._seen:
                return None
            with open(path) as file:
                state = json.load(file)
        except (OSError, ValueError):
            return None
        self._seen = signature
        return state

    def close(self):
        """Give up the lock (another worker takes over at its next look)."""
        if self._lock_fd is not None and self._pid == os.getpid():
            os.close(self._lock_fd)
        self._lock_fd, self._seen = None, None

    def _forget_inherited(self):
        """A forked child must not use its parent's lock: flock belongs to
        the open file, which parent and child would share."""
        if self._pid != os.getpid():
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # the child's copy: the parent keeps its own, and its lock
            self._pid, self._lock_fd, self._seen = os.getpid(), None, None


class SharedViewMixin:
    """The part of routing.health.HealthMonitor that crosses processes:
    whether this worker polls for all or adopts what another saw, what it
    writes, and how it takes what another wrote as its own view."""

    def poll_or_adopt(self):
        """Poll the servers, for every worker when this one holds the shared
        lock; else adopt what the worker that holds it last wrote, unless it
        has not written for stale_after() (then poll, for this worker only)."""
        self.leading = self.share is None or self.share.lead()
        self.adopting = False
        if not self.leading:
            state = self.share.read()
            if state is not None:
                self.adopt(state)
            age = time.monotonic() - self._adopted_written
            self.adopting = age <= stale_after()
            if self.adopting:
                self._alone = False
                self._connections.close_all()  # any opened while the view was stale
                return
            if self._adopted_written and not self._alone:
                logger.warning("the shared health view is %.1f s old: this worker polls for itself "
                               "until the worker that polls for all writes again", age)
            self._alone = True
        self.poll_once()
        if self.leading and self.share is not None:
            self.share.publish(self.export())

    def export(self):
        """What this poller saw, for the other workers to adopt."""
        now = time.monotonic()
        window = conf.max_lag_seconds() + stale_after()
        return {"written": now, "pid": os.getpid(),
                "identity": [self.identity.member, self.identity.timeline],
                "last_change": self.last_change, "primary_lost_at": self._primary_lost_at,
                "primary": asdict(self.primary), "replicas": [asdict(s) for s in self.replicas.values()],
                "history": self.history.recent(window, now)}

    def adopt(self, state):
        """Take what the polling worker saw as this process's own view,
        sending the signals its changes call for here too. A server a failed
        read took out here stays out for its backoff, whatever the poller saw."""
        change = state["last_change"] or {}
        self._take_identity(PrimaryIdentity(*state["identity"]), change.get("lsn", 0),
                            change.get("refused_seconds", 0.0))
        self.last_change, self._primary_lost_at = state["last_change"], state["primary_lost_at"]
        self.history.replace(state["history"])
        now = time.monotonic()
        for seen in [state["primary"], *state["replicas"]]:
            status = self.primary if seen["alias"] == self.primary.alias else self.replicas.get(seen["alias"])
            if status is None or now < self._held_out.get(status.alias, 0.0):
                continue
            first_seen = not status.role
            up, in_rotation, reason = seen.pop("up"), seen.pop("in_rotation"), seen.pop("reason")
            for field, value in seen.items():
                setattr(status, field, value)
            if first_seen:  # what a process learns first is no news (nor is it in its own first poll)
                status.up, status.in_rotation, status.reason = up, in_rotation, reason
            else:
                self._change(status, up=up, in_rotation=in_rotation, reason=reason)
        self._adopted_written = state["written"]
        self.view = self.replication_view()
        self.polled.set()


def make_directory(parent=None):
    """A private directory for one server's workers to share (in its master),
    in memory where there is /dev/shm (four small writes a second need no
    disk); None, and every worker polls for itself, if none can be made.
    Those that servers killed outright left behind go first."""
    parent = parent or ("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())
    remove_abandoned_directories(parent)
    try:
        return tempfile.mkdtemp(prefix=PREFIX, dir=parent)
    except OSError as error:
        logger.warning("replica health: no directory to share one poll between workers (%s): "
                       "each worker polls for itself", error)
        return None


def remove_abandoned_directories(parent):
    """Remove the directories of servers gone without their on_exit hook
    (SIGKILL, the OOM killer): nobody holds their lock, and nothing was
    written in them for ABANDONED_AFTER (a live server writes four times a
    second; the rename of each write touches the directory)."""
    for directory in glob.glob(os.path.join(glob.escape(parent), PREFIX + "*")):
        if _abandoned(directory):
            remove_directory(directory)


def _abandoned(directory):
    try:
        if time.time() - os.stat(directory).st_mtime < ABANDONED_AFTER:
            return False
        fd = os.open(os.path.join(directory, LOCK_FILE), os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return True   # no lock: no worker ever polled there
    except OSError:
        return False  # another user's, or gone meanwhile
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False  # held: a worker polls there (hung, or about to write)
    finally:
        os.close(fd)


def remove_directory(directory):
    shutil.rmtree(directory, ignore_errors=True)
