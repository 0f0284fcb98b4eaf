"""Which database errors mean "this server is gone or cancelled us" (and are
worth one retry elsewhere) rather than a bug."""
from django.db import InterfaceError, OperationalError

from .conf import PRIMARY

# SQLSTATE classes/codes: connection exception, admin shutdown, cannot
# connect now, crash shutdown, and the hot-standby conflict (40001).
CONNECTION_STATES = ("08", "57P01", "57P02", "57P03")
STANDBY_CONFLICT = "40001"


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
