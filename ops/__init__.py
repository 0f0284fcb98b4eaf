"""Ops: what the people running the site see of it, and the jobs they schedule.

Started once, at the end of settings.py (Sentry's Django docs start it there):

    from ops import start_observing
    start_observing(release=APP_VERSION)

- sentry.py        Sentry from the environment (off without SENTRY_DSN), every
                   event scrubbed of emails, IP addresses and secrets (scrub.py)
- request_context  each request's read alias, pin, lag, cache outcome and
                   X-Request-ID on its events and transaction
- queries.py       every query timed: the alias on SQL spans, slow queries as
                   events, count and time in Server-Timing
- events.py        replica / primary / Redis / read-only changes, one event per
                   change across processes (state_changes.py)
- jobs.py          Sentry Crons check-ins; periodic commands for the scheduler
- health.py        /healthz (liveness) and /readyz (readiness JSON)
- management/commands/check_integrity.py  the integrity job (blog/integrity.py's checks)

Sits above the other parts: it observes routing (read position, health
signal, write_refused) and cache (Redis state signal, counters) and runs blog's
integrity checks; nothing imports ops but settings, urls and deploy's
scheduler. Needs REDIS_URL, SLOW_QUERY_MS, INTEGRITY_CHECK_MINUTES.
"""


def start_observing(release):
    """Sentry (when configured), then the hooks that measure and report.
    The hooks run without Sentry too: Server-Timing needs the query totals."""
    from django.core.signals import request_finished, request_started
    from django.db.backends.signals import connection_created

    from . import events, queries, request_context, sentry

    sentry.init_from_environment(release)
    connection_created.connect(queries.install, dispatch_uid="ops.queries")
    request_started.connect(request_context.request_started, dispatch_uid="ops.request_started")
    request_finished.connect(request_context.request_finished, dispatch_uid="ops.request_finished")
    events.connect()
