"""The readers' comment flow (SPEC: no JavaScript, from a cached page):
success, validation errors, honeypot, origin check, page token, size cap,
rate limit, moderation, and the read-only answer when the primary is down."""
import time
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.test import override_settings

from blog import comment_guard, conf
from blog.models import Comment, Post
from routing import health
from tests.fixtures.html_forms import comment_form
from tests.fixtures import cluster
from tests.fixtures.factories import PostFactory

ORIGIN = {"HTTP_ORIGIN": "http://testserver"}


def fill_form(client, post, **overrides):
    """GET the post page and fill its comment form as a reader would."""
    action, fields = comment_form(client.get(f"/posts/{post.slug}/").content.decode())
    fields.update({"name": "Ada", "email": "ada@example.com", "body": "Lovely post, thank you!", **overrides})
    return action, fields


def send(client, post, headers=ORIGIN, address="198.51.100.1", **overrides):
    action, fields = fill_form(client, post, **overrides)
    return client.post(action, fields, REMOTE_ADDR=address, **headers)


@pytest.mark.django_db
class TestCommenting:
    def test_a_comment_is_saved_counted_and_answered_with_a_303_to_it(self, client, invalidated):
        """Check that a filled form gets 303 to /posts/<slug>/#comment-<id>, the count and the page follow."""
        post = PostFactory()
        response = send(client, post)
        comment = Comment.objects.get()
        assert response.status_code == 303
        assert response["Location"] == f"/posts/{post.slug}/#comment-{comment.pk}"
        assert Post.objects.get(pk=post.pk).comment_count == 1
        assert f"post:{post.pk}" in invalidated
        page = client.get(f"/posts/{post.slug}/").content.decode()
        assert f'id="comment-{comment.pk}"' in page and "Lovely post, thank you!" in page
        assert not client.get(f"/posts/{post.slug}/").cookies  # the test client keeps Set-Cookie there

    def test_comment_markup_is_escaped_and_links_are_marked_ugc(self, client):
        """Check that a comment's HTML is shown as text and its links carry rel=nofollow ugc."""
        post = PostFactory()
        send(client, post, body="<script>alert(1)</script> see [docs](https://example.org) *now*")
        html = Comment.objects.get().body_html
        assert "<script>" not in html and "&lt;script&gt;" in html
        assert 'rel="nofollow ugc noopener noreferrer"' in html and "<em>now</em>" in html

    def test_validation_errors_reshow_the_form_with_the_input_kept(self, client):
        """Check that a missing name answers 400 with the reader's text still in the form."""
        post = PostFactory()
        response = send(client, post, name="", body="My carefully written thoughts")
        html = response.content.decode()
        assert response.status_code == 400
        assert "My carefully written thoughts" in html and 'aria-invalid="true"' in html
        assert not Comment.objects.exists()

    def test_an_overlong_comment_is_a_form_error_and_a_huge_request_a_413(self, client):
        """Check that the body length is capped (400) and oversized requests refused (413)."""
        post = PostFactory()
        assert send(client, post, body="x" * (conf.COMMENT_BODY_MAX_LENGTH + 1)).status_code == 400
        assert send(client, post, body="x" * (conf.COMMENT_MAX_REQUEST_BYTES + 10)).status_code == 413
        assert not Comment.objects.exists()

    def test_the_honeypot_field_stops_naive_bots(self, client):
        """Check that filling the hidden 'website' field saves nothing."""
        post = PostFactory()
        response = send(client, post, website="http://spam.example")
        assert response.status_code == 400
        assert not Comment.objects.exists()

    def test_a_cross_site_post_is_refused(self, client):
        """Check that a foreign Origin, or neither Origin nor Referer, is refused with 403."""
        post = PostFactory()
        assert send(client, post, headers={"HTTP_ORIGIN": "https://evil.example"}).status_code == 403
        assert send(client, post, headers={"HTTP_ORIGIN": "null"}).status_code == 403
        assert send(client, post, headers={}).status_code == 403
        assert send(client, post, headers={"HTTP_REFERER": "https://evil.example/posts/x/"}).status_code == 403
        assert not Comment.objects.exists()
        same_site_referer = {"HTTP_REFERER": f"http://testserver/posts/{post.slug}/"}
        assert send(client, post, headers=same_site_referer).status_code == 303

    def test_a_forged_or_foreign_form_token_is_refused_with_the_text_kept(self, client):
        """Check that a token that is not ours, or for another post, gets 400 and keeps the text."""
        post, other = PostFactory(), PostFactory()
        for token in ("forged", comment_guard.form_token(other.slug)):
            response = send(client, post, form_token=token, body="Words worth keeping")
            assert response.status_code == 400
            assert "This form has expired" in response.content.decode()
            assert "Words worth keeping" in response.content.decode()
        assert not Comment.objects.exists()

    def test_the_page_has_no_per_reader_token_and_no_cookie(self, client):
        """Check that two readers get byte-identical comment forms and no cookie (the page can be shared)."""
        post = PostFactory()
        first = client.get(f"/posts/{post.slug}/")
        second = client.__class__().get(f"/posts/{post.slug}/")
        assert comment_form(first.content.decode()) == comment_form(second.content.decode())
        assert not first.cookies and "csrftoken" not in first.content.decode()


