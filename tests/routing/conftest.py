"""Routing tests drive a tiny probe URLconf through the real middleware and
router, against the real cluster, with committing transactions."""
from contextlib import contextmanager

import pytest
from django.test import Client, override_settings

from routing import health
from tests.fixtures import cluster


@pytest.fixture
def probe(replicated_db):
    """A client for tests/routing/probe_urls.py, with fresh replica health."""
    with override_settings(ROOT_URLCONF="tests.routing.probe_urls"):
        health.reset()
        monitor = health.monitor()
        monitor.polled.clear()
        monitor.polled.wait(5)
        yield Client()
    health.reset()


@pytest.fixture
def monitor(probe):
    return health.monitor()


def wait_in_rotation(monitor, alias, expected, timeout=20):
    cluster.wait_until(lambda: monitor.replicas[alias].in_rotation is expected, timeout,
                       message=f"{alias} in_rotation={expected}")


@contextmanager
def primary_stopped(monitor):
    """The real primary stopped, and this process's health view seeing it
    down, for the block; started again and seen up after it."""
    cluster.stack_tool("stop", "primary")
    try:
        cluster.wait_until(lambda: not monitor.primary.up, 10, message="the primary to be seen down")
        yield
    finally:
        cluster.stack_tool("start", "primary")
    cluster.wait_until(lambda: monitor.primary.up, 30, message="the primary to be seen up")
