"""Generated hostile requests through the real WSGI application: whatever
bytes arrive, the answer is never a 5xx, a cached answer never carries a
cookie or a CSRF token, and no stored entry differs from what the clean
request of its key renders."""
import pytest
from hypothesis import example, given, settings

from cache import keys
from tests.hostile.conftest import examples
from tests.hostile.raw_wsgi import RawRequest, call
from tests.hostile.strategies import comment_forms, requests

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

CACHED = ("HIT", "STALE")


def check_answer(answer, raw):
    assert answer.status < 500, (raw, answer.status, answer.body[:300])
    if answer.header("X-Cache") in CACHED:
        assert not answer.all("Set-Cookie"), raw
        assert b"csrfmiddlewaretoken" not in answer.body, raw


def check_stored_entry_matches_clean_render(app, raw):
    """If the request has a key, the entry under it (asked for cleanly) is
    what the clean request renders without the cache."""
    key = keys.page_key(raw.environ())  # a fresh environ: Django rewrites PATH_INFO in place
    if key is None:
        return
    clean = RawRequest(method="GET", path=raw.path, query=key.partition("?")[2].encode("latin-1"),
                       host=raw.host)
    assert keys.page_key(clean.environ()) == key
    cached, _ = call(app, clean)
    if cached.header("X-Cache") != "HIT":
        return
    rendered, _ = call(app.django_app, clean)
    assert (cached.status, cached.body) == (rendered.status, rendered.body), (raw, key)


KNOWN_SHAPES = [  # each once broke the trust boundary (issue: hostile readers)
    RawRequest(path=b"/authors/x%00/"),
    RawRequest(path=b"/search/", query=b"q=a%00b"),
    RawRequest(path=b"/search/", query=b"q=replica&q=%3Cb%3Eevil%3C%2Fb%3E"),
    RawRequest(path=b"/", query=b"page=2&page=3"),
    RawRequest(path=b"/tags/python/", query=b"page="),
    RawRequest(path=b"/sitemap-posts.xml", query=b"p=1&p=2"),
    RawRequest(path=b"/", headers={"Cookie": b"pin=FFFFFFFF/0"}),
    RawRequest(path=b"/", headers={"Cookie": b"pin=" + b"f" * 3700}),
    RawRequest(path=b"/", headers={"Cookie": b"sessionid=anything"}),
    RawRequest(path=b"/", query=b"page=02"),
    RawRequest(path=b"/posts/%C3%28/"),
    RawRequest(path=b"/", host=b"LOCALHOST"),
]


def check_trust_boundary(app, raw):
    answer, _ = call(app, raw)
    check_answer(answer, raw)
    if raw.method in ("GET", "HEAD"):
        check_stored_entry_matches_clean_render(app, raw)


@pytest.mark.parametrize("raw", KNOWN_SHAPES, ids=lambda raw: (raw.path + b"?" + raw.query).decode())
def test_no_known_hostile_request_gets_a_5xx_or_poisons_the_cache(site, raw):
    """Check the requests that once broke the trust boundary, every run."""
    check_trust_boundary(site, raw)
    check_trust_boundary(site, raw)  # again: now perhaps from the cache


@settings(max_examples=examples(400))
@given(raw=requests())
def test_no_generated_request_gets_a_5xx_or_poisons_the_cache(site, raw):
    """Check the whole trust boundary at once on generated requests."""
    check_trust_boundary(site, raw)


@settings(max_examples=examples(100))
@given(body=comment_forms())
@example(body=b"name=%00&body=hello%00there&form_token=TOKEN")
@example(body=b"name=Eve&body=%FF%FE%FD&form_token=TOKEN")
@example(body=b"name=Eve&name=Mallory&body=twice&body=over&form_token=TOKEN")
def test_no_generated_comment_form_gets_a_5xx(site, body):
    """Check hostile comment forms (missing, repeated, NUL, invalid UTF-8,
    junk fields): a clear 4xx (or a 303 for a genuine one), never a 500."""
    from blog.comment_guard import form_token

    body = body.replace(b"TOKEN", form_token("notes-on-replication-part-0").encode())
    raw = RawRequest(method="POST", path=b"/posts/notes-on-replication-part-0/comments/", body=body,
                     headers={"Content-Type": b"application/x-www-form-urlencoded",
                              "Origin": b"http://127.0.0.1"})
    answer, _ = call(site, raw)
    assert answer.status < 500, (body, answer.status, answer.body[:300])
