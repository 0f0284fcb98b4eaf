"""Ops tests: the real sentry_sdk (a capturing transport), the real WSGI
application on a probe URLconf, the real cluster and Redis."""
from contextlib import contextmanager

import pytest

from ops import queries
from ops.state_changes import KEY_PREFIX, reporter
from routing import health
from tests.fixtures import cluster
from tests.fixtures.wsgi import application_on
from tests.ops.sentry_capture import start_capturing, stop_capturing


@pytest.fixture
def sentry(redis_client):
    """Sentry on, as the site configures it (every request traced); what it sent.
    Each test starts with no state change seen or shared, no slow query reported."""
    reporter.reset()
    queries.throttle.reset()
    captured = start_capturing()
    yield captured
    stop_capturing()
    reporter.reset()


@pytest.fixture
def app(replicated_db, redis_client):
    """The WSGI application exactly as gunicorn serves it, on tests/ops/probe_urls.py."""
    with application_on("tests.ops.probe_urls") as application:
        yield application


@pytest.fixture
def monitor(app):
    return health.monitor()


def shared_state_keys(redis_client):
    return sorted(key.decode() for key in redis_client.keys(f"{KEY_PREFIX}*"))


def wait_in_rotation(monitor, alias, expected, timeout=40):
    cluster.wait_until(lambda: monitor.replicas[alias].in_rotation is expected, timeout,
                       message=f"{alias} in_rotation={expected}")


@contextmanager
def stopped(*servers):
    """The servers (primary, replicaN, redis) stopped for the block, started again
    after it whatever happens. A database server is checkpointed first, so that
    its restart replays seconds of WAL rather than everything since the last one."""
    down = []
    try:
        for server in servers:
            if server != "redis":
                cluster.query("default" if server == "primary" else server, "CHECKPOINT")
            cluster.stack_tool("stop", server)
            down.append(server)
        yield
    finally:
        for server in reversed(down):
            cluster.stack_tool("start", server)
