"""The database router: writes to the primary, reads to one replica per
request that has replayed everything the request must see.

Reads go to the primary when the code asked for it (`use_primary()`), inside
`transaction.atomic()` on the primary, outside a request (management
commands, jobs: unless `pinned_to(lsn)`), for unsafe methods and logged-in
sessions (the middleware says so), and when no replica in rotation has
replayed the request's pin.
"""
import logging
import time

from django.db import DatabaseError, connections

from . import conf, context
from .health import monitor
from .lsn import PRIMARY_SNAPSHOT_SQL, REPLAY_LSN_SQL

logger = logging.getLogger(__name__)


def read_alias():
    """The alias the current code reads from."""
    if context.primary_forced() or connections[conf.PRIMARY].in_atomic_block:
        return conf.PRIMARY
    position = context.current()
    if position is None:
        return conf.PRIMARY
    if not position.alias:
        choose_server(position)
    return position.alias


def choose_server(position):
    """Fix the position's server for the rest of the request, and its snapshot."""
    health = monitor()
    while True:
        alias = _candidate(position, health)
        try:
            position.snapshot_lsn = measure_snapshot(alias)
        except DatabaseError as error:
            health.mark_down(alias, f"connect failed: {error}")
            connections[alias].close_if_unusable_or_obsolete()
            if alias in position.excluded:  # already retried everything
                raise
            position.excluded.add(alias)
            continue
        if alias != conf.PRIMARY and (position.snapshot_lsn < position.min_lsn or not position.snapshot_lsn):
            # The health view was optimistic (behind the pin), or this member
            # was promoted since the last poll (a primary replays nothing).
            position.excluded.add(alias)
            continue
        position.alias = alias
        return alias


def _candidate(position, health):
    if position.primary_reason and conf.PRIMARY not in position.excluded:
        return conf.PRIMARY
    replica = health.pick(position.min_lsn, exclude=position.excluded)
    if replica:
        return replica
    # A pinned session tries the primary even if this process last saw it
    # down (it may be back before the poller knows): only a failure of its
    # own lets it fall back to a replica behind its write.
    if conf.PRIMARY not in position.excluded and (health.primary.up or position.pinned):
        return conf.PRIMARY
    # Primary down: read-only mode. A pinned read waits, at most the apply
    # lag a replica in rotation may have, for one that has replayed its pin
    # (with synchronous replication a standby already holds the write), or
    # for the primary to be back. A position that is not the session's own
    # (a refill after an invalidation: the page cache's required position)
    # is not waited for: its render would wait up to the whole bound, ten
    # seconds, for a position that no standby may ever reach (the
    # invalidation was stamped with the lost primary's position after the
    # commit, past what it had sent). Such a read is served by the freshest
    # standby now, or a pinned one by a standby past its own pin, and the
    # cache does not keep the render (its snapshot is behind the
    # invalidation: cache/store.py refuses it).
    if position.pinned:
        position.settle_for_own()
        server = wait_for_a_server_past(position, health)
        if server:
            return server
    fallback = health.freshest_up(exclude=position.excluded - {conf.PRIMARY})
    if fallback is None:
        fallback = next(iter(sorted(set(conf.replica_aliases()) - position.excluded)), conf.PRIMARY)
    position.degraded = "primary-down"
    position.min_lsn = 0
    return fallback


def wait_for_a_server_past(position, health):
    """A replica that has replayed the pin, or the primary once the health
    poller sees it again: a switchover or a restart leaves no primary for a
    second or two, and waiting the whole bound for a replica would end on
    one behind the write. One wait per request, however often the primary
    fails again (each failure marks it down until the next poll)."""
    if not position.wait_deadline:
        position.wait_deadline = time.monotonic() + conf.max_lag_seconds()
    while time.monotonic() < position.wait_deadline:
        replica = health.pick(position.min_lsn, exclude=position.excluded)
        if replica:
            return replica
        if health.primary.up:
            position.excluded.discard(conf.PRIMARY)
            return conf.PRIMARY
        time.sleep(conf.health_interval() / 2)
    return None


def measure_snapshot(alias):
    """The server's position before the request's first query on it."""
    sql = PRIMARY_SNAPSHOT_SQL if alias == conf.PRIMARY else REPLAY_LSN_SQL
    with connections[alias].cursor() as cursor:
        cursor.execute(sql)
        return int(cursor.fetchone()[0])


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return conf.PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == conf.PRIMARY
