"""Shared fixtures: the real cluster (primary + streaming replicas) and Redis.

The test database is created on the primary only and reaches the replicas by
replication (their aliases mirror `default`'s NAME but keep their own
servers). Tests that read from a replica must commit: use `transactional_db`
(or `django_db(transaction=True)`), since an open test transaction never
reaches a standby.
"""
import pytest

from tests.fixtures import cluster


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """After the test database is created on the primary, wait for every
    replica to have replayed its creation, so replica aliases can connect."""
    with django_db_blocker.unblock():
        cluster.wait_all_replayed(timeout=30)
    yield


@pytest.fixture
def replicated_db(transactional_db):
    """Committing tests that may read from replicas; replicas start caught up.
    Modules using it mark themselves
    `pytest.mark.django_db(transaction=True, databases="__all__")`."""
    cluster.wait_all_replayed()
    yield
