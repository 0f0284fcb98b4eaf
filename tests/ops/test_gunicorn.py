"""End to end: the real gunicorn (two workers, the production settings plus a
probe URLconf) with SENTRY_DSN pointing at a tiny local endpoint that receives
envelopes over HTTP, as sentry.io would."""
import json
import urllib.error
import urllib.request

import pytest
import redis
from django.conf import settings

from tests.fixtures import cluster
from tests.fixtures.server import run_gunicorn
from tests.ops.conftest import stopped
from tests.fixtures.sentry_endpoint import SentryEndpoint

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture
def sentry_endpoint():
    with SentryEndpoint() as receiver:
        yield receiver


def serve(receiver):
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    return run_gunicorn(workers=2, env={
        "DJANGO_SETTINGS_MODULE": "tests.ops.gunicorn_settings", "SENTRY_DSN": receiver.dsn,
        "SENTRY_ENVIRONMENT": "e2e", "SENTRY_TRACES_SAMPLE_RATE": "1.0",
    })


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def test_a_gthread_worker_hands_requests_to_its_threads_without_sentrys_wrapper(replicated_db, sentry_endpoint):
    """Check that with Sentry on, a request runs in the worker's thread pool
    but not under Sentry's submit wrapper, which would only cost (the site
    gives pool tasks no copy of their submitter's scopes)."""
    with serve(sentry_endpoint) as base_url:
        with urllib.request.urlopen(f"{base_url}/ops-probe/stack/", timeout=15) as response:
            functions = json.load(response)["functions"]
    assert "ThreadWorker.handle" in functions and "_worker" in functions  # a pool thread of gthread
    assert not any("sentry_submit" in name for name in functions)


def test_an_error_in_a_real_request_reaches_sentry_with_its_request_id(replicated_db, sentry_endpoint):
    """Check that a 500 under gunicorn arrives at the DSN's endpoint as one event with the
    release, the environment and the X-Request-ID that the response and the access log carry,
    with no email or IP address in it; and that its transaction arrives too."""
    with serve(sentry_endpoint) as base_url:
        status, headers = get(f"{base_url}/ops-probe/boom/")
        assert status == 500
        request_id = headers["X-Request-ID"]
        cluster.wait_until(lambda: sentry_endpoint.events and sentry_endpoint.transactions, timeout=20,
                           message="the event and the transaction to arrive")
        cluster.wait_until(lambda: f"rid={request_id}" in base_url.read_log(), timeout=10,
                           message="the request's access log line (written within 0.1 s)")
    [event] = sentry_endpoint.events
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["tags"]["request_id"] == request_id and event["tags"]["cache"] == "BYPASS"
    assert event["tags"]["db.alias"] in ("default", "replica1", "replica2")
    assert event["release"] == "test" and event["environment"] == "e2e"
    assert sentry_endpoint.transactions[0]["tags"]["request_id"] == request_id
    sent = sentry_endpoint.raw()
    assert "reader@example.com" not in sent and "203.0.113.7" not in sent and "127.0.0.1" not in sent


def test_two_workers_report_a_replica_outage_once(replicated_db, sentry_endpoint):
    """Check that when both workers' health pollers see a replica go and come back, each
    change is reported by one worker and left by the other, and Sentry gets one event
    for each change (counted after gunicorn has stopped and flushed what it had to send)."""
    with serve(sentry_endpoint) as base_url:
        with stopped("replica2"):
            wait_for_decisions(base_url, "replica:replica2 down")
        wait_for_decisions(base_url, "replica:replica2 in-rotation")
    reported = sentry_endpoint.ops_events("replica:replica2")
    assert [event["tags"]["ops.state"] for event in reported] == ["down", "in-rotation"]
    assert {event["tags"]["ops.deduplicated"] for event in reported} == {"redis"}


def wait_for_decisions(base_url, change):
    """Until both workers have decided about `change`: one reported it, one left it."""
    def decisions():
        log = base_url.read_log()
        return (log.count(f"ops: {change}: reported to Sentry (redis)"),
                log.count(f"ops: {change}: already reported by another process"))

    cluster.wait_until(lambda: sum(decisions()) >= 2, timeout=60, interval=0.1,
                       message=f"both workers to decide about {change}")
    assert decisions() == (1, 1)
