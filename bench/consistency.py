"""The recorded history of a workload, and its consistency check against
SPEC's guarantees, from what clients saw (each comment on a post page is
`id="comment-<id>"`):

* read-your-writes: a session's read of a post, started after its comment
  on that post was acknowledged (303), shows the comment;
* bounded staleness: anyone's read of a post started at least B after a
  comment on it was acknowledged shows it (B = replica lag + 1 s; the
  acknowledgement comes after the commit, so this never blames early reads);
* monotonic reads: a read of a post by a pinned session shows every comment
  that session saw on that post in a read that had ended before this one began.

Only successful (200) reads of post pages are checked; every violation is
kept with request ids and times, never just counted.
"""
import bisect
from collections import defaultdict
from dataclasses import asdict, dataclass, field


@dataclass
class Event:
    kind: str                   # "read" or "write"
    client: str
    path: str
    start: float
    end: float
    status: int
    request_id: str = ""
    post: str = ""              # the post's slug (post pages, comment posts)
    x_cache: str = ""
    comments: frozenset = field(default_factory=frozenset)
    comment_id: int = 0         # an acknowledged comment
    pinned: bool = False        # the request carried the pin cookie
    pin_change: str = ""        # the response set or cleared it
    phase: str = ""
    error: str = ""
    db_server: str = ""         # the Django alias Server-Timing names ("default": the primary)
    db_queries: int = 0         # its query count (the snapshot probe included)

    @property
    def acknowledged(self):
        return self.kind == "write" and self.status == 303 and bool(self.comment_id)


def _violation(rule, read, write=None, missing=None):
    found = {"rule": rule, "read_request_id": read.request_id, "read_client": read.client,
             "post": read.post, "read_start": round(read.start, 3), "read_end": round(read.end, 3),
             "x_cache": read.x_cache, "pinned": read.pinned}
    if write is not None:
        found.update(write_request_id=write.request_id, write_client=write.client,
                     comment_id=write.comment_id, acknowledged_at=round(write.end, 3),
                     seconds_after_ack=round(read.start - write.end, 3),
                     write_pin_change=write.pin_change)
    if missing is not None:
        found["missing_comment_ids"] = sorted(missing)
    return found


def check(events, bound_seconds):
    """{rule: {"violations": n, "checked": n, "examples": [...]}} for the three rules."""
    reads = defaultdict(list)  # post -> successful reads, by start time
    for event in events:
        if event.kind == "read" and event.status == 200 and event.post:
            reads[event.post].append(event)
    for post_reads in reads.values():
        post_reads.sort(key=lambda e: e.start)
    writes = [e for e in events if e.acknowledged]
    results = {
        "read_your_writes": _read_your_writes(writes, reads),
        "bounded_staleness": _bounded_staleness(writes, reads, bound_seconds),
        "monotonic_reads": _monotonic_reads(reads),
    }
    results["bound_seconds"] = round(bound_seconds, 3)
    return results


def _outcome(checked, violations):
    return {"checked": checked, "violations": len(violations), "examples": violations[:20]}


def _read_your_writes(writes, reads):
    checked, violations = 0, []
    own_reads = defaultdict(list)
    for post, post_reads in reads.items():
        for read in post_reads:
            own_reads[post, read.client].append(read)
    for write in writes:
        cleared_by = None  # the response that dropped the session's pin since the write, if any
        for read in own_reads.get((write.post, write.client), ()):
            if read.start >= write.end:
                checked += 1
                if write.comment_id not in read.comments:
                    found = _violation("read_your_writes", read, write)
                    if cleared_by is not None:
                        found.update(pin_cleared_by_request_id=cleared_by.request_id,
                                     pin_cleared_at=round(cleared_by.end, 3))
                    violations.append(found)
                if read.pin_change == "cleared":
                    cleared_by = read
    return _outcome(checked, violations)


def _bounded_staleness(writes, reads, bound_seconds):
    checked, violations = 0, []
    starts = {post: [read.start for read in post_reads] for post, post_reads in reads.items()}
    for write in writes:
        post_reads = reads.get(write.post, ())
        first = bisect.bisect_left(starts.get(write.post, ()), write.end + bound_seconds)
        for read in post_reads[first:]:
            checked += 1
            if write.comment_id not in read.comments:
                violations.append(_violation("bounded_staleness", read, write))
    return _outcome(checked, violations)


def _monotonic_reads(reads):
    checked, violations = 0, []
    for post_reads in reads.values():
        by_client = defaultdict(list)
        for read in post_reads:
            by_client[read.client].append(read)
        for session in by_client.values():
            for index, read in enumerate(session):
                if not read.pinned:
                    continue
                seen = set()
                for earlier in session[:index]:
                    if earlier.end <= read.start:
                        seen |= earlier.comments
                checked += 1
                missing = seen - read.comments
                if missing:
                    violations.append(_violation("monotonic_reads", read, missing=missing))
    return _outcome(checked, violations)


def unpinned_regressions(events):
    """Informational: anonymous sessions that saw a comment, then a page
    without it (allowed within bound B: no pin, no promise across requests)."""
    count = 0
    last_seen = defaultdict(set)
    for event in sorted(events, key=lambda e: e.start):
        if event.kind != "read" or event.status != 200 or not event.post or event.pinned:
            continue
        key = (event.client, event.post)
        if last_seen[key] - event.comments:
            count += 1
        last_seen[key] |= event.comments
    return count


def as_records(events):
    return [{**asdict(e), "comments": sorted(e.comments)} for e in events]
