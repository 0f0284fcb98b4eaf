"""Which database errors mean "this server is gone or cancelled us" (and are
worth one retry elsewhere), or "there is no primary to write to right now"
(the read-only answer), rather than a bug."""
from django.db import DatabaseError, InterfaceError, OperationalError

from .conf import PRIMARY

# SQLSTATE classes/codes: connection exception, admin shutdown, cannot
# connect now, crash shutdown, and the hot-standby conflict (40001).
CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")
STANDBY_CONFLICT = "40001"
# A write reached a server that is no longer (or not yet) the primary: a
# leader restarted and not yet promoted, or one demoted by a switchover.
READ_ONLY_TRANSACTION, IN_RECOVERY = "25006", "55000"


def _pgcode(exception):
    cause = exception.__cause__ or exception
    return getattr(cause, "pgcode", None)


def is_connection_error(exception):
    if not isinstance(exception, (OperationalError, InterfaceError)):
        return False
    code = _pgcode(exception)
    return code is None or code.startswith(CONNECTION_STATES)


def is_replica_failure(exception, position):
    """A replica read failed in a way another server can fix, not yet retried."""
    if position.retried or not position.alias:
        return False
    if position.alias != PRIMARY or position.degraded:
        return is_connection_error(exception) or _pgcode(exception) == STANDBY_CONFLICT
    # A read on the primary that lost it: serve from a replica (read-only mode).
    return is_connection_error(exception)


def is_primary_unavailable(exception):
    """A write failed because there is no primary to write to: the site is
    read-only until one is back or another member is promoted."""
    if is_connection_error(exception):
        return True
    return isinstance(exception, DatabaseError) and _pgcode(exception) in (READ_ONLY_TRANSACTION, IN_RECOVERY)
