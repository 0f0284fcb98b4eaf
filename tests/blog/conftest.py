"""Helpers for the blog's tests: invalidations seen, constant query counts."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.fixtures.factories import AuthorFactory, CommentFactory, PostFactory, TagFactory


@pytest.fixture
def invalidated(monkeypatch, django_capture_on_commit_callbacks):
    """The set of cache tags invalidated (on commit) while the test runs.
    Inside a test transaction nothing commits, so commit callbacks are run
    as they are registered."""
    seen = set()
    monkeypatch.setattr("cache.invalidation.record_invalidation", lambda tags: seen.update(tags))
    with django_capture_on_commit_callbacks(execute=True):
        yield seen


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
