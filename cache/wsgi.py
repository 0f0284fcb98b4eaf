"""The fast path: a WSGI layer in front of Django's handler that answers
cache hits for GET/HEAD in at most one Redis round trip (none from the
per-process tier), without entering Django.

Django is entered on a miss (with the fill lease, and the WAL position the
render must reach, in the request's record: routing.RequestState), on a
bypass (a logged-in editor; a request that must not be stored), and when
Redis is out. Every response leaves with X-Cache, X-Request-ID and
Server-Timing.
"""
import itertools
import os
import re
import time
from http import HTTPStatus

from routing import replication_view, session_facts, state_in

from . import conf, keys, memory, memory_sync, representation, stats, store

# Where the project's gunicorn workers offer a whole-response write
# (deploy/http_response.py SEND_PREPARED): a hit's unchanging headers go out
# with its body in one write, without start_response. Other servers leave it out.
SEND_PREPARED = "deploy.send_prepared"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in HTTPStatus}
HIT, STALE = "HIT", "STALE"


class RequestIds:
    """New request ids: a random prefix per process (16 hex digits) and a
    counter, unique across processes and hosts without a system call per
    request (os.urandom cost a hit ~2 % of its CPU, and released the GIL
    mid-request). The counter in decimal: a format spec such as `08x` runs
    the formatter's code, which nothing else on a hit's path brings into
    the CPU's cache (docs/performance.md, "What a hit touches")."""

    def __init__(self):
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count()

    def new(self):
        return f"{self.prefix}{next(self.counter)}"


_ids = RequestIds()


def _new_ids_after_fork():
    global _ids
    _ids = RequestIds()


os.register_at_fork(after_in_child=_new_ids_after_fork)


def request_id_for(environ):
    """The proxy's X-Request-ID when it looks sane, else a new one."""
    given = environ.get("HTTP_X_REQUEST_ID")
    if given is None or not REQUEST_ID.match(given):
        given = _ids.new()
        environ["HTTP_X_REQUEST_ID"] = given
    return given


TWO_DIGITS = tuple(f"{number:02d}" for number in range(100))


def milliseconds(seconds):
    """`seconds` as milliseconds with two decimals ("0.05"), in integer
    arithmetic and no format spec: a hit formats no float, and runs none
    of the formatter's code (cold on a hit's path: touching it costs more
    than the arithmetic)."""
    hundredths = int(seconds * 100_000)
    return f"{hundredths // 100}.{TWO_DIGITS[hundredths % 100]}"


def server_timing(state, started):
    """Of a response Django rendered (cache hits write theirs in `respond`):
    `cache;desc` is "none", and `db` names the server that rendered, so load
    can be attributed per server (`db;desc="replica1, 5 queries"`)."""
    app_ms = (time.perf_counter() - started) * 1000
    server = state.position.alias if state.position is not None and state.position.alias else ""
    queries = f"{server}, {state.db_queries} queries" if server else f"{state.db_queries} queries"
    return f'cache;dur=0.00;desc="none", db;dur={state.db_ms:.2f};desc="{queries}", app;dur={app_ms:.2f}'


class PageCacheApplication:
    def __init__(self, django_app):
        self.django_app = django_app

    def __call__(self, environ, start_response):
        started = time.perf_counter()
        memory_sync.ensure_running()
        request_id = request_id_for(environ)
        if environ["REQUEST_METHOD"] in ("GET", "HEAD"):
            served = self.from_cache(environ, request_id, start_response, started)
            if served is not None:
                return served
        # The request's record (routing.RequestState) is made only for Django,
        # here or by the cache handing it a fill: a hit never needs one.
        state = state_in(environ)
        state.request_id = request_id
        return self.django(environ, state, start_response, started)

    # --- the cache --------------------------------------------------------
    def from_cache(self, environ, request_id, start_response, started):
        session = session_facts(environ.get("HTTP_COOKIE"))
        if session.signed_in:
            return None  # editors: never from the cache
        page_key = keys.page_key(environ)
        if page_key is None:
            return None
        entry = memory.tier.get(page_key, session.pin_lsn)
        if entry is not None:
            return self.respond(environ, request_id, start_response, entry, HIT, started, "memory")
        return self.from_redis(environ, request_id, start_response, page_key, session.pin_lsn, started)

    def from_redis(self, environ, request_id, start_response, page_key, pin_lsn, started):
        """A hit; else STALE (the previous copy, while a refill is not due
        or runs elsewhere); else a render in Django, holding the fill lease
        when this request is the one to refill. A request refused the
        previous copy (invalidated longer ago than the bound B, or older
        than the reader's pin) while another request refills waits for that
        refill, as a request with no copy does. Were it to render instead,
        so would every request in flight: a refill that the load slowed
        past B became one render per request thread (issue #17's bench,
        the first stampede round)."""
        token = os.urandom(8).hex()
        replication = replication_view()
        deadline = time.monotonic() + conf.fill_wait_seconds()
        pause = 0.01
        while True:
            observed = memory.tier.observed()
            found = store.lookup(page_key, pin_lsn, token, replication)
            if found is None:
                state_in(environ).cache_outcome = "MISS"
                return None  # Redis out: render from the database
            if found.state == store.FRESH:
                memory.tier.put(page_key, found.entry, observed)
                return self.respond(environ, request_id, start_response, found.entry, HIT, started, "redis")
            if found.leased or found.state == store.BEHIND_PIN:
                self.hand_to_django(state_in(environ), found, token if found.leased else "")
                return None
            if found.stale_ok or found.state == store.PAST_TTL:
                return self.respond(environ, request_id, start_response, found.entry, STALE, started, "redis")
            if time.monotonic() >= deadline:
                self.hand_to_django(state_in(environ), found, "")  # the fill is late: render too
                return None
            time.sleep(pause)  # another request is filling it: wait briefly
            pause = min(pause * 1.5, 0.05)

    @staticmethod
    def hand_to_django(state, found, lease_token):
        state.cache_outcome = "MISS"
        state.fill_key, state.fill_lease = found.full_key, lease_token
        if conf.lsn_gating() and found.state in (store.INVALIDATED, store.ABSENT):
            state.required_lsn = found.newest_lsn

    def respond(self, environ, request_id, start_response, entry, outcome, started, tier):
        status, headers, body = representation.answer(entry, environ.get)
        elapsed = milliseconds(time.perf_counter() - started)  # all of it the cache's: no database, no view
        own = [("X-Cache", outcome), ("X-Request-ID", request_id), ("Server-Timing",
               f'cache;dur={elapsed};desc="{tier}", db;dur=0.00;desc="0 queries", app;dur={elapsed}')]
        stats.count(outcome)
        if environ["REQUEST_METHOD"] == "HEAD":
            body = b""
        send_prepared = environ.get(SEND_PREPARED)
        if send_prepared is not None:
            # `headers` is the representation's own list, the same object on every hit of it.
            sent = send_prepared(STATUS_LINES[status], headers, own, body)
            if sent is not None:
                return sent
        start_response(STATUS_LINES[status], [*headers, *own])
        return [body]

    # --- Django -----------------------------------------------------------
    def django(self, environ, state, start_response, started):
        def start(status, headers, exc_info=None):
            headers.append(("X-Request-ID", state.request_id))
            if not any(name.lower() == "x-cache" for name, _ in headers):
                headers.append(("X-Cache", state.cache_outcome))
            headers.append(("Server-Timing", server_timing(state, started)))
            return start_response(status, headers, exc_info)

        stats.count(state.cache_outcome)
        return self.django_app(environ, start)
