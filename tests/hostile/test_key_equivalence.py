"""The property behind the cache key: two requests with the same key always
get the same page. Checked as: whatever query string a client sends, the
uncached render equals the uncached render of the clean request its key
stands for (so any two requests sharing that key render alike)."""
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cache import keys
from tests.hostile.conftest import examples
from tests.hostile.raw_wsgi import RawRequest, call
from tests.hostile.strategies import query_strings

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

LISTS = [b"/", b"/search/", b"/tags/python/", b"/authors/author0/", b"/archive/2026/",
         b"/sitemap-posts.xml", b"/posts/notes-on-replication-part-0/"]


def uncached(app, raw):
    """Django's own answer, the page cache's fast path and fill left out."""
    answer, _ = call(app.django_app, raw)
    return answer.status, answer.body


@settings(max_examples=examples(80))
@given(path=st.sampled_from(LISTS), query=query_strings())
@example(path=b"/search/", query=b"q=replica&q=anything+at+all")
@example(path=b"/", query=b"page=2&page=3")
@example(path=b"/tags/python/", query=b"page=")
@example(path=b"/sitemap-posts.xml", query=b"p=1&p=2")
def test_requests_sharing_a_key_render_the_same_page(site, path, query):
    """Check that a request and the clean request of its key render alike."""
    raw = RawRequest(path=path, query=query)
    key = keys.page_key(raw.environ())
    if key is None:
        return  # answered, never stored: nothing another reader could be served
    clean = RawRequest(path=path, query=key.partition("?")[2].encode("latin-1"))
    assert keys.page_key(clean.environ()) == key
    assert uncached(site, raw) == uncached(site, clean), (query, key)
