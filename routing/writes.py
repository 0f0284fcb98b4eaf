"""Notice committed writes on the primary and record the WAL position they
reached: that LSN is what a session's pin carries.

An execute wrapper (installed on every primary connection as it is created)
sees each statement; a write inside a transaction is recorded on commit (a
rollback records nothing), a write in autocommit mode at once.
"""
import re

from django.db import connections, transaction

from . import conf, context
from .lsn import CURRENT_PRIMARY_LSN_SQL

WRITE_STATEMENT = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|COPY|COMMENT|VACUUM|REINDEX)\b",
    re.IGNORECASE,
)


def is_write(sql):
    return bool(WRITE_STATEMENT.match(sql))


def observe_writes(execute, sql, params, many, context_):
    result = execute(sql, params, many, context_)
    position = context.current()
    if position is not None and is_write(sql):
        connection = context_["connection"]
        if connection.in_atomic_block:
            _record_on_commit(connection, position)
        else:
            record_commit(position)
    return result


def _record_on_commit(connection, position):
    hook = _commit_hook(position)
    if not any(callback is hook for _, callback, _ in connection.run_on_commit):
        transaction.on_commit(hook, using=connection.alias)


def _commit_hook(position):
    # One bound callable per position, so a transaction registers it once.
    hook = getattr(position, "_commit_hook", None)
    if hook is None:
        hook = position._commit_hook = lambda: record_commit(position)
    return hook


def record_commit(position):
    """The write is committed: the pin must reach at least the WAL position now."""
    with connections[conf.PRIMARY].cursor() as cursor:
        cursor.execute(CURRENT_PRIMARY_LSN_SQL)
        position.wrote_lsn = max(position.wrote_lsn, int(cursor.fetchone()[0]))


def install(sender, connection, **kwargs):
    """connection_created receiver: watch the primary's connections."""
    if connection.alias == conf.PRIMARY and observe_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(observe_writes)
