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
Replica health (routing.health) is polled in the background, after fork.
Settings (routing/conf.py): REPLICA_ALIASES, PIN_MAX_AGE,
MAX_REPLICA_LAG_SECONDS, MAX_REPLICA_LAG_BYTES, REPLICA_HEALTH_INTERVAL.
"""
from .context import current, pinned_to, use_primary

__all__ = ["current", "pinned_to", "use_primary"]
