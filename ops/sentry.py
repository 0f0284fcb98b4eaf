"""Sentry, configured from the environment (SPEC "Settings").

    SENTRY_DSN                 off when empty or unset
    SENTRY_ENVIRONMENT         default "production"
    SENTRY_TRACES_SAMPLE_RATE  0..1, default 0 (no performance tracing)
    APP_VERSION                the release (passed in by settings.py)

Django, logging and threading integrations (threads not given their
starter's scopes: see `init`); Redis's only while requests are traced.
Personal data is not sent (`send_default_pii` off, request bodies and
frames' local variables never attached, database errors' DETAIL lines
masked) and every event, transaction and breadcrumb goes through
ops/scrub.py first. The health probes are never traced: load balancers
call them every few seconds.
"""
import inspect
import logging
import os

import sentry_sdk
from django.core.exceptions import ImproperlyConfigured
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.logging import LoggingIntegration, ignore_logger, ignore_logger_for_sentry_logs
from sentry_sdk.integrations.redis import RedisIntegration
from sentry_sdk.integrations.threading import ThreadingIntegration

from . import scrub

DEFAULT_ENVIRONMENT = "production"
UNTRACED_PATHS = frozenset({"/healthz", "/readyz"})


def traces_sample_rate_from(text):
    """SENTRY_TRACES_SAMPLE_RATE as a float in [0, 1]."""
    try:
        rate = float(text) if text.strip() else 0.0
    except ValueError as error:
        raise ImproperlyConfigured(f"SENTRY_TRACES_SAMPLE_RATE must be a number, not {text!r}") from error
    if not 0.0 <= rate <= 1.0:
        raise ImproperlyConfigured(f"SENTRY_TRACES_SAMPLE_RATE must be between 0 and 1, not {rate}")
    return rate


def init_from_environment(release):
    """Start Sentry if SENTRY_DSN is set; True if it was."""
    dsn = os.environ.get("SENTRY_DSN", "").strip()
    if not dsn:
        return False
    init(dsn, release=release,
         environment=os.environ.get("SENTRY_ENVIRONMENT", "").strip() or DEFAULT_ENVIRONMENT,
         traces_sample_rate=traces_sample_rate_from(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "")))
    return True


def init(dsn, *, release, environment=DEFAULT_ENVIRONMENT, traces_sample_rate=0.0, transport=None):
    """The one place Sentry's options are chosen (tests pass a capturing transport)."""
    traced = traces_sample_rate > 0
    # Sentry's Redis integration wraps every Redis command in a span and a
    # breadcrumb: about 110 µs of CPU per command, a third of a hit served
    # from Redis and of each of the memory tier's polls (issue #17,
    # docs/performance.md). Its spans are worth that in a traced request; with
    # tracing off it would only add breadcrumbs, so it is off. (redis-py is
    # installed, so it would turn itself on: `auto_enabling_integrations=False`
    # below keeps every integration that is not listed off.)
    # Redis outages are reported either way, by the cache (ops/events.py).
    redis = [RedisIntegration()] if traced else []
    sentry_sdk.init(
        dsn=dsn,
        release=release,
        environment=environment,
        transport=transport,
        integrations=[
            # Transactions named by URL pattern (/posts/<slug:slug>/), not by path.
            DjangoIntegration(transaction_style="url"),
            *redis,
            # Log lines become breadcrumbs; only errors become events (routing
            # and the cache log warnings that ops/events.py reports once instead).
            # Sentry's separate "Logs" product is not used: no handler for it.
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR, sentry_logs_level=None),
            # Uncaught exceptions in threads are still reported, but a new
            # thread or thread-pool task no longer gets a copy of its
            # starter's scopes. gthread workers hand every request to a pool:
            # forking two scopes per request cost a cache hit 10-15 % of its
            # CPU (issue #17). Nothing is lost: a render takes its own scope
            # from the Django integration, and the site sets nothing on a
            # scope outside a request or a `new_scope()` block.
            ThreadingIntegration(propagate_scope=False),
        ],
        auto_enabling_integrations=False,
        # send_default_pii stays off by being left out: passing it is deprecated
        # in favour of `data_collection`, whose defaults would collect more.
        # Comment forms carry readers' names, addresses and words: tracebacks
        # have what debugging needs without the request body.
        max_request_body_size="never",
        # No frame's local variables either. A commenter's name and words can
        # sit in any of them (`data`, `fields`, a Comment's repr "Ada on 12",
        # SQL parameters), and prose, unlike an email or an IP address, has no
        # shape a scrubber could recognise: scrubbing them would fail open.
        # Tracebacks keep every file, line and function, and the (scrubbed)
        # exception message; the request's tags say where it read and why.
        include_local_variables=False,
        before_send=scrub.scrub_event,
        before_send_transaction=scrub.scrub_event,
        before_breadcrumb=scrub.scrub_breadcrumb,
        # No sampler at all when the rate is 0: no transactions are even started.
        traces_sampler=sampler(traces_sample_rate) if traced else None,
    )
    # One access-log line per request: as breadcrumbs they only repeat what the
    # event's own request says, and handing each to Sentry cost the cache's hit
    # path about 7% of its time (py-spy under the benchmark).
    ignore_logger("gunicorn.access")
    ignore_logger_for_sentry_logs("gunicorn.access")
    # Django logs every request with a Host outside ALLOWED_HOSTS at ERROR:
    # anyone could spend the Sentry quota with a bad Host header, and the
    # 400 it gets is the whole story.
    ignore_logger("django.security.DisallowedHost")


def pool_submit(pool):
    """`pool.submit`, without Sentry's wrapper when the wrapper would do
    nothing: it exists to hand a task copies of its submitter's scopes,
    which `init` turns off, and still costs a gthread worker, which submits
    every request, about 1 % of its CPU. With scopes handed on (another
    configuration, or Sentry started by someone else) the wrapper stays."""
    integration = sentry_sdk.get_client().get_integration(ThreadingIntegration)
    if integration is not None and integration.propagate_scope:
        return pool.submit
    return inspect.unwrap(type(pool).submit).__get__(pool)


def sampler(rate):
    """Sample requests at `rate`, never the health probes; follow an upstream decision."""
    def decide(context):
        environ = context.get("wsgi_environ") or {}
        if environ.get("PATH_INFO") in UNTRACED_PATHS:
            return 0.0
        parent = context.get("parent_sampled")
        return float(parent) if parent is not None else rate

    return decide
