"""What a process knows of each database server, as its health poller
(routing/health.py) last saw it: small records, no I/O."""
from collections import deque
from dataclasses import dataclass

from . import conf

PRIMARY_ROLE, STANDBY_ROLE = "primary", "standby"
EVERYTHING = 2 ** 63  # what the primary has replayed, as far as any LSN comparison goes


@dataclass
class ServerStatus:
    alias: str
    up: bool = True
    in_rotation: bool = True
    role: str = ""             # primary or standby; "" until first polled
    replay_lsn: int = 0
    timeline: int = 0          # a standby: the timeline it receives; the primary: its own
    lag_bytes: int = 0
    lag_seconds: float = 0.0
    reason: str = ""
    failures: int = 0
    out_until: float = 0.0

    def public(self):
        return {"alias": self.alias, "up": self.up, "in_rotation": self.in_rotation, "role": self.role,
                "timeline": self.timeline, "lag_seconds": round(self.lag_seconds, 3),
                "lag_bytes": self.lag_bytes}


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


@dataclass(frozen=True)
class PrimaryIdentity:
    """Which member leads, on which timeline (a promotion starts a new one)."""
    member: str = ""       # host:port, as the primary reports it
    timeline: int = 0


class PrimaryHistory:
    """(time, primary LSN) samples, to say since when the primary was past an
    LSN. One timeline's: a promotion starts a new history (a dead timeline's
    positions can be ahead of the new one's)."""

    def __init__(self):
        self.samples = deque(maxlen=4096)

    def add(self, now, lsn):
        if not self.samples or lsn > self.samples[-1][1]:
            self.samples.append((now, lsn))

    def latest(self):
        return self.samples[-1][1] if self.samples else 0

    def recent(self, seconds, now):
        """The samples of the last `seconds`, and the one before them: enough
        to measure any lag up to `seconds` (a longer one reads as at least
        that), for another process to carry on with."""
        kept = [sample for sample in self.samples if sample[0] >= now - seconds]
        older = len(self.samples) - len(kept)
        return ([list(self.samples[older - 1])] if older else []) + [list(sample) for sample in kept]

    def replace(self, samples):
        self.samples.clear()
        self.samples.extend((moment, lsn) for moment, lsn in samples)

    def seconds_behind(self, replay_lsn, now):
        """How long the primary has stood past `replay_lsn` (0 if it has not)."""
        for moment, lsn in self.samples:
            if lsn > replay_lsn:
                return now - moment
        return 0.0
