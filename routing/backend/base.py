"""Django's PostgreSQL backend, plus one question before each COMMIT on the
primary while a request or job is routed: did PostgreSQL give this
transaction an id? It does for any write (rows, row locks, DDL, a function
with side effects), whatever the SQL looked like, and never for a read. If
it did, the WAL position reached by the commit becomes the position's
`wrote_lsn`, which the routing middleware turns into the session's pin.

Every COMMIT on the primary is also checked for PostgreSQL's warning that
its wait for the synchronous standby was cancelled: such a write is not
acknowledged (`unacknowledged_commit`: the routing middleware answers 503).

Both queries run on the raw psycopg2 connection, never through Django's
cursor and its execute wrappers (routing/writes.py wraps autocommit
statements in a transaction whose commit comes back here).
"""
import logging

from django.db import DatabaseError
from django.db.backends.postgresql import base
from psycopg2.extensions import TRANSACTION_STATUS_INTRANS

from .. import context
from ..lsn import CURRENT_PRIMARY_LSN_SQL

logger = logging.getLogger(__name__)

TRANSACTION_WROTE_SQL = "SELECT pg_current_xact_id_if_assigned() IS NOT NULL"
SYNC_WAIT_CANCELLED = "canceling wait for synchronous replication"
# A committed write whose position could not be read: pinned past every
# replica (reads go to the primary while the pin lasts) rather than not at all.
UNKNOWN_POSITION = 2 ** 64 - 1


class DatabaseWrapper(base.DatabaseWrapper):
    unacknowledged_commit = False

    def _commit(self):
        position = context.current()
        if position is None or not self._in_transaction():
            return self._acknowledged_commit()
        with self.wrap_database_errors:
            wrote = self._fetch_one(TRANSACTION_WROTE_SQL)
        result = self._acknowledged_commit()
        if wrote:
            position.wrote_lsn = max(position.wrote_lsn, self._position_after_commit())
        return result

    def _acknowledged_commit(self):
        """COMMIT, noting when the wait for the synchronous standby was
        cancelled: PostgreSQL then commits locally and returns success with
        only a WARNING (which psycopg2 does not raise), and a failover would
        lose the write. The routing middleware then answers the read-only 503
        instead of acknowledging it; the commit's effects (its cache
        invalidations) go on as for any commit, since the row is there."""
        if self.connection is not None:
            del self.connection.notices[:]
        result = super()._commit()
        if self.connection is not None and any(SYNC_WAIT_CANCELLED in notice for notice in self.connection.notices):
            logger.warning("a commit's wait for the synchronous standby was cancelled: not acknowledged")
            self.unacknowledged_commit = True
        return result

    def _in_transaction(self):
        """A transaction is open and ran statements (psycopg2 begins one lazily,
        at the first statement, so an empty atomic block has nothing to ask)."""
        return self.connection is not None and self.connection.info.transaction_status == TRANSACTION_STATUS_INTRANS

    def _position_after_commit(self):
        """The primary's WAL position now, without opening a transaction."""
        autocommit = self.connection.autocommit
        try:
            with self.wrap_database_errors:
                self.connection.autocommit = True  # after the COMMIT: start no transaction
                return int(self._fetch_one(CURRENT_PRIMARY_LSN_SQL))
        except DatabaseError as error:
            # The write is committed: failing here would tell the writer it was not.
            logger.warning("committed a write but could not read the primary's position (%s); "
                           "pinning the session to the primary", error)
            return UNKNOWN_POSITION
        finally:
            if self.connection is not None and not self.connection.closed:
                self.connection.autocommit = autocommit

    def _fetch_one(self, sql):
        with self.connection.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]
