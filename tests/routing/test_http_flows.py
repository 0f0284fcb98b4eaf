"""Routing through the real HTTP path: gunicorn serving the blog on the real
cluster, readers commenting with a cookie jar, replicas paused or killed."""
import re
import threading
import time

import pytest
import redis
from django.conf import settings
from django.db import connections

from tests.fixtures import cluster
from tests.fixtures.factories import PostFactory
from tests.fixtures.http_reader import Reader
from tests.fixtures.server import run_gunicorn

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

SERVER_ENV = {"COMMENT_RATE_LIMIT": "off"}
TRIALS = 20


def comment_id(reply):
    found = re.search(r"#comment-(\d+)$", reply.headers.get("Location", ""))
    assert reply.status == 303 and found, (reply.status, reply.text[:500])
    return found.group(1)


@pytest.fixture
def posts(replicated_db):
    made = [PostFactory(), PostFactory()]
    cluster.wait_all_replayed()
    return made


def test_without_the_pin_a_commenter_misses_their_comment_on_lagging_replicas(posts):
    """Check the hazard over HTTP: with the pin and the cache's LSN gating off (both
    guard a writer's next page), replicas paused, the page after the 303 lacks the comment."""
    unguarded = {**SERVER_ENV, "READ_YOUR_WRITES": "off", "PAGE_CACHE_LSN_GATING": "off"}
    with run_gunicorn(env=unguarded) as url, \
            cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        reader = Reader(url)
        missed = 0
        for trial in range(5):
            new_id = comment_id(reader.comment(posts[0].slug, f"unpinned {trial}"))
            page = reader.get(f"/posts/{posts[0].slug}/")
            missed += f'id="comment-{new_id}"' not in page.text
        assert reader.cookie("pin") is None
        assert missed == 5


def test_with_the_pin_a_commenter_sees_their_comment_at_once_every_time(posts):
    """Check read-your-writes over HTTP across many trials while both replicas are paused,
    while anonymous readers of other pages are still served by the replicas."""
    with run_gunicorn(env=SERVER_ENV) as url, \
            cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        writer, stranger = Reader(url), Reader(url)
        violations = 0
        for trial in range(TRIALS):
            new_id = comment_id(writer.comment(posts[0].slug, f"pinned {trial}"))
            assert writer.cookie("pin")
            page = writer.get(f"/posts/{posts[0].slug}/")
            violations += f'id="comment-{new_id}"' not in page.text
        cluster.reset_statement_stats()
        for _ in range(10):
            assert stranger.get(f"/posts/{posts[1].slug}/?n={time.monotonic()}").status == 200
            redis.Redis.from_url(settings.REDIS_URL).flushdb()  # make every read a render
        reads = cluster.calls_per_server('FROM "blog_post"')
        print(f"read-your-writes: {TRIALS} trials, {violations} violations; stranger reads {reads}")
        assert violations == 0
        assert reads["replica1"] + reads["replica2"] > 0 and reads["default"] == 0


def test_a_replica_killed_under_load_fails_no_request_and_rejoins(posts):
    """Check that readers see zero failed requests while a replica is killed mid-run,
    and that the restarted replica serves reads again."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    failures, served, stop = [], [0], threading.Event()

    def reader(url):
        browser = Reader(url)
        while not stop.is_set():
            reply = browser.get(f"/posts/{posts[served[0] % 2].slug}/")
            served[0] += 1
            if reply.status != 200:
                failures.append(reply.status)

    def keep_missing():
        while not stop.is_set():
            client.flushdb()
            time.sleep(0.01)

    with run_gunicorn(env=SERVER_ENV, workers=2) as url:
        threads = [threading.Thread(target=reader, args=(url,)) for _ in range(4)]
        threads.append(threading.Thread(target=keep_missing))
        for thread in threads:
            thread.start()
        try:
            cluster.wait_until(lambda: served[0] > 50, 20, message="load to start")
            killed_at = time.monotonic()
            cluster.stack_tool("stop", "replica2")
            before = served[0]
            cluster.wait_until(lambda: served[0] > before + 100, 30, message="reads to go on")
            cluster.stack_tool("start", "replica2")
            cluster.reset_statement_stats()
            cluster.wait_until(lambda: cluster.statement_calls("replica2", 'FROM "blog_post"') > 0, 40,
                               message="replica2 to serve reads again")
            print(f"served {served[0]} reads, {len(failures)} failed; replica2 back "
                  f"{time.monotonic() - killed_at:.1f}s after the kill")
        finally:
            stop.set()
            for thread in threads:
                thread.join(10)
    assert failures == []


def test_primary_stopped_reads_go_on_and_a_comment_gets_a_clear_503(posts):
    """Check read-only mode over HTTP: reads 200, a comment POST 503 with its text, writes back after restart."""
    with run_gunicorn(env=SERVER_ENV) as url:
        reader = Reader(url)
        reader.get(f"/posts/{posts[0].slug}/")
        cluster.stack_tool("stop", "primary")
        try:
            for _ in range(5):
                assert reader.get(f"/posts/{posts[1].slug}/").status == 200
                assert reader.get("/").status == 200
            refused = reader.comment(posts[0].slug, "words worth keeping")
            assert refused.status == 503
            assert "words worth keeping" in refused.text and "read-only" in refused.text
        finally:
            cluster.stack_tool("start", "primary")
            connections.close_all()  # this process's own connections died with the primary
        cluster.wait_until(lambda: reader.comment(posts[0].slug, "after the outage").status == 303,
                           30, interval=0.5, message="writes to work again without a restart")
