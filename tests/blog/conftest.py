"""Helpers for the blog's tests: invalidations seen, constant query counts,
the whole site as gunicorn serves it."""
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from tests.fixtures.factories import AuthorFactory, CommentFactory, PostFactory, TagFactory
from tests.fixtures.wsgi import application_on


class Invalidations:
    """Cache tags invalidated so far. Inside a test transaction nothing
    commits, so reading runs the pending on-commit callbacks that
    `cache.invalidate` registered (each once)."""

    def __init__(self):
        self.seen, self.ran = set(), set()

    @property
    def tags(self):
        for _, callback, _ in list(connections["default"].run_on_commit):
            if callback.__module__ == "cache.invalidation" and id(callback) not in self.ran:
                self.ran.add(id(callback))
                callback()
        return self.seen

    def __contains__(self, tag):
        return tag in self.tags

    def clear(self):
        self.tags.clear()


@pytest.fixture
def invalidated(db, monkeypatch):
    """The `Invalidations` of the test (record_invalidation spied on)."""
    invalidations = Invalidations()
    monkeypatch.setattr("cache.invalidation.record_invalidation", invalidations.seen.update)
    return invalidations


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(captured.captured_queries)


@pytest.fixture
def assert_constant_queries(client, django_assert_num_queries):
    """Check that `url` costs as many queries before and after `grow()`."""
    def check(url, grow, at_most=6):
        before = count_queries(client, url)
        assert before <= at_most, f"{url} ran {before} queries"
        grow()
        with django_assert_num_queries(before):
            response = client.get(url)
        assert response.status_code == 200
        return response

    return check


@pytest.fixture
def busy(db):
    """Make `n` more published posts (with tags and comments) around a post."""
    def grow(n=49, author=None, tag=None, post=None):
        tags = TagFactory.create_batch(3)
        for _ in range(n):
            PostFactory(author=author or AuthorFactory(), tags=[*tags, *([tag] if tag else [])])
        if post is not None:
            CommentFactory.create_batch(n, post=post)

    return grow


@pytest.fixture
def site_app(replicated_db, redis_client):
    """The real WSGI application on the site's own URLs (cache fast path and
    Django, as gunicorn serves them), Redis empty. Modules using it mark
    themselves `pytest.mark.django_db(transaction=True, databases="__all__")`."""
    with application_on("urls") as application:
        yield application
