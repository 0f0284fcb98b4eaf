"""Every query measured: count and time in Server-Timing, slow ones as Sentry
events grouped by the statement's shape, tagged with their database alias."""
import json
import re

import pytest
from django.db import connections
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from ops.queries import normalise_sql
from tests.fixtures import cluster
from tests.fixtures.wsgi import request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

SERVER_TIMING = re.compile(r'db;dur=(?P<ms>[\d.]+);desc="(?:(?P<server>[\w-]+), )?(?P<count>\d+) queries"')


def db_timing(response):
    found = SERVER_TIMING.search(response.headers["Server-Timing"])
    assert found, response.headers["Server-Timing"]
    return int(found["count"]), float(found["ms"])


def test_server_timing_counts_every_query_of_the_request_on_every_alias(app):
    """Check that Server-Timing's db metric counts exactly the statements the request ran
    (Django's own capture, summed over the aliases), and their time."""
    cluster.wait_all_replayed()
    captures = [CaptureQueriesContext(connections[alias]) for alias in connections]
    for capture in captures:
        capture.__enter__()
    try:
        response = request(app, "/ops-probe/three-queries/")
    finally:
        for capture in captures:
            capture.__exit__(None, None, None)
    count, ms = db_timing(response)
    assert count == sum(len(capture.captured_queries) for capture in captures)
    server = SERVER_TIMING.search(response.headers["Server-Timing"])["server"]
    assert server == json.loads(response.body)["alias"]  # the server that rendered it
    assert count >= 4  # three reads and the router's snapshot position
    assert ms > 0


def test_a_request_without_queries_shows_none(app):
    """Check that a request that touches no database says so: 0 queries."""
    assert db_timing(request(app, "/healthz")) == (0, 0.0)


@override_settings(SLOW_QUERY_MS=30)
def test_a_slow_query_is_an_event_with_its_alias_grouped_by_its_shape(app, sentry):
    """Check that a statement over SLOW_QUERY_MS is reported with the alias it ran on,
    fingerprinted by its normalised SQL; quick statements are not reported."""
    cluster.wait_all_replayed()
    response = request(app, "/ops-probe/slow/?seconds=0.05")
    [event] = sentry.messages("Slow query")
    alias = json.loads(response.text)["alias"]
    assert alias in ("replica1", "replica2")
    assert event["tags"]["db.alias"] == alias
    assert event["fingerprint"] == ["slow-query", "SELECT pg_sleep(?)"]
    assert event["contexts"]["slow_query"]["duration_ms"] >= 30
    assert event["level"] == "warning"
    assert event["tags"]["request_id"] == response.headers["X-Request-ID"]
    request(app, "/ops-probe/read/")
    assert len(sentry.messages("Slow query")) == 1


@override_settings(SLOW_QUERY_MS=30)
def test_a_slow_statement_repeated_is_reported_once_a_minute_per_process(app, sentry):
    """Check that the same slow statement shape, run again and again, is one event (not a flood)."""
    for seconds in ("0.04", "0.05", "0.06"):
        request(app, f"/ops-probe/slow/?seconds={seconds}")
    assert len(sentry.messages("Slow query")) == 1


@pytest.mark.parametrize("sql, shape", [
    ("SELECT * FROM t WHERE id IN (%s, %s, %s) AND x = %s", "SELECT * FROM t WHERE id IN (?) AND x = ?"),
    ("SELECT * FROM t WHERE id IN (1, 2) AND name = 'O''Brien'", "SELECT * FROM t WHERE id IN (?) AND name = ?"),
    ("SELECT  a1,\n  b FROM t2 LIMIT 21", "SELECT a1, b FROM t2 LIMIT ?"),
    ("SELECT %(name)s::pg_lsn - '0/0'", "SELECT ?::pg_lsn - ?"),
])
def test_normalised_sql_folds_values_and_keeps_names(sql, shape):
    """Check that literals, placeholders and IN-lists fold to one shape; names stay."""
    assert normalise_sql(sql) == shape
