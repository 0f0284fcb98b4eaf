"""Part 2: the realistic mixed workload with lagging replicas, and the
consistency check of its whole recorded history.

The replicas apply WAL `plan.replica_delay` late (recovery_min_apply_delay)
while anonymous readers and commenting writers run; then throughput, hit
ratio (from X-Cache and from the server's own counters), the replay lag the
primary saw, and the three consistency counts, each violation with request
ids and times. Issue 15's figures (bench/attribution.py): the primary's
share of the read queries of anonymous GETs, apart from writers' pinned
reads and from POSTs, from each response's Server-Timing and cross-checked
with pg_stat_statements on each member; and the hit ratio of anonymous GETs
in steady state (after `plan.mixed_warmup_seconds`), cold misses apart.
"""
import collections
import time

from . import attribution, consistency, dbstats
from .counters import Counters, delta
from .stack import log
from .workload import Workload

SPEC_EXTRA_SECONDS = 1.0  # B = L + 1 s (SPEC "Guarantees")
# Issue 15's targets.
PRIMARY_SHARE_TARGET = 0.10     # at most this share of anonymous GETs' read queries on the primary
STEADY_HIT_TARGET = 0.98        # at least this share of anonymous GETs in steady state from the cache


def acknowledged_comments_present(stack, events):
    """Every comment that got a 303 is in the primary's table."""
    acknowledged = sorted({e.comment_id for e in events if e.acknowledged})
    if not acknowledged:
        return {"acknowledged": 0, "missing": 0, "missing_ids": []}
    present = {row[0] for row in stack.query("SELECT id FROM blog_comment WHERE id = ANY(%s)", (acknowledged,))}
    missing = [cid for cid in acknowledged if cid not in present]
    return {"acknowledged": len(acknowledged), "missing": len(missing), "missing_ids": missing[:50]}


def outcome_counts(events):
    reads = [e for e in events if e.kind == "read"]
    writes = [e for e in events if e.kind == "write"]
    caches = collections.Counter(e.x_cache or "none" for e in reads if e.status == 200)
    served = sum(caches.values()) or 1
    return {
        "requests": len(events), "reads": len(reads), "writes": len(writes),
        "write_share": round(len(writes) / max(len(events), 1), 4),
        "read_statuses": dict(collections.Counter(str(e.status) for e in reads)),
        "write_statuses": dict(collections.Counter(str(e.status) for e in writes)),
        "x_cache": dict(caches),
        "hit_ratio": round((caches["HIT"] + caches["STALE"]) / served, 4),
    }


def run(stack, plan, ranked, port):
    counters = Counters(stack.ports["redis"])
    stack.set_replica_delay(plan.replica_delay)
    try:
        time.sleep(0.5)
        dbstats.reset_statements(stack)
        before = counters.page_cache()
        workload = Workload(port, ranked, plan.mixed_readers, plan.mixed_writers, plan.write_share, seed=2)
        log(f"mixed workload: {plan.mixed_readers} readers, {plan.mixed_writers} writers, "
            f"{plan.mixed_seconds}s ({plan.mixed_warmup_seconds}s warm-up), replicas {plan.replica_delay} behind")
        started = time.time()
        with dbstats.LagSampler(stack) as lag:
            seconds = workload.run(plan.mixed_seconds)
        time.sleep(1.2)  # the workers' counters reach Redis at most once a second
        server_counts = delta(counters.page_cache(), before)
        shares = dbstats.statements(stack)
        leader = stack.leader()
    finally:
        stack.set_replica_delay("0")
    events = workload.events
    bound = max(lag.maximum, parse_interval(plan.replica_delay)) + SPEC_EXTRA_SECONDS
    checks = consistency.check(events, bound)
    counts = outcome_counts(events)
    result = {
        "seconds": round(seconds, 2), "readers": plan.mixed_readers, "writers": plan.mixed_writers,
        "throughput": round(len(events) / seconds, 1), **counts,
        # The server's own view: its hit / stale / miss counters (pc:stats).
        "server_counters": server_counts,
        "server_hit_ratio": round((server_counts.get("hit", 0) + server_counts.get("stale", 0)) / max(
            sum(server_counts.get(k, 0) for k in ("hit", "stale", "miss")), 1), 4),
        "replica_delay": plan.replica_delay, "replay_lag_seconds": lag.per_replica(),
        "replay_lag_max_seconds": round(lag.maximum, 3),
        "read_queries": shares, "consistency": checks,
        "anonymous_regressions_informational": consistency.unpinned_regressions(events),
        "acknowledged_comments": acknowledged_comments_present(stack, events),
        "clients": len({e.client for e in events}),
        **issue_15_figures(events, shares, leader, started + plan.mixed_warmup_seconds),
    }
    result["warmup_seconds"] = plan.mixed_warmup_seconds
    log(f"mixed: {result['throughput']} req/s, hit ratio {counts['hit_ratio']}, "
        f"writes {counts['write_share']:.1%}, violations RYW {checks['read_your_writes']['violations']} "
        f"stale {checks['bounded_staleness']['violations']} monotonic {checks['monotonic_reads']['violations']}; "
        f"primary share of anonymous reads {result['by_class']['anonymous']['primary_share']}, "
        f"steady-state hit ratio {result['steady_state']['hit_ratio']}")
    return result, events


def issue_15_figures(events, statements, leader, warm_until):
    """The primary's share of anonymous GETs' read queries (Server-Timing),
    the steady-state hit ratio, the cross-check with pg_stat_statements,
    and whether each target is met."""
    by_class = attribution.queries_by_class(events)
    steady = attribution.steady_state(events, warm_until)
    primary_share = by_class["anonymous"]["primary_share"]
    return {
        "by_class": by_class, "steady_state": steady,
        "cross_check": attribution.cross_check(by_class, statements, leader),
        "targets": {
            "primary_share_of_anonymous_reads": {
                "target": PRIMARY_SHARE_TARGET, "value": primary_share,
                "met": primary_share is not None and primary_share <= PRIMARY_SHARE_TARGET},
            "steady_state_hit_ratio": {
                "target": STEADY_HIT_TARGET, "value": steady["hit_ratio"],
                "met": steady["hit_ratio"] is not None and steady["hit_ratio"] >= STEADY_HIT_TARGET},
        },
    }


def parse_interval(text):
    """'1s' / '500ms' / '0' -> seconds."""
    text = text.strip().lower()
    if text.endswith("ms"):
        return float(text[:-2]) / 1000
    if text.endswith("s"):
        return float(text[:-1])
    return float(text or 0)
