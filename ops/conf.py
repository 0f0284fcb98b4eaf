"""Ops settings, read lazily so that `override_settings` works in tests.

Sentry's own settings (SENTRY_DSN, SENTRY_ENVIRONMENT,
SENTRY_TRACES_SAMPLE_RATE) are read from the environment by ops/sentry.py,
because Sentry starts while the settings module is still being imported.
"""
from django.conf import settings


def slow_query_ms():
    """A query taking at least this long becomes a Sentry event."""
    return float(getattr(settings, "SLOW_QUERY_MS", 500))


def integrity_check_minutes():
    """How often the scheduler runs check_integrity (0: never); also the
    schedule its Sentry Crons monitor expects."""
    return float(getattr(settings, "INTEGRITY_CHECK_MINUTES", 60))
