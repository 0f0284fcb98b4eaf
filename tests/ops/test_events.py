"""Operational signals as Sentry events: a replica leaving or rejoining
rotation, the Redis breaker opening or closing, writes refused while the
primary is down. One event per state change, not per request or per process."""
from urllib.parse import urlencode

import pytest
from django.db import connections
from django.test import override_settings

from blog.models import Comment
from cache import redis_guard
from cache import redis_state_changed as breaker_state_changed
from ops import events
from ops.state_changes import StateChangeReporter
from routing import health
from routing.health import server_state_changed
from tests.fixtures.html_forms import comment_form
from tests.fixtures import cluster
from tests.fixtures.factories import PostFactory
from tests.fixtures.wsgi import request
from tests.ops.conftest import shared_state_keys, stopped, wait_in_rotation

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


class SignalRecorder:
    """The changes a signal announced during the block (what the events must match)."""

    def __init__(self, signal, describe):
        self.signal, self.describe, self.seen = signal, describe, []

    def __enter__(self):
        self.signal.connect(self.record)
        return self

    def record(self, sender, **kwargs):
        self.seen.append(self.describe(kwargs))

    def __exit__(self, *exc_info):
        self.signal.disconnect(self.record)


def replica2_state(change):
    if change["alias"] != "replica2":
        return None
    return "in-rotation" if change["in_rotation"] else ("lagging" if change["up"] else "down")


def states(ops_events):
    return [event["tags"]["ops.state"] for event in ops_events]


def read_many(app, times=20):
    for _ in range(times):
        assert request(app, "/ops-probe/read/").status == 200


def test_a_replica_stopped_then_started_is_one_event_per_change(app, sentry, monitor, redis_client):
    """Check that with a replica stopped under many requests, ops get one "down" event,
    and one "back in rotation" event when it returns: one per state change."""
    with SignalRecorder(server_state_changed, replica2_state) as changes:
        with stopped("replica2"):
            read_many(app)
            wait_in_rotation(monitor, "replica2", False)
            read_many(app)
        wait_in_rotation(monitor, "replica2", True)
        read_many(app)
    seen = [state for state in changes.seen if state]
    assert seen[0] == "down" and seen[-1] == "in-rotation"
    reported = sentry.ops_events("replica:replica2")
    assert states(reported) == seen
    down = reported[0]
    assert down["level"] == "warning" and down["tags"]["db.alias"] == "replica2"
    assert down["message"].startswith("Replica replica2 is down and out of rotation")
    assert down["fingerprint"] == ["ops", "replica:replica2", "down"]
    assert reported[-1]["message"] == "Replica replica2 is back in rotation: it serves reads again."
    assert "ops:state:replica:replica2" in shared_state_keys(redis_client)


def test_redis_stopped_then_started_is_one_event_per_breaker_change(app, sentry):
    """Check that a Redis outage under many requests is one "unreachable" event and one
    "back" event, whatever the number of requests that skipped the cache meanwhile."""
    request(app, "/ops-probe/cached/")
    with SignalRecorder(breaker_state_changed, lambda change: change["state"]) as changes:
        with stopped("redis"):
            for _ in range(30):
                assert request(app, "/ops-probe/cached/").status == 200
        cluster.wait_until(lambda: request(app, "/ops-probe/cached/").status == 200
                           and not redis_guard().is_open, timeout=15, message="the breaker to close")
        for _ in range(10):
            request(app, "/ops-probe/cached/")
    assert changes.seen == ["open", "closed"]
    reported = sentry.ops_events("redis")
    assert states(reported) == ["open", "closed"]
    opened, closed = reported
    assert opened["level"] == "error" and opened["message"].startswith("Redis is unreachable")
    assert opened["tags"]["ops.deduplicated"] == "per-process"  # Redis cannot dedupe its own outage
    assert closed["level"] == "info" and closed["tags"]["ops.deduplicated"] == "redis"


def send_comment(app, post, action, fields, number):
    """A reader's comment, as the form on the post page sends it."""
    filled = {**fields, "name": f"Reader{number}", "body": "While you were out", "email": f"r{number}@example.com"}
    return request(app, action, method="POST", data=urlencode(filled).encode(), headers={
        "Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1",
        "Referer": f"http://127.0.0.1/posts/{post.slug}/"})


def assert_read_only(response):
    assert response.status == 503 and "While you were out" in response.text


def test_writes_refused_while_the_primary_is_down_are_one_event(app, sentry):
    """Check that with the primary stopped, several readers' comments get the read-only
    503 and ops get one "writes refused" event (and one "primary down" event), not one each."""
    post = PostFactory()
    cluster.wait_all_replayed()
    action, fields = comment_form(request(app, f"/posts/{post.slug}/").text)
    try:
        with stopped("primary"):
            for number in range(3):
                assert_read_only(send_comment(app, post, action, fields, number))
    finally:
        connections.close_all()
    cluster.wait_until(lambda: health.monitor().primary.up, 30, message="the primary to be seen up")
    assert not Comment.objects.exists()
    [refusal] = sentry.ops_events("writes")
    assert refusal["level"] == "error"
    assert refusal["message"].startswith(f"Writes refused: the primary database is down, so POST {action}")
    # Under Patroni a restarted leader is promoted again, on a new timeline.
    assert states(sentry.ops_events("primary")) in (["down", "up"], ["down", "promoted", "up"])
    assert "example.com" not in sentry.raw()


def test_several_processes_seeing_one_change_send_one_event(sentry, redis_client):
    """Check the cross-process rule: the first worker to see a change reports it, the
    others (and a worker started during the outage) keep quiet; the next outage is new."""
    first, second, late = StateChangeReporter(), StateChangeReporter(), StateChangeReporter()
    down = events.server_change("replica1", up=False, in_rotation=False, reason="unreachable")
    back = events.server_change("replica1", up=True, in_rotation=True, reason="healthy")
    assert first.report(down) is True
    assert second.report(down) is False
    assert late.report(down) is False
    assert second.report(back) is True
    assert first.report(back) is False and late.report(back) is False
    assert first.report(down) is True and second.report(down) is False
    assert states(sentry.ops_events("replica:replica1")) == ["down", "in-rotation", "down"]


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_without_redis_each_process_reports_its_own_changes_once(sentry):
    """Check the fallback when Redis cannot answer: each process reports a change once
    (per process, never per request or per repeated signal)."""
    first, second = StateChangeReporter(), StateChangeReporter()
    down = events.server_change("replica1", up=False, in_rotation=False, reason="unreachable")
    assert first.report(down) is True and first.report(down) is False
    assert second.report(down) is True
    reported = sentry.ops_events("replica:replica1")
    assert len(reported) == 2 and {e["tags"]["ops.deduplicated"] for e in reported} == {"per-process"}


def test_lagging_and_primary_messages_say_what_happens_to_readers_and_writers():
    """Check the wording an on-call person reads for the other changes."""
    lagging = events.server_change("replica1", up=True, in_rotation=False, reason="lagging 12.0s / 10 bytes")
    assert lagging.state == "lagging" and "left rotation: lagging 12.0s" in lagging.message
    assert "until it catches up" in lagging.message
    down = events.server_change("default", up=False, in_rotation=False, reason="unreachable: refused")
    assert down.subject == "primary" and "read-only" in down.message and down.level == "error"
    assert events.server_change("default", up=True, in_rotation=True, reason="").message == (
        "Primary database is back: writes are accepted again.")
