"""Every kind of page the site serves is valid HTML by the Nu HTML Checker
(the W3C's validator), rendered now (MISS) and served from the page cache
(HIT), through the real WSGI application. The checker starts a JVM, so the
pages are gathered first and checked in one run (tests/fixtures/nu_checker.py)."""
import gzip
import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.hashers import make_password
from django.db import connections

from blog.models import Post
from routing import health
from tests.fixtures.html_forms import FormFinder, comment_form
from tests.fixtures import cluster
from tests.fixtures.factories import AuthorFactory, CommentFactory, PostFactory, TagFactory, UserFactory
from tests.fixtures.nu_checker import check_documents, described
from tests.fixtures.wsgi import request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

RICH_BODY = """Replicas **lag**, and a cache must know by how much.

## Measuring it

| server | lag |
|---|---|
| replica1 | 0.2 s |

> A replica ten seconds behind is still a good replica for most pages.

```python
def replay_lag(connection, timeout_seconds=10.0):
    return connection.execute("SELECT now() - pg_last_xact_replay_timestamp()").scalar()  # a long line that scrolls
```

![Replication](/static/blog/demo/replication.svg)
"""
COMMENT_WITH_CODE = "Try this:\n\n```\nEXPLAIN (ANALYZE, BUFFERS) SELECT * FROM blog_post WHERE id = 1;\n```"
EDITOR_PASSWORD = "correct horse battery staple"
SAME_ORIGIN = {"Origin": "http://127.0.0.1", "Content-Type": "application/x-www-form-urlencoded"}
# The home page as it was before this check: six fractional digits in <time datetime>.
CONTROL = "control: home with microseconds in datetime"
DATETIME_ATTRIBUTE = re.compile(r'datetime="([^"]*)"')


@pytest.fixture
def app(site_app, settings):
    settings.PAGE_CACHE_404_TTL = 60  # a cached 404 is kept long enough to be hit
    return site_app


@pytest.fixture
def site_content():
    """A post of every feature (table, quote, code, image, comments with code),
    two more by the same author under the same tag; replicas caught up."""
    tag = TagFactory(name="Replication", slug="replication", description="Streaming replicas.")
    author = AuthorFactory()
    post = PostFactory(author=author, tags=[tag], title="Read replicas in practice", body=RICH_BODY)
    PostFactory.create_batch(2, author=author, tags=[tag])
    CommentFactory(post=post, body=COMMENT_WITH_CODE)
    CommentFactory(post=post)
    Post.objects.filter(pk=post.pk).update(comment_count=2)
    cluster.wait_all_replayed()
    return post


def decoded(response):
    return gzip.decompress(response.body) if response.headers.get("Content-Encoding") == "gzip" else response.body


def miss_then_hit(app, path):
    """The page rendered now, then the same request from the cache (gzip, as a browser asks)."""
    miss = request(app, path)
    hit = request(app, path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT"), path
    assert miss.status == hit.status, path
    return miss.body, decoded(hit)


def cacheable_pages(post):
    published = post.published_at
    return {
        "home": "/",
        "post with comments": post.get_absolute_url(),
        "tag": "/tags/replication/",
        "author": f"/authors/{post.author.username}/",
        "archive year": f"/archive/{published:%Y}/",
        "archive month": f"/archive/{published:%Y}/{published:%m}/",
        "search with results": "/search/?q=replicas",
        "search without results": "/search/?q=zebras",
        "search form": "/search/",
        "missing post (404)": "/posts/no-such-post/",
    }


def comment_refused(app, post, **fields):
    """The comment form page the comment view answers with (a refusal)."""
    action, form = comment_form(request(app, post.get_absolute_url()).text)
    return request(app, action, method="POST", headers=SAME_ORIGIN,
                    data=urlencode({**form, "name": "Ada", "body": "", **fields}).encode())


def admin_login_refused(app, editor):
    """An editor logging in while the primary is down (the login writes the
    session): routing's read-only page, the answer to any write but a comment."""
    login = request(app, "/admin/login/")
    finder = FormFinder("/admin/login/")
    finder.feed(login.text)
    fields = {**finder.fields, "username": editor.username, "password": EDITOR_PASSWORD}
    return request(app, "/admin/login/", method="POST", headers={**SAME_ORIGIN, "Referer": "http://127.0.0.1/admin/login/"},
                   cookies={"csrftoken": login.cookies["csrftoken"].value}, data=urlencode(fields).encode())


def read_only_pages(app, post):
    """The 503 pages of a write while the primary is down: a comment, and any other write."""
    editor = UserFactory(is_staff=True, password=make_password(EDITOR_PASSWORD))
    cluster.wait_all_replayed()
    cluster.query("default", "CHECKPOINT")  # a quick restart
    cluster.stack_tool("stop", "primary")
    try:
        comment = comment_refused(app, post, body="Written while the primary was away")
        admin = admin_login_refused(app, editor)
    finally:
        cluster.stack_tool("start", "primary")
        connections.close_all()
        health.reset()
    assert (comment.status, admin.status) == (503, 503), (comment.text[:300], admin.text[:300])
    return {"comment while read-only (503)": comment.body, "admin write while read-only (503)": admin.body}


def test_every_kind_of_page_is_valid_html_rendered_and_cached(app, site_content):
    """Check with the Nu HTML Checker, in one run, one page of each kind, as
    rendered (MISS) and as the cache serves it (HIT), plus the pages that are
    never cached (unknown URL, refused comment, read-only 503s): 0 errors.
    A control page with the microsecond datetimes of old must fail, proving
    the checker sees what the issue reported."""
    documents = {}
    for name, path in cacheable_pages(site_content).items():
        documents[f"{name} (MISS)"], documents[f"{name} (HIT)"] = miss_then_hit(app, path)
    unknown = request(app, "/no/such/page/")
    refused = comment_refused(app, site_content)
    assert (unknown.status, refused.status) == (404, 400)
    documents["unknown URL (404)"], documents["comment form error (400)"] = unknown.body, refused.body
    documents.update(read_only_pages(app, site_content))
    home = documents["home (MISS)"].decode()
    documents[CONTROL] = re.sub(r'(datetime="[^"]*T\d\d:\d\d:\d\d)(\.\d+)?', r"\1.442776", home).encode()

    problems = check_documents(documents)

    assert any("fraction of a second" in line for line in problems.pop(CONTROL, [])), "the checker saw nothing"
    assert problems == {}, described(problems)


def test_time_elements_carry_whole_seconds_not_microseconds(app, site_content):
    """Check that every <time datetime> (and article time) of a post page,
    rendered and cached, is ISO 8601 to the second, though the stored times
    have microseconds."""
    assert site_content.published_at.microsecond or site_content.comments.first().created_at.microsecond
    for body in miss_then_hit(app, site_content.get_absolute_url()):
        values = DATETIME_ATTRIBUTE.findall(body.decode())
        assert len(values) == 3  # the post's date and its two comments'
        for value in values:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", value), value
