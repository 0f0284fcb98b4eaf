"""Which database a query goes to.

Writes go to the primary. Reads go to one streaming replica per request, the
one chosen before the request's first query among those in rotation that
have replayed everything the request must see; else to the primary.

    DATABASE_ROUTERS = ["routing.router.ReplicaRouter"]
    MIDDLEWARE = ["routing.middleware.RoutingMiddleware", ...]   # outermost
    DATABASES["default"]["ENGINE"] = "routing.backend"           # notices committed writes

    from routing import use_primary, pinned_to
    with use_primary():            # or @use_primary() on a function
        ...                        # reads here come from the primary
    with pinned_to(lsn):           # background work that must see a write
        ...

Read-your-writes: a committed write pins the session (a signed cookie with
the primary's WAL LSN) until every replica in rotation has replayed it. A
write is a transaction PostgreSQL gave an id to (routing/writes.py).
Logged-in editors are known by a signed login marker bound to their session
(routing/login_marker.py), before the session is loaded:

    verified_pin(cookie_value)  -> (lsn, age); (0, 0.0) unless genuine
    signed_in(cookies)          -> True for a genuine login marker
    session_facts(cookie_header) -> both, from a raw Cookie header (fast path)
Replica health (routing.health) is polled in the background, after fork.
Settings (routing/conf.py): REPLICA_ALIASES, PIN_MAX_AGE,
MAX_REPLICA_LAG_SECONDS, MAX_REPLICA_LAG_BYTES, REPLICA_HEALTH_INTERVAL.
"""
from .conf import PRIMARY
from .context import current, pinned_to, use_primary
from .errors import is_primary_unavailable
from .health import primary_changed
from .login_marker import signed_in
from .pin import verified_pin
from .request_state import RequestState, request_state, state_in
from .session_facts import session_facts


def servers():
    """This process's view of the primary and the replicas (for /readyz)."""
    from .health import monitor

    return monitor().snapshot()


def replication_view():
    """What a refill needs: how far the replicas in rotation have replayed,
    and the staleness bound B (routing.health.ReplicationView)."""
    from .health import monitor

    return monitor().view


__all__ = ["PRIMARY", "RequestState", "current", "is_primary_unavailable", "pinned_to", "primary_changed",
           "replication_view", "request_state", "servers", "session_facts", "signed_in", "state_in",
           "use_primary", "verified_pin"]
