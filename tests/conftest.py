"""Shared fixtures: the real cluster (primary + streaming replicas) and Redis.

The test database is created on the primary only and reaches the replicas by
replication (their aliases mirror `default`'s NAME but keep their own
servers). Tests that read from a replica must commit: use `transactional_db`
(or `django_db(transaction=True)`), since an open test transaction never
reaches a standby.
"""
import sys

import pytest

from routing import health
from tests.fixtures import cluster
from tests.fixtures.server import run_gunicorn


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the test database is created on the primary, wait for every
    replica to have replayed its creation, so replica aliases can connect."""
    with django_db_blocker.unblock():
        cluster.wait_all_replayed(timeout=30)
    yield
    # The health poller holds connections to the test database: close them
    # so that it can be dropped.
    health.reset(wait=True)
    with django_db_blocker.unblock():
        cluster.end_other_sessions_on_the_test_database()


@pytest.fixture
def replicated_db(transactional_db):
    """Committing tests that may read from replicas; replicas start caught up.
    Modules using it mark themselves
    `pytest.mark.django_db(transaction=True, databases="__all__")`."""
    cluster.wait_all_replayed()
    yield


@pytest.fixture(scope="session")
def gunicorn_server(request, django_db_setup):
    """The real gunicorn (2 workers) on the test database, for the whole
    session; its base URL. COMMENT_RATE_LIMIT is off: every test posts from
    127.0.0.1. Only committed rows are visible to it, so its tests are
    transactional. Its log is printed when a test failed."""
    with run_gunicorn(env={"COMMENT_RATE_LIMIT": "off"}) as base_url:
        yield base_url
        if request.session.testsfailed:
            print(f"--- gunicorn log ---\n{base_url.read_log()[-20000:]}", file=sys.stderr)


@pytest.fixture
def redis_client():
    """The test stack's real Redis, emptied for the test."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client
