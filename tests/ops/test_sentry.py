"""Sentry from the environment, with each request's context on its events and
transaction, and no reader's email or address in anything it sends."""
import inspect

import pytest
import sentry_sdk
from sentry_sdk.scope import should_send_default_pii

from cache import stats
from ops import scrub
from ops import sentry as ops_sentry
from tests.fixtures import cluster
from tests.fixtures.wsgi import request
from tests.ops.sentry_capture import FAKE_DSN, CapturedSentry, CapturingTransport, start_capturing, stop_capturing

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

PERSONAL = ("reader@example.com", "ada@example.org", "203.0.113.7", "198.51.100.23", "2001:db8::7")


def boom(app, **kwargs):
    return request(app, "/ops-probe/boom/", method="POST", data=b"email=ada%40example.org&name=Ada",
                   headers={"Content-Type": "application/x-www-form-urlencoded",
                            "X-Forwarded-For": "198.51.100.23", **kwargs.pop("headers", {})}, **kwargs)


def test_an_unhandled_error_is_one_event_with_the_request_context(app, sentry):
    """Check that a view's unhandled error becomes exactly one event, tagged with the
    X-Request-ID of the response, the cache outcome and where the request read."""
    response = boom(app)
    assert response.status == 500
    [event] = sentry.events
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    tags = event["tags"]
    assert tags["request_id"] == response.headers["X-Request-ID"]
    assert tags["cache"] == response.headers["X-Cache"] == "BYPASS"
    assert tags["db.alias"] == "default" and tags["db.why"] == "write-request" and tags["db.pinned"] == "no"
    assert tags["replica.lag_seconds"] == "0.0"
    assert event["contexts"]["routing"]["alias"] == "default"
    assert event["release"] == "test-release" and event["environment"] == "test"


