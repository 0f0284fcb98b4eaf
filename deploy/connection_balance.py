"""Keeps a server's keep-alive connections spread evenly over its gthread
workers (deploy/gthread_worker.py).

Every worker watches the one listening socket and the kernel wakes them all
for a new connection: whichever gets there first takes it. With keep-alive
a connection then stays with the worker that took it, so a burst of them (a
client starting, a proxy refilling its pool) can leave one worker holding
three times the connections of another. Their requests queue behind each
other there while the other workers have CPU to spare: the bench saw
`[18, 6, 4, 4]` serve a fifth less than `[8, 8, 8, 8]`, its p99 1.6 times
as long (docs/benchmarks.md).

So the workers share a small board in memory, made by the master before it
forks them: a seat per worker, with the connections it holds, when it last
looked at the board, and since when all its threads are busy. A worker
takes a new connection only while no other worker that can take one holds
fewer connections; otherwise it leaves the connection in the socket's queue
for that one. A worker can take one while it looks at the board (at least
every LOOK_EVERY) and, if all its threads are busy, for BUSY_GRACE more: a
burst keeps every thread busy for a moment, which must not upset the count,
but a worker whose threads all wait on a slow database does not keep the
others from accepting.

The least-loaded worker that can take a connection always may, so a
connection is never refused by all of them. A worker that stops looking
(hung, or killed before the master noticed) drops out of the comparison
after STALE_AFTER, and the master clears a dead worker's seat as soon as it
reaps it (`child_exit` in deploy/gunicorn.conf.py), so neither holds the
others back for long.
"""
import os
import time
from multiprocessing import sharedctypes

SEATS = 256          # more workers than any server runs; a worker without a seat accepts freely
STALE_AFTER = 1.0    # seconds: a worker that has not looked at the board since does not count
LOOK_EVERY = 0.1     # seconds: an idle worker still looks this often
BUSY_GRACE = 0.1     # seconds: a worker whose threads are all busy still counts this long


def may_take(mine, others):
    """Whether a worker holding `mine` connections takes a new one, given
    what the other workers able to take one hold: only if none holds fewer."""
    return not others or mine <= min(others)


class Board:
    """The shared seats. Seats are handed out and cleared by the master only
    (it is single-threaded), each worker writes its own seat only."""

    def __init__(self, seats=SEATS):
        self.connections = sharedctypes.RawArray("l", seats)
        self.seen_until = sharedctypes.RawArray("d", seats)   # monotonic s; 0: stopping, or no worker
        self.busy_since = sharedctypes.RawArray("d", seats)   # monotonic s; 0: it has a free thread
        self.in_use = sharedctypes.RawValue("l", 0)           # seats 0 .. in_use-1 are scanned
        self.holders = {}                                      # master only: seat -> its worker

    # --- in the master ----------------------------------------------------
    def seat_for(self, worker):
        """A free seat for a worker about to be forked (None if all are
        taken): one never handed out, or one whose worker is gone."""
        for seat in range(len(self.connections)):
            holder = self.holders.get(seat)
            if holder is None or not _alive(holder.pid):
                self.holders[seat] = worker
                self._clear(seat)
                self.in_use.value = max(self.in_use.value, seat + 1)
                return seat
        return None

    def release(self, worker):
        """The master reaped this worker: it no longer counts."""
        seat = getattr(worker, "seat", None)
        if seat is not None and self.holders.get(seat) is worker:
            del self.holders[seat]
            self._clear(seat)

    def _clear(self, seat):
        self.connections[seat] = 0
        self.seen_until[seat] = self.busy_since[seat] = 0.0

    # --- in a worker ------------------------------------------------------
    def report(self, seat, connections, free_thread, stopping=False):
        now = time.monotonic()
        self.connections[seat] = connections
        self.seen_until[seat] = 0.0 if stopping else now + STALE_AFTER
        if free_thread:
            self.busy_since[seat] = 0.0
        elif not self.busy_since[seat]:
            self.busy_since[seat] = now

    def may_take(self, seat, connections):
        now = time.monotonic()
        others = [self.connections[other] for other in range(self.in_use.value)
                  if other != seat and self._can_take(other, now)]
        return may_take(connections, others)

    def _can_take(self, seat, now):
        """That worker looked lately, and has a free thread or has had none
        for less than BUSY_GRACE."""
        busy_since = self.busy_since[seat]
        return self.seen_until[seat] > now and (not busy_since or now - busy_since < BUSY_GRACE)


def _alive(pid):
    if not isinstance(pid, int):
        return True  # not forked yet: gunicorn sets the pid once fork() returns
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


board = Board()  # made on import, in the master: the workers share it by forking
