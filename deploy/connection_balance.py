"""Keeps a server's keep-alive connections spread evenly over its gthread
workers (deploy/gthread_worker.py).

Every worker watches the one listening socket and the kernel wakes them all
for a new connection: whichever gets there first takes it. With keep-alive
a connection then stays with the worker that took it, so a burst of them (a
client starting, a proxy refilling its pool) can leave one worker holding
three times the connections of another. Their requests queue behind each
other there while the other workers have CPU to spare: in one bench run
the repetition whose connections landed `[18, 6, 4, 4]` served a quarter
less than the one with `[8, 8, 8, 8]`, its p99 1.7 times as long
(docs/benchmarks.md).

So the workers share a small board in memory, made by the master before it
forks them: a seat per worker, with the connections it holds, until when
it counts (it looked at the board less than STALE_AFTER ago and is not
stopping), and since when all its threads are busy. A worker takes a new
connection only while no other worker that counts holds fewer connections;
otherwise it leaves the connection in the socket's queue for that one. A
worker whose threads are all busy for a moment (a hit holds a thread for a
fraction of a millisecond) still takes it when the count needs it (every
worker with a free thread holds more): the request waits in its queue for
a thread, as the requests of its other connections do. Alone, or tied with
a worker that has a free thread, it leaves the connection. A worker whose
threads have all been busy for BUSY_GRACE (a slow database) no longer
counts and no longer takes connections, which then go to workers that can
serve them now.

While some worker has a free thread, some worker may always take a
connection (the least loaded with a free thread, or a busy one holding
fewer still), so a connection is never refused by all of them. A worker
that stops looking (hung, or killed before the master noticed) drops out
of the comparison after STALE_AFTER, and the master clears a dead worker's
seat as soon as it reaps it (`child_exit` in deploy/gunicorn.conf.py), so
neither holds the others back for long.
"""
import os
import time
from multiprocessing import sharedctypes

SEATS = 256          # more workers than any server runs; a worker without a seat accepts freely
STALE_AFTER = 1.0    # seconds: a worker that has not looked at the board since does not count
LOOK_EVERY = 0.1     # seconds: an idle worker still looks this often
BUSY_GRACE = 0.1     # seconds: a worker whose threads are all busy this long leaves new connections to others
RECHECK_EVERY = 0.002  # seconds: a held-back worker watches the socket again after this


def may_take(mine, others, free_thread=True):
    """Whether a worker holding `mine` connections takes a new one, given
    (connections, has a free thread) of each other worker that counts.
    With a free thread: unless another holds fewer. With every thread busy:
    only to even out the count, when no other holds fewer and each other
    with a free thread holds more (alone, it waits for a thread)."""
    if any(held < mine for held, _ in others):
        return False
    return free_thread or bool(others) and all(held > mine for held, free in others if free)


class Board:
    """The shared seats. Seats are handed out and cleared by the master only
    (it is single-threaded), each worker writes its own seat only."""

    def __init__(self, seats=SEATS):
        self.connections = sharedctypes.RawArray("l", seats)
        self.seen_until = sharedctypes.RawArray("d", seats)  # monotonic s; 0: stopping, or no worker
        self.busy_since = sharedctypes.RawArray("d", seats)  # monotonic s; 0: it has a free thread
        self.in_use = sharedctypes.RawValue("l", 0)          # seats 0 .. in_use-1 are scanned
        self.holders = {}                                     # master only: seat -> its worker

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
    def report(self, seat, connections, busy_since, stopping=False, now=None):
        """`busy_since`: when all the worker's threads became busy, 0 if one is free."""
        now = time.monotonic() if now is None else now
        self.connections[seat] = connections
        self.busy_since[seat] = busy_since
        self.seen_until[seat] = 0.0 if stopping else now + STALE_AFTER

    def may_take(self, seat, connections, free_thread=True, now=None):
        now = time.monotonic() if now is None else now
        others = [(self.connections[other], not self.busy_since[other]) for other in range(self.in_use.value)
                  if other != seat and self._counts(other, now)]
        return may_take(connections, others, free_thread)

    def _counts(self, seat, now):
        """That worker looked lately, is not stopping, and has had a free
        thread within BUSY_GRACE."""
        return self.seen_until[seat] > now and not stuck(self.busy_since[seat], now)


def stuck(busy_since, now):
    """All of a worker's threads have been busy for BUSY_GRACE."""
    return bool(busy_since) and now - busy_since >= BUSY_GRACE


def _alive(pid):
    if not isinstance(pid, int):
        return True  # not forked yet: gunicorn sets the pid once fork() returns
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: alive
    return True


board = Board()  # made on import, in the master: the workers share it by forking
