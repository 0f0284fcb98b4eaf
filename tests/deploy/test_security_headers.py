"""Security headers on every response, and a Content-Security-Policy that the
pages satisfy: no inline script anywhere; inline styles only in the admin."""
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from blog import content_security_policy as csp
from tests.deploy.gunicorn_server import get
from tests.fixtures import cluster
from tests.fixtures.cluster import REPO
from tests.fixtures.factories import PostFactory
from tests.fixtures.server import run_gunicorn

STRICT = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
          "frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def test_every_response_carries_the_security_headers(client):
    """Check nosniff, Referrer-Policy, X-Frame-Options and the strict CSP on a reader URL."""
    response = client.get("/healthz")
    assert response["Content-Security-Policy"] == STRICT
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_admin_policy_relaxes_inline_styles_only(client):
    """Check that /admin/ allows inline styles but keeps scripts to files of this site."""
    policy = client.get("/admin/login/")["Content-Security-Policy"]
    assert policy == STRICT.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    assert "script-src 'self';" in policy


def test_a_policy_a_view_set_itself_is_kept():
    """Check that the middleware does not overwrite a view's own policy."""
    own = HttpResponse(headers={"Content-Security-Policy": "default-src 'none'"})
    middleware = csp.ContentSecurityPolicyMiddleware(lambda request: own)
    assert middleware(RequestFactory().get("/"))["Content-Security-Policy"] == "default-src 'none'"


class InlineCodeFinder(HTMLParser):
    """What a page holds that `script-src 'self'` would block, and where its
    scripts, styles and images come from."""

    def __init__(self):
        super().__init__()
        self.inline_scripts, self.handlers, self.sources = [], [], []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [f"<{tag} {name}>" for name in attrs if name.startswith("on")]
        self.handlers += [f"<{tag} {k}={v}>" for k, v in attrs.items()
                          if v and v.strip().lower().startswith("javascript:")]
        if tag == "script":
            # Data blocks (json_script's application/json) are never executed.
            executable = attrs.get("type", "text/javascript") in ("text/javascript", "module", "")
            self._in_inline_script = "src" not in attrs and executable
            if attrs.get("src"):
                self.sources.append(attrs["src"])
        elif tag in ("img", "link") and (attrs.get("src") or attrs.get("href")):
            self.sources.append(attrs.get("src") or attrs.get("href"))

    def handle_endtag(self, tag):
        self._in_inline_script = False if tag == "script" else self._in_inline_script

    def handle_data(self, data):
        if self._in_inline_script and data.strip():
            self.inline_scripts.append(data.strip()[:80])


def admin_pages(user):
    """The admin's index, password change, each registered model's list and
    add form (where its admin offers them), and a user's change and delete pages."""
    request = RequestFactory().get("/admin/")
    request.user = user
    pages = [reverse("admin:index"), reverse("admin:password_change")]
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        offered = {"changelist": model_admin.has_view_or_change_permission(request),
                   "add": model_admin.has_add_permission(request)}
        for view in [view for view, allowed in offered.items() if allowed]:
            try:
                pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}"))
            except NoReverseMatch:  # a model admin may drop a view from its URLs
                pass
    pages += [reverse("admin:auth_user_change", args=[user.pk]),
              reverse("admin:auth_user_delete", args=[user.pk])]
    return pages


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_admin_pages_run_no_inline_script(client):
    """Check that every admin page loads under its policy: no inline script,
    no event-handler attribute, and scripts, styles and images only from this site."""
    user = get_user_model().objects.create_superuser("csp-admin", "csp@example.test", "x" * 20)
    client.force_login(user)
    cluster.wait_all_replayed()
    for page in admin_pages(user):
        response = client.get(page)
        assert response.status_code == 200, page
        found = InlineCodeFinder()
        found.feed(response.content.decode())
        assert found.inline_scripts == [], page
        assert found.handlers == [], page
        assert [s for s in found.sources if not s.startswith("/") or s.startswith("//")] == [], page


def test_project_templates_need_nothing_the_policy_forbids():
    """Check that no template of this project has an inline script, an event
    handler or javascript: URL, nor (outside admin/ overrides) inline styles."""
    problems = []
    for template in sorted(REPO.glob("*/templates/**/*.html")):
        text = template.read_text()
        relative = template.relative_to(REPO)
        finder = InlineCodeFinder()
        finder.feed(text)
        problems += [f"{relative}: inline script {s!r}" for s in finder.inline_scripts]
        problems += [f"{relative}: {h}" for h in finder.handlers]
        if relative.parts[2] != "admin":
            problems += [f"{relative}: inline style" for _ in re.finditer(r"<style\b|\sstyle\s*=", text)]
    assert problems == []


SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                    "X-Frame-Options", "Cross-Origin-Opener-Policy", "Strict-Transport-Security")


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_page_served_from_the_cache_carries_the_same_security_headers():
    """Check that a page cache HIT, answered in front of Django's middleware,
    carries the security headers the page had when it was rendered (HTTPS on,
    through a trusted proxy: HSTS included)."""
    post = PostFactory()
    cluster.wait_all_replayed()
    secure = {"X-Forwarded-Proto": "https"}
    with run_gunicorn(env={"HTTPS": "on", "COMMENT_RATE_LIMIT": "off"}) as base:
        rendered = get(f"{base}/posts/{post.slug}/", secure)
        hit = cluster.wait_until(
            lambda: (r := get(f"{base}/posts/{post.slug}/", secure))[1]["X-Cache"] == "HIT" and r,
            timeout=10, message="the page to be served from the cache")
    assert rendered[0] == hit[0] == 200
    assert rendered[1]["X-Cache"] == "MISS"
    expected = {name: rendered[1][name] for name in SECURITY_HEADERS}
    assert all(expected.values()), expected
    assert {name: hit[1][name] for name in SECURITY_HEADERS} == expected