class TestFormToken:
    def test_the_token_outlives_any_cached_copy_of_the_page(self, settings):
        """Check that a token stays valid past PAGE_CACHE_TTL + PAGE_CACHE_GRACE, and then expires."""
        settings.PAGE_CACHE_TTL, settings.PAGE_CACHE_GRACE = 300, 60
        issued = time.time()
        token = comment_guard.form_token("a-post", now=issued)
        assert comment_guard.token_is_valid(token, "a-post", now=issued + 2 * (300 + 60))
        assert comment_guard.token_is_valid(token, "a-post", now=issued + 86400)
        assert not comment_guard.token_is_valid(token, "a-post", now=issued + conf.comment_token_max_age() + 1)
        assert not comment_guard.token_is_valid(token, "another-post", now=issued)

    def test_the_token_is_the_same_for_everyone_within_its_window(self):
        """Check that every render within a window carries the same token (stable cached bytes)."""
        start = 1_800_000_000 // conf.COMMENT_TOKEN_WINDOW * conf.COMMENT_TOKEN_WINDOW
        assert comment_guard.form_token("p", now=start) == comment_guard.form_token("p", now=start + 3599)

    def test_rate_settings_are_parsed_or_refused(self):
        """Check that COMMENT_RATE_LIMIT accepts N/s, N/min, N/h and off, and refuses nonsense."""
        assert conf.parse_rate("5/min", "X") == conf.Rate(5, 60)
        assert conf.parse_rate("10/s", "X") == conf.Rate(10, 1)
        assert conf.parse_rate("100/h", "X") == conf.Rate(100, 3600)
        assert conf.parse_rate("off", "X") is None
        for bad in ("5", "five/min", "5/fortnight", "0/min"):
            with pytest.raises(ImproperlyConfigured):
                conf.parse_rate(bad, "X")


@pytest.mark.django_db
class TestRateLimit:
    def test_a_fast_commenter_is_slowed_down_with_the_text_kept(self, client, settings):
        """Check that past COMMENT_RATE_LIMIT an address gets 429 with Retry-After and its text back."""
        settings.COMMENT_RATE_LIMIT = "2/min"
        post = PostFactory()
        address = f"203.0.113.{int(time.time() * 1000) % 250}"
        statuses = [send(client, post, address=address).status_code for _ in range(2)]
        refused = send(client, post, address=address, body="Third thought")
        assert statuses == [303, 303] and refused.status_code == 429
        assert 1 <= int(refused["Retry-After"]) <= 60
        assert "Third thought" in refused.content.decode()
        assert send(client, post, address="192.0.2.200").status_code == 303  # others are not affected
        assert Comment.objects.count() == 3

    def test_the_rate_limit_fails_open_quickly_when_redis_is_down(self, client, settings):
        """Check that with Redis unreachable a comment is still accepted, within milliseconds of overhead."""
        settings.COMMENT_RATE_LIMIT = "1/min"
        post = PostFactory()
        action, fields = fill_form(client, post)
        unreachable = {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}
        with override_settings(CACHES={"default": unreachable}):
            started = time.monotonic()
            statuses = [client.post(action, fields, REMOTE_ADDR="192.0.2.9", **ORIGIN).status_code
                        for _ in range(2)]
            elapsed = time.monotonic() - started
        assert statuses == [303, 303]
        assert elapsed < 5  # a generous bound: a hung Redis would cost seconds per request


@pytest.mark.django_db
class TestModeration:
    @override_settings(COMMENT_MODERATION=True)
    def test_with_moderation_a_comment_is_held_and_the_reader_told(self, client, invalidated):
        """Check that under COMMENT_MODERATION a comment is held, not counted, and the notice page is private."""
        post = PostFactory()
        response = send(client, post, body="Please approve me")
        assert response.status_code == 303
        assert response["Location"] == f"/posts/{post.slug}/?comment=held#comments"
        assert Comment.objects.get().status == Comment.Status.HELD
        assert Post.objects.get(pk=post.pk).comment_count == 0
        notice = client.get(urlsplit(response["Location"]).path + "?comment=held")
        assert "awaits moderation" in notice.content.decode()
        assert "Please approve me" not in notice.content.decode()
        assert "private" in notice["Cache-Control"] and "no-store" in notice["Cache-Control"]
        assert "private" not in client.get(f"/posts/{post.slug}/").get("Cache-Control", "")


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_with_the_primary_stopped_a_comment_gets_a_503_with_the_text_kept(client):
    """Check that when the primary is down the comment POST answers 503 read-only, keeping the text."""
    post = PostFactory()
    action, fields = fill_form(client, post, body="Written while the primary was away")
    cluster.wait_all_replayed()
    cluster.stack_tool("stop", "primary")
    try:
        response = client.post(action, fields, REMOTE_ADDR="192.0.2.10", **ORIGIN)
    finally:
        cluster.stack_tool("start", "primary")
        connections.close_all()
        health.reset()
    html = response.content.decode()
    assert response.status_code == 503
    assert "read-only for a moment" in html and "Written while the primary was away" in html
    assert f'action="{action}"' in html and 'name="form_token"' in html  # the form itself, ready to resend
    assert int(response["Retry-After"]) > 0
    assert not Comment.objects.exists()
