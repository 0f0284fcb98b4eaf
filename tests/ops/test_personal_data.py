"""Commenters' names and words, and anyone's password, never reach Sentry or
an error page: a comment whose INSERT fails (PostgreSQL puts the failing row
in its error) is driven through the WSGI application with the real
sentry_sdk; the read-only page echoes the reader's words, never a secret."""
from contextlib import contextmanager
from urllib.parse import urlencode

import pytest
import sentry_sdk
from django.contrib.auth.hashers import make_password
from django.db import connections
from django.test import Client

from ops import sentry as ops_sentry
from routing import health
from tests.fixtures.html_forms import comment_form
from tests.fixtures import cluster
from tests.fixtures.factories import PostFactory, UserFactory
from tests.fixtures.wsgi import request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

NAME, BODY, EMAIL = "Philippa Quartermain", "my grandmother's recipe for quince jelly", "pq@example.org"


@contextmanager
def comments_refused_by_the_database():
    """Every new comment row violates a CHECK constraint, as a bug in a
    migration might make it: PostgreSQL's error then holds the failing row."""
    cluster.query("default", "ALTER TABLE blog_comment ADD CONSTRAINT refuse_all CHECK (false) NOT VALID")
    try:
        yield
    finally:
        cluster.query("default", "ALTER TABLE blog_comment DROP CONSTRAINT refuse_all")


def comment_that_fails(app):
    """POST a comment (name, email, body) that the database refuses: a 500."""
    post = PostFactory()
    action, fields = comment_form(request(app, f"/posts/{post.slug}/").text)
    fields.update(name=NAME, body=BODY, email=EMAIL)
    with comments_refused_by_the_database():
        response = request(app, action, method="POST", data=urlencode(fields).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1",
            "Referer": f"http://127.0.0.1/posts/{post.slug}/"})
    assert response.status == 500
    sentry_sdk.flush()
    return response


@pytest.fixture
def sentry_with_local_variables(redis_client, monkeypatch):
    """Sentry as the site configures it, except for the SDK's default of
    sending every frame's local variables."""
    from tests.ops.sentry_capture import start_capturing, stop_capturing

    real_init = sentry_sdk.init
    monkeypatch.setattr(ops_sentry.sentry_sdk, "init",
                        lambda *args, **options: real_init(*args, **{**options, "include_local_variables": True}))
    captured = start_capturing()
    yield captured
    stop_capturing()


def test_with_frame_locals_a_commenters_words_reach_sentry(app, sentry_with_local_variables):
    """Check the hazard: with the SDK's default (locals on), the commenter's
    name and words are in the event, in the frames of the comment's save."""
    comment_that_fails(app)
    sent = sentry_with_local_variables.raw()
    assert BODY in sent and NAME in sent


def test_a_failed_comment_sends_its_error_but_not_the_commenters_data(app, sentry):
    """Check that the failing INSERT is one Sentry event with its exception and
    where it happened, and that neither the commenter's name, words nor email
    are in anything sent (frames, the database error's failing row, breadcrumbs,
    the transaction), nor in the 500 page."""
    response = comment_that_fails(app)
    [event] = sentry.events
    [exception] = [value for value in event["exception"]["values"] if value["type"] == "IntegrityError"]
    assert 'violates check constraint "refuse_all"' in exception["value"]
    assert any(frame["function"] == "add_comment" for frame in exception["stacktrace"]["frames"])
    assert all("vars" not in frame for frame in exception["stacktrace"]["frames"])
    sent = sentry.raw()
    for personal in (NAME, "Philippa", BODY, "quince", EMAIL):
        assert personal not in sent, personal
        assert personal not in response.text, personal


# --- the read-only page -----------------------------------------------------

@contextmanager
def primary_stopped():
    cluster.wait_all_replayed()
    cluster.stack_tool("stop", "primary")
    try:
        yield
    finally:
        cluster.stack_tool("start", "primary")
        connections.close_all()
        health.reset()


def test_the_read_only_page_keeps_the_writers_words_and_never_a_secret(replicated_db):
    """Check that while the primary is down, the 503 page hands back an
    editor's post text but not a login's password (nor its username, a CSRF
    token or any other field it was not told is the writer's own words)."""
    editor = UserFactory(username="night-editor", is_staff=True, is_superuser=True,
                         password=make_password("correct horse battery staple"))
    editing = Client()
    editing.force_login(editor)
    logging_in = Client()
    with primary_stopped():
        login = logging_in.post("/admin/login/", {
            "username": "night-editor", "password": "correct horse battery staple",
            "csrfmiddlewaretoken": "a-csrf-token-value", "next": "/admin/"})
        post_form = editing.post("/admin/blog/post/add/", {
            "title": "On replicas", "slug": "on-replicas", "excerpt": "Why they lag.",
            "body": "Replicas lag because replay is serial.", "status": "draft",
            "author": str(editor.pk), "api_token": "tok_live_51Hh"})
    assert login.status_code == 503 and b"read-only" in login.content
    for secret in (b"correct horse battery staple", b"a-csrf-token-value", b"night-editor"):
        assert secret not in login.content, secret
    assert post_form.status_code == 503
    for words in (b"On replicas", b"Why they lag.", b"Replicas lag because replay is serial."):
        assert words in post_form.content, words
    assert b"tok_live_51Hh" not in post_form.content


def test_a_database_errors_detail_is_masked_to_its_end():
    """Check that the row PostgreSQL quotes in DETAIL is masked, even when a
    value in it spans lines, and that the message before it is kept."""
    from ops.scrub import scrub_text

    error = ('new row for relation "blog_comment" violates check constraint "refuse_all"\n'
             "DETAIL:  Failing row contains (7, Philippa, first line\nsecond line of her comment, visible).\n")
    assert scrub_text(error) == ('new row for relation "blog_comment" violates check constraint "refuse_all"\n'
                                 "DETAIL: [Filtered]")
