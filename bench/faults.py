"""Part 4: faults under load. The mixed workload runs on while, one after
another, replica2 is killed (immediate stop) then started, Redis is
stopped then started, and the primary is stopped then started
(deploy/localstack.py stop|start on the bench stack).

Per phase: requests, failed reads (anything but a 200, connection errors
included), comment POSTs by outcome (a 503 must say "read-only"); per
fault, the time to recover after the restart, measured from the servers'
side where possible (/readyz: the replica back in rotation) and from what
clients saw (the first cache HIT after Redis returns, the first comment
acknowledged after the primary returns). Afterwards every acknowledged
comment must be in the database.
"""
import collections
import json
import time

from . import consistency
from .http_client import HttpClient
from .mixed import acknowledged_comments_present
from .stack import log
from .workload import Workload

FAULTS = (("replica2", "replica2"), ("redis", "redis"), ("primary", "primary"))


def readyz(port):
    client = HttpClient(port, timeout=3)
    reply = client.get("/readyz")
    client.close()
    try:
        return json.loads(reply.body)
    except ValueError:
        return {}


def replica_in_rotation(port, name):
    found = readyz(port)
    return any(r.get("alias") == name and r.get("in_rotation") for r in found.get("replicas", []))


def timeline(stack, plan, port, marks):
    """Drives the faults while the workload runs; records when each step happened."""
    def during(workload):
        step = plan.fault_seconds

        def phase(name):
            workload.phase = name
            marks.append((name, time.time()))
            log(f"faults: {name}")

        phase("baseline")
        time.sleep(step)
        for label, component in FAULTS:
            phase(f"{label} down")
            stack.tool("stop", component)
            time.sleep(step)
            phase(f"{label} back")
            stack.tool("start", component)
            marks.append((f"{label} started", time.time()))
            if component.startswith("replica"):
                deadline = time.time() + 30
                while time.time() < deadline and not replica_in_rotation(port, component):
                    time.sleep(0.1)
                marks.append((f"{label} in rotation", time.time()))
            time.sleep(step)
        workload.stop()
    return during


def phase_figures(events):
    by_phase = collections.defaultdict(list)
    for event in events:
        by_phase[event.phase].append(event)
    figures = {}
    for name, found in by_phase.items():
        reads = [e for e in found if e.kind == "read"]
        writes = [e for e in found if e.kind == "write"]
        figures[name] = {
            "requests": len(found), "reads": len(reads),
            "failed_reads": sum(e.status != 200 for e in reads),
            "read_failures": dict(collections.Counter(e.error or str(e.status) for e in reads if e.status != 200)),
            "writes": dict(collections.Counter(str(e.status) for e in writes)),
            "read_only_503_with_message": sum(e.status == 503 and e.error == "read-only" for e in writes),
            "failed_writes": sum(e.status not in (303, 503) for e in writes)
                             + sum(e.status == 503 and e.error != "read-only" for e in writes),
        }
    return figures


def recoveries(events, marks):
    at = dict(marks)
    first_hit = min((e.start for e in events if e.x_cache == "HIT" and e.start >= at["redis started"]),
                    default=None)
    first_ack = min((e.start for e in events if e.acknowledged and e.start >= at["primary started"]),
                    default=None)
    return {
        "replica2_back_in_rotation_s": round(at["replica2 in rotation"] - at["replica2 started"], 2),
        "redis_first_hit_after_start_s": round(first_hit - at["redis started"], 2) if first_hit else None,
        "primary_first_comment_acknowledged_after_start_s":
            round(first_ack - at["primary started"], 2) if first_ack else None,
    }


def run(stack, plan, ranked, port, history_file):
    marks = []
    readers = max(4, plan.mixed_readers // 2)
    workload = Workload(port, ranked, readers, 2, 0.05, seed=3)
    workload.phase = "baseline"
    try:
        seconds = workload.run(plan.fault_seconds * 8 + 60, during=timeline(stack, plan, port, marks))
    finally:
        for _, component in FAULTS:  # whatever happened, leave the stack whole
            stack.tool("start", component, check=False)
    stack.wait_replayed()
    events = workload.events
    history_file.parent.mkdir(parents=True, exist_ok=True)
    history_file.write_text(json.dumps(consistency.as_records(events)))
    checks = consistency.check(events, bound_seconds=float("inf"))
    result = {
        "seconds": round(seconds, 1), "phase_seconds": plan.fault_seconds, "readers": readers, "writers": 2,
        "marks": [(name, round(t, 3)) for name, t in marks],
        "phases": phase_figures(events), "recovery": recoveries(events, marks),
        "acknowledged_comments": acknowledged_comments_present(stack, events),
        "read_your_writes_violations": checks["read_your_writes"]["violations"],
        "monotonic_read_violations": checks["monotonic_reads"]["violations"],
        "consistency_examples": checks["read_your_writes"]["examples"][:5] + checks["monotonic_reads"]["examples"][:5],
        "history_file": history_file.name,
    }
    log(f"faults: recovery {result['recovery']}, acknowledged comments missing: "
        f"{result['acknowledged_comments']['missing']}")
    return result
