"""The browser journeys' world: one Chromium and one gunicorn for all of
tests/e2e, with both replicas applying WAL `APPLY_DELAY` late, so every
journey runs against replicas that really lag.

    def test_something(site, open_context):
        site.settle()                       # rows made by the test reach the replicas
        page = open_context().new_page()    # base URL = the lagging site
        page.goto("/")

Editors' journeys override `site` with `own_site` (a server per test).

A failed journey leaves a screenshot and the HTML of each page it had open
under tests/e2e/artifacts/<test>/ (ignored by git). The terminal summary
says how long the journeys took together.
"""
import os
import sys
import time
from contextlib import ExitStack, contextmanager

import pytest
import redis
from django.conf import settings
from playwright.sync_api import sync_playwright

from tests.fixtures import cluster
from tests.fixtures.server import run_gunicorn

from .browser import launch, save_artifacts

APPLY_DELAY = "1500ms"
# SPEC's B = L + 1 s, where L is the slowest replica's replay lag: here the delay.
REPLICA_LAG = 1.5
BOUND_B = REPLICA_LAG + 1.0
NAVIGATION_TIMEOUT_MS = 15_000
SERVER_ENV = {"COMMENT_RATE_LIMIT": "off"}  # every journey comments from 127.0.0.1

REPORTS = pytest.StashKey[dict]()
TIMING = {"started": None, "finished": None, "count": 0}


@pytest.fixture(scope="package")
def browser():
    """Debian's Chromium, headless, off the network, for every journey."""
    # Playwright's sync API keeps its event loop on this thread, so Django's
    # async-safety check would refuse the journeys' (synchronous) ORM calls.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = launch(playwright)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def lagging_replicas(django_db_setup):
    """Both standbys apply WAL APPLY_DELAY late, for all the journeys."""
    with ExitStack() as stack:
        for alias in cluster.standby_aliases():
            stack.enter_context(cluster.apply_delay(alias, APPLY_DELAY))
        yield


@contextmanager
def serving(request):
    """gunicorn on the test database; its log is printed if a journey failed meanwhile."""
    failed_before = request.session.testsfailed
    with run_gunicorn(env=SERVER_ENV) as url:
        yield url
        if request.session.testsfailed > failed_before:
            print(f"--- gunicorn log ---\n{url.read_log()[-20000:]}", file=sys.stderr)


@pytest.fixture(scope="package")
def shared_server(request, lagging_replicas):
    with serving(request) as url:
        yield url


class Site(str):
    """The lagging site's base URL, and a way to let the replicas catch up."""

    def settle(self):
        """Wait until both replicas have replayed every row made so far."""
        cluster.wait_all_replayed(timeout=REPLICA_LAG + 20)


def forget_cached_pages():
    """Pages cached by earlier journeys go: the flush between tests removed
    their rows without invalidating anything. (Each journey makes its rows,
    then waits for the replicas: `Site.settle`, at least the delay, outlasts
    the servers' half-second in-memory tier.)"""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


@pytest.fixture
def site(shared_server, transactional_db):
    """The site, for readers' journeys: one server for all of them."""
    forget_cached_pages()
    return Site(shared_server)


@pytest.fixture
def own_site(request, lagging_replicas, transactional_db):
    """A server of the journey's own, for editors' journeys: the admin logs
    each save with a ContentType the server caches for good, and the flush
    between tests makes those rows anew under other ids."""
    forget_cached_pages()
    with serving(request) as url:
        yield Site(url)


@pytest.fixture
def open_context(request, browser, site):
    """Make browser contexts (separate cookie jars: separate people) on the
    site; on failure, save what each of their pages showed."""
    contexts = []

    def open_one(**options):
        context = browser.new_context(base_url=site, **options)
        context.set_default_timeout(NAVIGATION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield open_one
    reports = request.node.stash.get(REPORTS, {})
    if any(report.failed for report in reports.values()):
        saved = save_artifacts(contexts, request.node.nodeid)
        print(f"saved screenshots and HTML: {', '.join(saved) or 'none'}", file=sys.stderr)
    for context in contexts:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


def pytest_runtest_logstart(nodeid, location):
    TIMING["started"] = TIMING["started"] or time.monotonic()
    TIMING["count"] += 1


def pytest_runtest_logfinish(nodeid, location):
    TIMING["finished"] = time.monotonic()


def pytest_terminal_summary(terminalreporter):
    if TIMING["started"]:
        took = TIMING["finished"] - TIMING["started"]
        terminalreporter.write_line(
            f"e2e: {TIMING['count']} browser journeys in {took:.1f}s "
            "(Chromium, gunicorn and replica lag set-up included)")