def test_requests_served_by_one_pool_thread_keep_their_own_context(app, sentry):
    """Check the gthread worker's case: requests handed one after the other
    to the same pool thread (which no longer gets a copy of the submitter's
    scopes) each report their own request id, and only their own."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(boom, app, headers={"X-Request-ID": "first-request-0001"}).result()
        second = pool.submit(boom, app, headers={"X-Request-ID": "second-request-02"}).result()
    assert (first.status, second.status) == (500, 500)
    assert [event["tags"]["request_id"] for event in sentry.events] == ["first-request-0001", "second-request-02"]


def test_a_pool_task_is_not_given_a_copy_of_its_submitters_scopes(sentry):
    """Check what a gthread worker pays per request: submitting a task to a
    thread pool forks no scope (the task runs in its thread's own)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        scopes = [pool.submit(sentry_sdk.get_current_scope).result() for _ in range(2)]
    assert scopes[0] is scopes[1]


def functions_run_under():
    return [frame.f_code.co_qualname for frame, *_ in inspect.stack(context=0)]


def test_a_gthread_pool_submits_past_sentrys_wrapper_only_while_it_would_do_nothing(sentry):
    """Check `pool_submit` (what a gthread worker submits each request with):
    with the site's Sentry it skips the wrapper, whose only work would be to
    hand scopes on; with scopes handed on, the wrapper stays and does that."""
    from concurrent.futures import ThreadPoolExecutor

    from sentry_sdk.integrations.threading import ThreadingIntegration

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert not any("sentry_submit" in name for name in ops_sentry.pool_submit(pool)(functions_run_under).result())
        transport = CapturingTransport()
        sentry_sdk.init(dsn=FAKE_DSN, transport=transport, integrations=[ThreadingIntegration(propagate_scope=True)])
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("handed", "on")
            names = ops_sentry.pool_submit(pool)(functions_run_under).result()
            ops_sentry.pool_submit(pool)(sentry_sdk.capture_message, "from the task").result()
    assert any("sentry_submit" in name for name in names)
    [event] = CapturedSentry(transport).events
    assert event["tags"]["handed"] == "on"


@pytest.mark.parametrize("rate, recorded", [(0.0, False), (1.0, True)])
def test_redis_commands_reach_sentry_only_while_requests_are_traced(redis_client, rate, recorded):
    """Check that Redis commands are recorded (breadcrumbs, spans in a trace)
    only with tracing on: with it off they would only cost every command
    about 110 µs of CPU (docs/performance.md)."""
    captured = start_capturing(traces_sample_rate=rate)
    try:
        redis_client.get("a-redis-command-marker")
        sentry_sdk.capture_message("after a Redis command")
        sentry_sdk.flush()
    finally:
        stop_capturing()
    assert ("a-redis-command-marker" in captured.raw()) is recorded


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the error is the point
def test_an_uncaught_error_in_a_thread_is_still_reported(sentry):
    import threading

    def fail():
        raise RuntimeError("a poller's uncaught error")

    thread = threading.Thread(target=fail)
    thread.start()
    thread.join()
    sentry_sdk.flush()
    assert any(event["exception"]["values"][-1]["value"] == "a poller's uncaught error" for event in sentry.events)


def test_a_read_from_a_replica_is_tagged_with_it_and_its_lag(app, sentry):
    """Check that a GET's event names the replica it read from, unpinned, and the lag seen."""
    cluster.wait_all_replayed()
    response = request(app, "/ops-probe/boom/")
    assert response.status == 500
    [event] = sentry.events
    assert event["tags"]["db.alias"] in ("replica1", "replica2")
    assert event["tags"]["db.why"] == "replica" and event["tags"]["db.pinned"] == "no"
    assert float(event["tags"]["replica.lag_seconds"]) >= 0
    assert "lag_bytes" in event["contexts"]["routing"]


def test_a_pinned_session_is_tagged_as_pinned(app, sentry):
    """Check that after a write, the session's events say it is pinned (read-your-writes)."""
    written = request(app, "/ops-probe/write/", method="POST", data=b"name=pinned-writer",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert written.status == 201 and "pin" in written.cookies
    request(app, "/ops-probe/boom/", cookies={"pin": written.cookies["pin"].value})
    event = sentry.events[-1]
    assert event["tags"]["db.pinned"] == "yes"
    assert event["contexts"]["routing"]["pinned"] is True


def test_no_email_or_ip_address_leaves_in_events_or_breadcrumbs(app, sentry):
    """Check that emails and IP addresses (form data, locals, headers, log lines) never reach Sentry."""
    boom(app, headers={"X-Real-IP": "2001:db8::7"})
    assert len(sentry.events) == 1
    sent = sentry.raw()
    assert "could not thank" in sent  # the exception is there, its personal parts are not
    for value in PERSONAL:
        assert value not in sent, value
    assert "[email]" in sent and "[ip]" in sent
    assert "thanking [email] at [ip]" in sent  # the log line's breadcrumb, scrubbed
    assert not should_send_default_pii()


def test_a_traced_request_carries_the_context_and_the_alias_on_its_sql_spans(app, sentry):
    """Check that a request's transaction has the request's tags, and that every SQL span
    names the database alias it ran on (the SDK alone does not)."""
    cluster.wait_all_replayed()
    response = request(app, "/ops-probe/three-queries/")
    [transaction] = sentry.transactions
    assert transaction["transaction"] == "/ops-probe/three-queries/"
    assert transaction["tags"]["request_id"] == response.headers["X-Request-ID"]
    alias = transaction["tags"]["db.alias"]
    sql_spans = [span for span in transaction["spans"] if span["op"] == "db" and span["description"] != "connect"]
    assert len(sql_spans) >= 3
    assert {span["data"]["db.alias"] for span in sql_spans} == {alias}


def test_cache_hits_from_the_fast_path_are_counted_not_traced(app, sentry):
    """Check that a page served by the cache's fast path starts no transaction
    (it never enters Django, which the SDK hooks), while the miss that filled it did."""
    first = request(app, "/ops-probe/cached/")
    assert first.headers["X-Cache"] == "MISS"
    hits_before = stats.totals()["hit"]
    for _ in range(5):
        assert request(app, "/ops-probe/cached/").headers["X-Cache"] == "HIT"
    assert stats.totals()["hit"] == hits_before + 5  # counted, exactly
    assert [t["transaction"] for t in sentry.transactions] == ["/ops-probe/cached/"]
    assert sentry.transactions[0]["tags"]["cache"] == "MISS"


def test_health_probes_are_never_traced(app, sentry):
    """Check that /healthz and /readyz, called constantly by load balancers, start no sampled transaction."""
    for path in ("/healthz", "/readyz"):
        assert request(app, path).status == 200
    assert sentry.transactions == []


def test_sentry_is_off_without_a_dsn(monkeypatch):
    """Check that with no SENTRY_DSN nothing is initialised, and that the rate is validated."""
    monkeypatch.delenv("SENTRY_DSN", raising=False)
    assert ops_sentry.init_from_environment(release="x") is False
    assert not sentry_sdk.get_client().is_active()
    assert ops_sentry.traces_sample_rate_from("0.25") == 0.25
    for wrong in ("lots", "1.5"):
        with pytest.raises(Exception, match="SENTRY_TRACES_SAMPLE_RATE"):
            ops_sentry.traces_sample_rate_from(wrong)


@pytest.mark.parametrize("text, expected", [
    ("mail ada.l@example.co.uk now", "mail [email] now"),
    ("from 192.0.2.1:5432 and fe80::1 and 2001:db8:0:0:0:0:0:1", "from [ip]:5432 and [ip] and [ip]"),
    ("postgres://blog:hunter2@db/blog", "postgres://blog:[Filtered]@db/blog"),
    ("password=hunter2 token: abc123", "password=[Filtered] token: [Filtered]"),
    ("at 07:15:00, version 5.2.19, lsn 16/B374D848", "at 07:15:00, version 5.2.19, lsn 16/B374D848"),
])
def test_scrubbing_masks_personal_data_and_secrets_and_nothing_else(text, expected):
    """Check what the scrubber masks in free text, and that times, versions and LSNs survive."""
    assert scrub.scrub_text(text) == expected


def test_scrubbing_masks_values_under_telling_keys():
    """Check that values under secret, email and address keys are masked whatever they look like."""
    event = {"extra": {"SECRET_KEY": "x", "form_token": "t", "email": "not-an-address", "ip_address": "?",
                       "db.pinned": "yes", "bypass": 3}, "modules": {"odd": "1.2.3.4"}}
    scrub.scrub_event(event, {})
    assert event["extra"] == {"SECRET_KEY": "[Filtered]", "form_token": "[Filtered]", "email": "[email]",
                              "ip_address": "[ip]", "db.pinned": "yes", "bypass": 3}
    assert event["modules"] == {"odd": "1.2.3.4"}


def test_access_log_lines_never_become_breadcrumbs(app, sentry):
    """Check that gunicorn's one access-log line per request stays out of Sentry
    (noise in every event, and a cost on the cache's hit path), while other log lines stay in."""
    import logging

    access, blog = logging.getLogger("gunicorn.access"), logging.getLogger("blog")
    levels = access.level, blog.level
    access.setLevel(logging.INFO)  # as gunicorn sets it
    blog.setLevel(logging.INFO)
    try:
        access.info('127.0.0.1 "GET /access-line-marker/ HTTP/1.1" 200')
        blog.info("a blog line marker")
    finally:
        access.setLevel(levels[0])
        blog.setLevel(levels[1])
    sentry_sdk.capture_message("after the log lines")
    sentry_sdk.flush()
    sent = sentry.raw()
    assert "a blog line marker" in sent
    assert "access-line-marker" not in sent
