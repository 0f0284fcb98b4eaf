"""The hostile-reader suite: generated requests against the real WSGI
application (fast path + Django) over the real cluster and Redis, seeded
with a few posts, tags, authors and comments.

Hypothesis profiles: `ci` (the default, a bounded number of examples with
a fixed seed, so `make test` stays within its time and never flakes) and
`fuzz` (`make fuzz`: many more, randomised).
"""
import os
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings

from tests.fixtures import cluster
from tests.fixtures.wsgi import application_on

COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                     HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.register_profile("ci", max_examples=150, derandomize=True, **COMMON)
settings.register_profile("fuzz", max_examples=3000, **COMMON)
settings.load_profile(PROFILE)


def examples(in_ci):
    """A test's number of generated cases: `in_ci` for `make test`, twenty
    times as many for `make fuzz`."""
    return in_ci * (20 if PROFILE == "fuzz" else 1)


@pytest.fixture
def site(replicated_db, redis_client):
    """The real application, on a small blog, with the rate limits off (every
    generated request comes from one address)."""
    from tests.fixtures.factories import AuthorFactory, CommentFactory, PostFactory, TagFactory

    python, databases = TagFactory(slug="python", name="Python"), TagFactory(slug="databases", name="DBs")
    author = AuthorFactory(username="author0")
    for n in range(13):
        post = PostFactory(author=author, tags=[python, databases][: 1 + n % 2], title=f"replica notes {n}",
                           published_at=timezone.now() - timedelta(days=n * 40))
    CommentFactory(post=post, name="Alice", body="First!")
    cluster.wait_all_replayed()
    with override_settings(COMMENT_RATE_LIMIT="off", SEARCH_RATE_LIMIT="off"), \
            application_on("urls") as application:
        yield application
