"""Failover drill: the leader's host is lost (its Patroni agent and its
PostgreSQL SIGKILLed together: `localstack.py stop <leader>`); how long until
another member accepts writes, and, once the lost member is started again,
how long until it streams from the new leader (pg_rewind).

    STACK_NAME=bench python -m bench.failover --trials 5   # JSON on stdout
    STACK_NAME=bench python bench/run.py --only failover    # the bench's part

`lose_leader(stack)` and `rejoin(stack, lost)` are the two steps, which the
bench's fault phase also runs under load (bench/faults.py). A write counts
once it commits with no synchronous-replication warning (a commit whose wait
for the standby was cancelled is not acknowledged). The first member leads
again at the end (`switchover primary`).

The part `failover` is the drill alone, `plan.failover_trials` times (min /
median / max; none in the quick run, whose fault part runs the same steps
under load), then what synchronous replication costs a comment POST
(bench/sync_cost.py).
"""
import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.stack import BenchStack, log  # noqa: E402

FIRST_MEMBER = "primary"  # the stack tool's name of the member on the first port
PROBE_TABLE = "failover_probe"
TIMEOUT = 90  # seconds: far beyond the 30 s target, so a slow failover is measured, not cut


@dataclass
class LostLeader:
    lost: str           # the member whose host was lost
    new_leader: str     # the member that took writes next
    lost_at: float      # wall clock (time.time()) just before its processes were killed
    seconds: float      # from then until the new leader committed a write


def accepts_writes(stack, member):
    """True when `member` commits a row, synchronously where a standby is there."""
    try:
        conn = psycopg2.connect(host="127.0.0.1", port=stack.ports[member], user="postgres",
                                dbname="postgres", connect_timeout=1,
                                options="-c statement_timeout=2000", application_name="failover-drill")
    except psycopg2.Error:
        return False
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f"INSERT INTO {PROBE_TABLE} VALUES (now())")
        return not any("synchronous replication" in notice for notice in conn.notices)
    except psycopg2.Error:
        return False
    finally:
        conn.close()


def lose_leader(stack):
    """Kill the leader's host; a LostLeader once another member took a write."""
    stack.query(f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (at timestamptz)", database="postgres")
    lost = stack.leader()
    lost_at, started = time.time(), time.monotonic()
    stack.tool("stop", lost)
    others = [m for m in stack.members if m != lost]
    deadline = started + TIMEOUT
    while time.monotonic() < deadline:
        for member in others:
            if accepts_writes(stack, member):
                return LostLeader(lost, member, lost_at, time.monotonic() - started)
        time.sleep(0.1)
    raise RuntimeError(f"no member accepted writes {TIMEOUT}s after losing {lost}")


def rejoin(stack, lost):
    """Start the lost member again; seconds until it streams from the new
    leader (`localstack.py start` waits for exactly that)."""
    started = time.monotonic()
    stack.tool("start", lost, timeout=TIMEOUT + 30)
    return time.monotonic() - started


def switch_back(stack, timeout=180):
    """Hand the lead back to the first member (planned); seconds it took, 0 if it led."""
    started = time.monotonic()
    stack.tool("switchover", FIRST_MEMBER, timeout=timeout)
    return time.monotonic() - started


def drill(stack, trials):
    runs = []
    for trial in range(1, trials + 1):
        found = lose_leader(stack)
        rejoined = rejoin(stack, found.lost)
        log(f"failover {trial}/{trials}: lost {found.lost}, {found.new_leader} took writes after "
            f"{found.seconds:.1f}s; {found.lost} streaming again {rejoined:.1f}s after its start")
        runs.append({"lost": found.lost, "new_leader": found.new_leader,
                     "failover_s": round(found.seconds, 2), "rejoin_s": round(rejoined, 2)})
    switched = switch_back(stack)
    return {"trials": runs, "failover_s": summary([r["failover_s"] for r in runs]),
            "rejoin_s": summary([r["rejoin_s"] for r in runs]), "switch_back_s": round(switched, 2)}


def summary(values):
    if not values:
        return {"min": None, "median": None, "max": None}
    return {"min": min(values), "median": round(statistics.median(values), 2), "max": max(values)}


def run(stack, plan, worker_class):
    """The bench's part: the drill, then synchronous replication's cost."""
    from bench import sync_cost

    log(f"failover drill: {plan.failover_trials} trial(s)")
    result = drill(stack, plan.failover_trials)
    result["sync_commit"] = sync_cost.run(stack, plan, worker_class)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    options = parser.parse_args()
    stack = BenchStack()
    stack.up()
    print(json.dumps(drill(stack, options.trials), indent=2))


if __name__ == "__main__":
    main()
