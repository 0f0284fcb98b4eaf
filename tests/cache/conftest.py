"""Page cache tests: the real WSGI application (fast path + Django) over the
real cluster and the real Redis, which each test starts empty."""
import pytest

from tests.fixtures import cluster

from tests.fixtures.wsgi import application_on


@pytest.fixture
def app(replicated_db, redis_client):
    """The WSGI application exactly as gunicorn serves it, on tests/cache/probe_urls.py."""
    with application_on("tests.cache.probe_urls") as application:
        yield application


def add_group(name):
    """A committed write plus its invalidation, as a view would do it."""
    from django.contrib.auth.models import Group
    from django.db import transaction

    from cache import invalidate

    with transaction.atomic():
        Group.objects.create(name=name)
        invalidate("groups", f"group:{name}")


def renders(redis_client):
    return int(redis_client.hget("pc:stats", "render") or 0)


def page_keys(redis_client):
    return sorted(k.decode() for k in redis_client.keys("pc:*:*:*") if b":lease:" not in k
                  and not k.startswith(b"pc:tag"))


def wait_until_a_replica_has_everything():
    """Until this process's health view sees a replica in rotation that has
    replayed the primary's position now: from then on a refill runs there."""
    import routing

    target = cluster.primary_lsn()
    cluster.wait_all_replayed()
    cluster.wait_until(lambda: routing.replication_view().caught_up_lsn >= target, 5,
                       message="the health view to see a replica caught up")
