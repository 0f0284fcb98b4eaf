"""/healthz and /readyz (SPEC): cheap, never cached, never a 500; readiness
is "ok", "degraded" (200) with a server out, "down" (503) when no read can be served."""
import json

import pytest
from django.conf import settings
from django.db import connections
from django.test.utils import CaptureQueriesContext

from cache import redis_guard
from routing import health
from tests.fixtures import cluster
from tests.fixtures.wsgi import request
from tests.ops.conftest import stopped, wait_in_rotation

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def readiness(app):
    response = request(app, "/readyz")
    return response.status, json.loads(response.text), response


def no_queries_during(action):
    """Run `action`; the number of statements it sent through Django, on every alias."""
    captures = [CaptureQueriesContext(connections[alias]) for alias in connections]
    for capture in captures:
        capture.__enter__()
    try:
        action()
    finally:
        for capture in captures:
            capture.__exit__(None, None, None)
    return sum(len(capture.captured_queries) for capture in captures)


def test_healthz_answers_without_touching_a_database(app):
    """Check that /healthz is 200, plain text, not cached, and runs no query."""
    responses = []
    assert no_queries_during(lambda: responses.append(request(app, "/healthz"))) == 0
    [response] = responses
    assert response.status == 200 and response.text == "ok\n"
    assert "no-cache" in response.headers["Cache-Control"]


def test_readyz_reports_every_server_redis_and_the_cache_counters(app):
    """Check the SPEC shape of /readyz on a healthy stack, and that it asks no database."""
    request(app, "/ops-probe/cached/")
    request(app, "/ops-probe/cached/")
    found = []
    assert no_queries_during(lambda: found.append(readiness(app))) == 0
    [(status, body, response)] = found
    assert status == 200 and body["status"] == "ok"
    assert set(body) == {"status", "version", "primary", "replicas", "redis", "cache"}
    assert body["version"] == settings.APP_VERSION
    primary_port = settings.DATABASES["replica3"]["PORT"]  # the member that leads after a fresh start
    assert body["primary"] == {"up": True, "member": f"127.0.0.1:{primary_port}",
                               "timeline": body["primary"]["timeline"]} and body["primary"]["timeline"] >= 1
    assert [replica["alias"] for replica in body["replicas"]] == ["replica1", "replica2", "replica3"]
    for replica in body["replicas"]:
        assert set(replica) == {"alias", "up", "in_rotation", "role", "timeline", "lag_seconds", "lag_bytes"}
        assert replica["up"] is True
    roles = {replica["alias"]: (replica["role"], replica["in_rotation"]) for replica in body["replicas"]}
    assert roles == {"replica1": ("standby", True), "replica2": ("standby", True), "replica3": ("primary", False)}
    assert body["redis"] == {"up": True}
    assert set(body["cache"]) == {"hit", "stale", "miss", "bypass"} and body["cache"]["hit"] >= 1
    assert "no-cache" in response.headers["Cache-Control"]
    assert response.headers["X-Cache"] == "BYPASS"


def test_readyz_is_degraded_but_200_with_a_replica_stopped(app, monitor):
    """Check that a replica out of rotation makes readiness "degraded", still 200."""
    with stopped("replica2"):
        wait_in_rotation(monitor, "replica2", False)
        status, body, _ = readiness(app)
    assert status == 200 and body["status"] == "degraded"
    replica2 = next(r for r in body["replicas"] if r["alias"] == "replica2")
    assert replica2["up"] is False and replica2["in_rotation"] is False
    wait_in_rotation(monitor, "replica2", True)


def test_readyz_is_degraded_but_200_with_redis_stopped(app):
    """Check that with Redis down readiness says so ("degraded", redis up: false), still 200."""
    with stopped("redis"):
        status, body, _ = readiness(app)
    assert status == 200 and body["status"] == "degraded" and body["redis"] == {"up": False}
    assert body["cache"] == {"hit": 0, "stale": 0, "miss": 0, "bypass": 0}
    cluster.wait_until(lambda: readiness(app)[1]["redis"]["up"] and not redis_guard().is_open,
                       timeout=15, message="Redis to be seen again")


def test_readyz_is_down_and_503_when_no_server_can_serve_a_read(app, monitor):
    """Check that with the primary and both replicas stopped /readyz answers 503 "down"."""
    try:
        with stopped("replica1", "replica2", "primary"):
            cluster.wait_until(lambda: not monitor.primary.up and not any(s.up for s in monitor.replicas.values()),
                               timeout=30, message="every server to be seen down")
            status, body, _ = readiness(app)
    finally:
        connections.close_all()
    assert status == 503 and body["status"] == "down" and body["primary"]["up"] is False
    cluster.wait_until(lambda: monitor.primary.up, 30, message="the primary to be seen up")
    wait_in_rotation(monitor, "replica1", True)
    wait_in_rotation(monitor, "replica2", True)


def test_readyz_answers_503_not_500_when_readiness_cannot_be_determined(app, monkeypatch):
    """Check that a failure inside the readiness check is a 503 "down", never a 500."""
    def broken():
        raise RuntimeError("monitor exploded")

    monkeypatch.setattr(health, "monitor", broken)
    status, body, _ = readiness(app)
    assert status == 503 and body["status"] == "down"
