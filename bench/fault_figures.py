"""The fault part's figures, from its recorded history (bench/consistency.py
Events, each carrying the phase in which it started) and the timeline's
marks: per phase, per window of phases (the failover, the switchover), and
when comment POSTs were refused and acknowledged again after a loss.
"""
import collections

from . import consistency

FAILOVER_PHASES = ("leader lost", "new primary", "lost member rejoining", "rejoined")
SWITCHOVER_PHASES = ("switchover", "after switchover")


def write_outcome(event):
    """'acknowledged' (303), 'read-only' (a 503 saying so), or 'failed'."""
    if event.status == 303:
        return "acknowledged"
    if event.status == 503 and event.error == "read-only":
        return "read-only"
    return "failed"


def phase_figures(events):
    by_phase = collections.defaultdict(list)
    for event in events:
        by_phase[event.phase].append(event)
    return {name: outcome_figures(found) for name, found in by_phase.items()}


def outcome_figures(events):
    reads = [e for e in events if e.kind == "read"]
    writes = [e for e in events if e.kind == "write"]
    outcomes = collections.Counter(write_outcome(e) for e in writes)
    return {
        "requests": len(events), "reads": len(reads),
        "failed_reads": sum(e.status != 200 for e in reads),
        "read_failures": dict(collections.Counter(e.error or str(e.status) for e in reads if e.status != 200)),
        "writes": dict(collections.Counter(str(e.status) for e in writes)),
        "read_only_503_with_message": outcomes["read-only"],
        "failed_writes": outcomes["failed"],
    }


def window_figures(events, phases):
    """Outcomes over several phases together, and the consistency check of
    the requests that started in them (read-your-writes and monotonic
    reads: no staleness bound applies to a failover's gap)."""
    inside = [e for e in events if e.phase in phases]
    checks = consistency.check(inside, bound_seconds=float("inf"))
    found = outcome_figures(inside)
    found.update(phases=list(phases),
                 read_your_writes_violations=checks["read_your_writes"]["violations"],
                 monotonic_read_violations=checks["monotonic_reads"]["violations"],
                 violations=checks["read_your_writes"]["violations"] + checks["monotonic_reads"]["violations"])
    return found


def writes_back(events, lost_at):
    """Seconds from the loss: the first and last comment POST refused
    (started after the loss), and the end of the first acknowledged one that
    started after the first refusal (or after the loss, if none was refused)."""
    after = sorted((e for e in events if e.kind == "write" and e.start >= lost_at), key=lambda e: e.start)
    refused = [e for e in after if e.status == 503]
    since = refused[0].start if refused else lost_at
    back = next((e for e in after if e.status == 303 and e.start >= since), None)
    seconds = lambda at: round(at - lost_at, 2)  # noqa: E731
    return {"refused": len(refused),
            "refused_without_read_only_notice": sum(write_outcome(e) == "failed" for e in refused),
            "first_refused_after_s": seconds(refused[0].start) if refused else None,
            "last_refused_after_s": seconds(refused[-1].end) if refused else None,
            "first_acknowledged_after_s": seconds(back.end) if back else None}


def recoveries(events, marks):
    """Seconds from each short fault's restart to its recovery (the faults
    a plan left out are left out here too)."""
    at = dict(marks)
    found = {}
    if "replica2 started" in at:
        found["replica2_back_in_rotation_s"] = round(at["replica2 in rotation"] - at["replica2 started"], 2)
    if "redis started" in at:
        first_hit = min((e.start for e in events if e.x_cache == "HIT" and e.start >= at["redis started"]),
                        default=None)
        found["redis_first_hit_after_start_s"] = round(first_hit - at["redis started"], 2) if first_hit else None
    if "primary started" in at:
        first_ack = min((e.start for e in events if e.acknowledged and e.start >= at["primary started"]),
                        default=None)
        found["primary_first_comment_acknowledged_after_start_s"] = (
            round(first_ack - at["primary started"], 2) if first_ack else None)
    return found
