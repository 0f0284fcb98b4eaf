"""What the database servers say about themselves: statements run, from
pg_stat_statements on each member (each keeps its own; a member is named as
the stack tool names it, its role at the time beside it), and the
standbys' replay lag as the primary sees it (pg_stat_replication.replay_lag,
which includes recovery_min_apply_delay).

Read queries are the application's SELECTs on the blog database; the
routing's WAL-position probes (per request and from the health pollers),
the write detection's question before each COMMIT on the primary
(`pg_current_xact_id_if_assigned()`, routing/backend/base.py) and
connection health checks are counted apart.
"""
import threading

PROBE_PATTERNS = ("%pg_last_wal_replay_lsn%", "%pg_current_wal%", "%pg_stat_statements%")
WRITE_CHECK_PATTERN = "%pg_current_xact_id_if_assigned%"

STATEMENTS_SQL = """
SELECT
  COALESCE(sum(s.calls) FILTER (WHERE s.query ILIKE 'select%%' AND NOT (s.query ILIKE ANY(%(probes)s))
                                  AND s.query NOT ILIKE %(write_check)s
                                  AND s.query NOT IN ('SELECT $1', 'SELECT 1')), 0),
  COALESCE(sum(s.calls) FILTER (WHERE s.query ILIKE ANY(%(probes)s)), 0),
  COALESCE(sum(s.calls) FILTER (WHERE s.query ~* '^\\s*(insert|update|delete)'), 0),
  COALESCE(sum(s.calls) FILTER (WHERE s.query ILIKE %(write_check)s), 0)
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = %(database)s
"""


def reset_statements(stack):
    for member in stack.members:
        stack.query("SELECT pg_stat_statements_reset()", server=member)


def statements(stack, database="blog"):
    """{member: {"role", "reads", "lsn_probes", "writes", "write_checks", "read_share"}}
    since the last reset."""
    found, leader = {}, stack.leader()
    for member in stack.members:
        reads, probes, writes, checks = stack.query(STATEMENTS_SQL, {
            "probes": list(PROBE_PATTERNS), "write_check": WRITE_CHECK_PATTERN, "database": database},
            server=member)[0]
        found[member] = {"role": "primary" if member == leader else "standby", "reads": int(reads),
                         "lsn_probes": int(probes), "writes": int(writes), "write_checks": int(checks)}
    total = sum(entry["reads"] for entry in found.values()) or 1
    for entry in found.values():
        entry["read_share"] = round(entry["reads"] / total, 4)
    return found


class LagSampler:
    """Samples each replica's replay lag (seconds) on the primary, every
    `interval`, while it runs; `.maximum` and `.samples` afterwards."""

    SQL = ("SELECT s.slot_name, EXTRACT(EPOCH FROM r.replay_lag) FROM pg_stat_replication r "
           "JOIN pg_replication_slots s ON s.active_pid = r.pid")

    def __init__(self, stack, interval=0.25):
        self.stack, self.interval = stack, interval
        self.samples = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self):
        conn = self.stack.connect(database="postgres")
        try:
            while not self._stop.is_set():
                with conn.cursor() as cursor:
                    cursor.execute(self.SQL)
                    self.samples.extend((name, float(lag)) for name, lag in cursor.fetchall() if lag is not None)
                self._stop.wait(self.interval)
        finally:
            conn.close()

    @property
    def maximum(self):
        return max((lag for _, lag in self.samples), default=0.0)

    def per_replica(self):
        found = {}
        for name, lag in self.samples:
            found.setdefault(name, []).append(lag)
        return {name: {"max": round(max(v), 3), "mean": round(sum(v) / len(v), 3), "samples": len(v)}
                for name, v in found.items()}
