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
"""
import fcntl
import glob
import json
import logging
import os
import shutil
import tempfile
import time

from . import conf

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
        path = os.path.join(self.directory, STATE_FILE)
        temporary = f"{path}.{os.getpid()}"
        try:
            with open(temporary, "w") as file:
                json.dump(state, file, separators=(",", ":"))
            os.replace(temporary, path)
        except FileNotFoundError:  # the directory went away: the server is stopping
            pass

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
