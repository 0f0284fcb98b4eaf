"""One request's record, shared by the parts that handle it.

The WSGI entry (cache/wsgi.py) creates it before anything else runs and
carries it in the environ under one key; Django code finds it with
`request_state(request)`. Each part fills in its own fields:

    cache     the outcome (HIT, STALE, MISS, BYPASS), and for a render that
              refills the cache: the key, the fill lease, the WAL position
              the render must reach
    routing   the read position (server, snapshot LSN, pin), by the routing middleware
    ops       the request id, and the database time and query count (Server-Timing)

It lives in routing, the bottom part, because every part that shares it
already depends on routing.
"""
from dataclasses import dataclass

from .context import ReadPosition

ENVIRON_KEY = "site.request_state"


@dataclass(slots=True)
class RequestState:
    request_id: str = ""
    cache_outcome: str = "BYPASS"
    fill_key: str = ""            # the full cache key this render fills ("": none)
    fill_lease: str = ""          # the fill lease this request holds ("": none)
    required_lsn: int = 0         # the render must read at or past this WAL position
    position: ReadPosition = None
    db_ms: float = 0.0
    db_queries: int = 0


def request_state(request):
    """The request's record (created on first use when no WSGI entry made one:
    Django's test client, a management command's RequestFactory)."""
    return state_in(request.META)


def state_in(environ):
    state = environ.get(ENVIRON_KEY)
    if state is None:
        state = environ[ENVIRON_KEY] = RequestState()
    return state
