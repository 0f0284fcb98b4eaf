"""Page cache tests: the real WSGI application (fast path + Django) over the
real cluster and the real Redis, which each test starts empty."""
import pytest
import redis
from django.conf import settings
from django.test import override_settings

from cache import breaker, memory
from routing import health
from tests.fixtures import cluster


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield client


@pytest.fixture
def app(replicated_db, redis_client):
    """The WSGI application exactly as gunicorn serves it, on the probe URLconf."""
    from wsgi import application

    with override_settings(ROOT_URLCONF="tests.cache.probe_urls"):
        health.reset()
        health.monitor().polled.wait(5)
        breaker.reset()
        memory.clear()
        yield application
    health.reset()
    breaker.reset()
    memory.clear()


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
                  and not k.startswith(b"pc:tag:"))
