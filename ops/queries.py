"""Every query measured, on every connection (an execute wrapper installed as
each connection is created, as routing/writes.py does):

- its time and count go to the request's totals (Server-Timing's `db`);
- its Sentry span gets the database alias (`db.alias`), which the SDK's
  span does not carry (it names the database, and all ours share one name);
- a query slower than SLOW_QUERY_MS becomes a Sentry event, grouped by its
  normalised SQL (literals and IN-lists folded), tagged with the alias. One
  event per statement shape per process per minute at most: under load a
  slow statement runs thousands of times, and one issue with a count says it.
"""
import re
import threading
import time

import sentry_sdk

from . import conf, request_context

REPORT_EVERY_SECONDS = 60.0
MAX_SQL_LENGTH = 2000

STRING_LITERAL = re.compile(r"'(?:[^']|'')*'")
NUMBER = re.compile(r"(?<![\w$.])-?\d+(?:\.\d+)?\b")
PLACEHOLDER = re.compile(r"%s|%\(\w+\)s")
VALUE_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
WHITESPACE = re.compile(r"\s+")


def normalise_sql(sql):
    """The statement's shape: `WHERE id IN (%s, %s)` and `WHERE id IN (7)` both
    become `WHERE id IN (?)`, so one slow statement is one Sentry issue."""
    text = sql if isinstance(sql, str) else str(sql)
    text = STRING_LITERAL.sub("?", text)
    text = PLACEHOLDER.sub("?", text)
    text = NUMBER.sub("?", text)
    text = VALUE_LIST.sub("(?)", text)
    return WHITESPACE.sub(" ", text).strip()[:MAX_SQL_LENGTH]


def measure_query(execute, sql, params, many, context):
    """The execute wrapper: time the statement, then account for it."""
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        elapsed_ms = (time.perf_counter() - started) * 1000
        alias = context["connection"].alias
        observation = request_context.current()
        if observation is not None:
            observation.saw_query(alias, elapsed_ms)
        label_span(alias)
        if elapsed_ms >= conf.slow_query_ms():
            report_slow_query(sql, alias, elapsed_ms)


def label_span(alias):
    """Put the alias on the SDK's SQL span (open around this statement)."""
    span = sentry_sdk.get_current_span()
    if span is not None and getattr(span, "op", None) == "db":
        span.set_data("db.alias", alias)
        span.set_tag("db.alias", alias)


class SlowQueryThrottle:
    """At most one report per statement shape per REPORT_EVERY_SECONDS in
    this process; the next report says how many were held back."""

    MAX_SHAPES = 1000

    def __init__(self):
        self._last = {}
        self._lock = threading.Lock()

    def admit(self, shape):
        """(admitted, how many were held back since the last report)."""
        now = time.monotonic()
        with self._lock:
            last_at, held = self._last.get(shape, (None, 0))
            if last_at is not None and now - last_at < REPORT_EVERY_SECONDS:
                self._last[shape] = (last_at, held + 1)
                return False, held + 1
            if len(self._last) >= self.MAX_SHAPES:
                self._last.clear()
            self._last[shape] = (now, 0)
            return True, held

    def reset(self):
        with self._lock:
            self._last.clear()


throttle = SlowQueryThrottle()


def report_slow_query(sql, alias, elapsed_ms):
    if not sentry_sdk.get_client().is_active():
        return
    shape = normalise_sql(sql)
    admitted, held_back = throttle.admit(shape)
    if not admitted:
        return
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = ["slow-query", shape]
        scope.set_tag("db.alias", alias)
        scope.set_tag("slow_query", "yes")
        scope.set_context("slow_query", {
            "sql": shape, "alias": alias, "duration_ms": round(elapsed_ms, 1),
            "threshold_ms": conf.slow_query_ms(), "held_back_since_last_report": held_back,
        })
        sentry_sdk.capture_message(f"Slow query on {alias} ({elapsed_ms:.0f} ms): {shape[:120]}",
                                   level="warning")


def install(sender, connection, **kwargs):
    """connection_created receiver: measure this connection's statements."""
    if measure_query not in connection.execute_wrappers:
        connection.execute_wrappers.append(measure_query)
