"""PostgreSQL WAL positions (LSNs) as integers: '16/B374D848' <-> 0x16B374D848."""


def parse(text):
    """'16/B374D848' -> int; None or '' -> 0 (a server that has replayed nothing)."""
    if not text:
        return 0
    high, _, low = str(text).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def format(value):
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"


# Comparing as numbers is cheaper in SQL too: pg_lsn - '0/0' is the byte position.
# One measure of the primary's position everywhere (pins, invalidations,
# snapshots): its WAL write position, which is past every commit that has
# returned — for a transaction that wrote rows, with synchronous_commit on
# (PostgreSQL's default; keep it: with it off, a commit may return before its
# record is written, and an invalidation would stand before the change it
# announces). The insert position can run ahead of the write position, so
# mixing the two made a fresh refill on the primary look older than the
# invalidation it follows.
CURRENT_PRIMARY_LSN_SQL = "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"
PRIMARY_SNAPSHOT_SQL = CURRENT_PRIMARY_LSN_SQL
REPLAY_LSN_SQL = "SELECT COALESCE(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0)"
# The health poller's questions (routing/health.py). The primary: its
# position, its timeline (the first 8 hex digits of its current WAL file's
# name: pg_control's can lag a promotion until the next checkpoint), and
# which member it is. Any member: whether it is a standby, how far it has
# replayed (a primary: its own position), and the timeline it receives.
PRIMARY_IDENTITY_SQL = (
    "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, "
    "('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int, "
    "COALESCE(host(inet_server_addr()), 'local') || ':' || COALESCE(inet_server_port(), 0)")
MEMBER_STATE_SQL = (
    "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() "
    "THEN COALESCE(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0) ELSE pg_current_wal_lsn() - '0/0'::pg_lsn END, "
    "CASE WHEN pg_is_in_recovery() THEN COALESCE((SELECT received_tli FROM pg_stat_wal_receiver), 0) "
    "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END")


def current_primary_lsn():
    """The primary's position now (an invalidation is stamped with it)."""
    from django.db import connections

    from .conf import PRIMARY

    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(CURRENT_PRIMARY_LSN_SQL)
        return int(cursor.fetchone()[0])
