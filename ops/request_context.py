"""What one request did, for its Sentry events, its transaction and its
Server-Timing header: where it read (alias, pinned and why, the lag of that
replica), how the page cache answered, its X-Request-ID, its queries.

Django sends `request_started` with the WSGI environ, inside the per-request
Sentry scope its integration opens and after the cache's fast path has set
X-Request-ID and the cache outcome. Hits the fast path answers never enter
Django, so they are counted (cache/stats.py), never traced.

Query totals go into the request's record (routing.RequestState), where
cache/wsgi.py reads them for Server-Timing when Django starts the response.
"""
from contextvars import ContextVar

import sentry_sdk

import routing
from routing import PRIMARY
from routing.lsn import format as format_lsn


_current = ContextVar("ops_request", default=None)


class RequestObservation:
    """One request seen from outside: its record, its queries, its replica's lag."""

    __slots__ = ("state", "lag_seconds", "lag_bytes")

    def __init__(self, environ):
        self.state = routing.state_in(environ)
        self.lag_seconds = self.lag_bytes = None

    def saw_query(self, alias, elapsed_ms):
        self.state.db_ms += elapsed_ms
        self.state.db_queries += 1
        position = self.read_position()
        if self.lag_seconds is None and position is not None and alias == position.alias:
            self.lag_seconds, self.lag_bytes = lag_of(alias)

    def read_position(self):
        # The record keeps it after the routing middleware has returned (the
        # transaction is sent then); a job's position is only in the context.
        return self.state.position or routing.current()

    def tags(self):
        position = self.read_position()
        tags = {
            "request_id": self.state.request_id,
            "cache": self.state.cache_outcome,
        }
        if position is not None:
            tags["db.alias"] = position.alias or "none"
            tags["db.pinned"] = "yes" if position.pinned else "no"
            tags["db.why"] = position.why
        if self.lag_seconds is not None:
            tags["replica.lag_seconds"] = f"{self.lag_seconds:.1f}"
        return tags

    def routing_context(self):
        position = self.read_position()
        context = {"queries": self.state.db_queries, "db_ms": round(self.state.db_ms, 2)}
        if position is not None:
            context.update(alias=position.alias, pinned=position.pinned, why=position.why,
                           pin_lsn=format_lsn(position.min_lsn), snapshot_lsn=format_lsn(position.snapshot_lsn),
                           excluded=sorted(position.excluded))
        if self.lag_seconds is not None:
            context.update(lag_seconds=round(self.lag_seconds, 3), lag_bytes=self.lag_bytes)
        return context


def lag_of(alias):
    """(seconds, bytes) the health monitor reports for `alias` now; the primary has none."""
    if alias == PRIMARY:
        return 0.0, 0
    from routing import health

    status = health.monitor().replicas.get(alias)
    return (status.lag_seconds, status.lag_bytes) if status else (0.0, 0)


def current():
    """The running request's RequestObservation, or None outside a request."""
    return _current.get()


def request_started(sender, environ=None, **kwargs):
    if environ is None:
        return
    observation = RequestObservation(environ)
    _current.set(observation)
    if sentry_sdk.get_client().is_active():
        sentry_sdk.get_isolation_scope().add_event_processor(event_processor(observation))


def request_finished(sender, **kwargs):
    _current.set(None)


def event_processor(observation):
    """Adds the request's tags and a `routing` context to every event and
    transaction of the request (tags already set, e.g. a slow query's alias, win)."""
    def add_request_context(event, hint):
        if event.get("type") == "check_in":
            return event
        tags = event.setdefault("tags", {})
        for name, value in observation.tags().items():
            tags.setdefault(name, value)
        event.setdefault("contexts", {})["routing"] = observation.routing_context()
        return event

    return add_request_context
