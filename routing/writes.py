"""Which writes pin the session: the transactions on the primary to which
PostgreSQL gave a transaction id, asked just before their COMMIT by the
primary's backend (routing/backend/base.py). No SQL is parsed: an INSERT in
a CTE, SELECT ... FOR UPDATE, a function with side effects and DDL all get
an id, a read-only statement (a search's websearch_to_tsquery) never does,
and a write inside a released SAVEPOINT gives its whole transaction one.
A transaction rolled back pins nothing.

A statement run in autocommit mode has committed before anyone could ask,
so while a request or job is routed (a position is active), each one on the
primary runs in a transaction of its own (`transaction.atomic`), whose commit
asks the same question. That costs BEGIN, the question and COMMIT: three
round trips more per such statement (docs/hostile-input.md has the figures).
The routing's own position queries are known reads and run as they are.
"""
from django.db import transaction

from . import conf, context
from .lsn import CURRENT_PRIMARY_LSN_SQL, PRIMARY_SNAPSHOT_SQL

KNOWN_READS = frozenset({CURRENT_PRIMARY_LSN_SQL, PRIMARY_SNAPSHOT_SQL})


def run_in_a_transaction(execute, sql, params, many, context_):
    """Execute wrapper of the primary: an autocommit statement, while routed,
    runs in its own transaction so that its commit can be asked whether it wrote."""
    connection = context_["connection"]
    if not connection.autocommit or context.current() is None or sql in KNOWN_READS:
        return execute(sql, params, many, context_)
    with transaction.atomic(using=connection.alias):
        return execute(sql, params, many, context_)


def install(sender, connection, **kwargs):
    """connection_created receiver: wrap the primary's connections."""
    if connection.alias == conf.PRIMARY and run_in_a_transaction not in connection.execute_wrappers:
        connection.execute_wrappers.append(run_in_a_transaction)
