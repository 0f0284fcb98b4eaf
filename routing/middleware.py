"""Per-request routing: decide what the request must see, retry a failed
replica read elsewhere, and carry the session's position in the pin cookie.

- A valid pin cookie makes the request read from a server at or past its LSN.
- Unsafe methods and logged-in sessions (routing/login_marker.py) read from the primary.
- A GET/HEAD whose replica read fails (connection lost, hot-standby conflict)
  is run again, whole, on another server; the replica leaves rotation.
- A write while there is no primary (down, restarting, or not promoted yet
  after a failover) gets a 503 "read-only" page; after a promotion each
  thread's connection to the former primary is dropped before its next request.
- After a committed write the response pins the session to the write's LSN;
  a pinned session's pin follows what it has seen (monotonic reads) and is
  dropped once every replica in rotation has replayed it and the staleness
  bound B has passed since it was set: no copy from before the write can be
  served to anyone after B (the page cache serves a previous copy, STALE,
  for at most B after the invalidation it missed), so none to this session.
"""
import logging

from django.db import connections

from . import conf, context, readonly
from .errors import is_connection_error, is_primary_unavailable, is_replica_failure
from .health import monitor
from .login_marker import signed_in
from .pin import clear_pin, read_pin_with_age, set_pin
from .request_state import request_state

logger = logging.getLogger(__name__)

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


class RoutingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        forget_a_connection_to_a_former_primary()
        position = request_state(request).position = self.position_for(request)
        with context.activate(position):
            response = self.get_response(request)
        if unacknowledged_commit():
            response = readonly.response(request)
        self.update_pin(request, response, position)
        return response

    def position_for(self, request):
        position = context.ReadPosition()
        if conf.pinning_enabled():
            position.min_lsn, position.pin_age = read_pin_with_age(request)
            position.pinned = bool(position.min_lsn)
        if request.method not in SAFE_METHODS:
            position.primary_reason = "write-request"
        elif signed_in(request.COOKIES):
            # Editors must never see a stale copy of what they edit (only a
            # genuine login marker counts: a bare session cookie proves nothing).
            position.primary_reason = "logged-in"
        return position

    def process_exception(self, request, exception):
        position = request_state(request).position
        if position is None:
            return None
        if request.method in ("GET", "HEAD") and is_replica_failure(exception, position):
            return self.retry_elsewhere(request, position, exception)
        if request.method not in SAFE_METHODS and is_primary_unavailable(exception):
            monitor().mark_down(conf.PRIMARY, f"write failed: {exception}")
            _close_quietly(conf.PRIMARY)  # reconnect on the next request
            return readonly.response(request)
        return None

    def retry_elsewhere(self, request, position, exception):
        failed = position.alias
        logger.warning("read on %s failed (%s); running %s again elsewhere", failed,
                       str(exception).strip().splitlines()[0] if str(exception) else exception,
                       request.path)
        if is_connection_error(exception):
            monitor().mark_down(failed, f"read failed: {exception}")
        _close_quietly(failed)
        position.forget_server(failed)
        position.retried = True
        return self.get_response(request)

    def update_pin(self, request, response, position):
        if not conf.pinning_enabled():
            return  # with no replica at all the pin still matters: the page cache honours it
        if position.wrote_lsn:
            set_pin(response, max(position.wrote_lsn, position.min_lsn))
        elif position.pinned:
            if pin_outlived_bound(position) and monitor().all_caught_up(position.min_lsn):
                clear_pin(response)
            elif position.snapshot_lsn > position.min_lsn and not position.degraded:
                set_pin(response, position.snapshot_lsn)  # never read behind what it saw


def _close_quietly(alias):
    try:
        connections[alias].close()
    except Exception:  # a broken connection may fail to close; it is gone either way
        pass


def pin_outlived_bound(position):
    """B has passed since the pin was set, by this process's view of the
    lag, with two health polls to spare for other processes' views."""
    return position.pin_age >= monitor().view.bound_seconds + 2 * conf.health_interval()


def forget_a_connection_to_a_former_primary():
    """After a promotion, this thread's persistent primary connection may lead
    to the member that lost the lead (a switchover keeps it running, as a
    standby): close it, so the next query asks libpq for the primary again."""
    connection = connections[conf.PRIMARY]
    seen = monitor().primary_changes
    if getattr(connection, "promotions_seen", seen) != seen:
        _close_quietly(conf.PRIMARY)
    connection.promotions_seen = seen


def unacknowledged_commit():
    """Did this request commit a write no synchronous standby acknowledged?
    (routing/backend/base.py notes it.) Asking forgets it."""
    connection = connections[conf.PRIMARY]
    found = getattr(connection, "unacknowledged_commit", False)
    connection.unacknowledged_commit = False
    return found
