"""Failover drill: the leader's host is lost (its Patroni agent and its
PostgreSQL SIGKILLed together: `localstack.py stop <leader>`); how long until
another member accepts writes, and, once the lost member is started again,
how long until it streams from the new leader (pg_rewind).

    STACK_NAME=bench python -m bench.failover --trials 5   # JSON on stdout

`lose_leader(stack)` and `rejoin(stack, lost)` are the two steps, for the
bench's fault phase to run under load. A write counts once it commits with
no synchronous-replication warning (a commit whose wait for the standby was
cancelled is not acknowledged). The first member leads again at the end.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import BenchStack, log  # noqa: E402

MEMBERS = ("primary", "replica1", "replica2")
PROBE_TABLE = "failover_probe"
TIMEOUT = 90  # seconds: far beyond the 30 s target, so a slow failover is measured, not cut


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


def leader(stack):
    """The stack tool's name of the member that leads now (`localstack.py leader`)."""
    return stack.tool("leader").split()[0]


def lose_leader(stack):
    """Kill the leader's host; (lost member, new leader, seconds until it took a write)."""
    lost = leader(stack)
    lost_at = time.monotonic()
    stack.tool("stop", lost)
    others = [m for m in MEMBERS if m != lost]
    deadline = lost_at + TIMEOUT
    while time.monotonic() < deadline:
        for member in others:
            if accepts_writes(stack, member):
                return lost, member, time.monotonic() - lost_at
        time.sleep(0.1)
    raise RuntimeError(f"no member accepted writes {TIMEOUT}s after losing {lost}")


def rejoin(stack, lost):
    """Start the lost member again; seconds until it streams from the new
    leader (`localstack.py start` waits for exactly that)."""
    started = time.monotonic()
    stack.tool("start", lost, timeout=TIMEOUT + 30)
    return time.monotonic() - started


def drill(stack, trials):
    stack.query(f"CREATE TABLE IF NOT EXISTS {PROBE_TABLE} (at timestamptz)",
                server=leader(stack), database="postgres")
    runs = []
    for trial in range(1, trials + 1):
        lost, new_leader, failover = lose_leader(stack)
        rejoined = rejoin(stack, lost)
        log(f"failover {trial}/{trials}: lost {lost}, {new_leader} took writes after {failover:.1f}s; "
            f"{lost} streaming again {rejoined:.1f}s after its start")
        runs.append({"lost": lost, "new_leader": new_leader,
                     "failover_s": round(failover, 2), "rejoin_s": round(rejoined, 2)})
    stack.tool("switchover", "primary", timeout=180)
    return {"trials": runs, "failover_s": summary([r["failover_s"] for r in runs]),
            "rejoin_s": summary([r["rejoin_s"] for r in runs])}


def summary(values):
    return {"min": min(values), "median": round(statistics.median(values), 2), "max": max(values)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    options = parser.parse_args()
    stack = BenchStack()
    stack.up()
    print(json.dumps(drill(stack, options.trials), indent=2))


if __name__ == "__main__":
    main()
