"""The per-process memory tier: long-lived, yet never behind an invalidation
by more than PAGE_CACHE_MEMORY_SECONDS, in this process or any other."""
import gzip
import threading
import time

import pytest
from django.test import override_settings

from cache import memory, memory_sync, store
from cache.entry import PageCacheEntry
from tests.cache.conftest import add_group
from tests.fixtures import cluster
from tests.fixtures.factories import PostFactory
from tests.fixtures.http_reader import Reader
from tests.fixtures.server import run_gunicorn
from tests.fixtures.wsgi import request


def entry(tags=("post:1",), snapshot=100, body=b"<p>page</p>", fresh_for=60):
    return PageCacheEntry(status=200, headers=[("Content-Type", "text/html")],
                          gzip_body=gzip.compress(body, mtime=0), etag="e", snapshot_lsn=snapshot,
                          tags=tuple(tags), fresh_until=time.time() + fresh_for)


def synced_tier():
    tier = memory.MemoryTier()
    tier.mark_synced(time.monotonic())
    return tier


# --- the tier's rules (pure) ------------------------------------------------

def test_an_entry_put_after_a_lookup_is_served_until_a_tag_it_shows_is_dropped():
    """Check that an entry is served, and only an invalidation of one of its own tags drops it."""
    tier = synced_tier()
    tier.put("/a", entry(tags=("post:1", "home")), tier.observed())
    tier.put("/b", entry(tags=("post:2",)), tier.observed())
    tier.drop_tags({"post:2"})
    assert tier.get("/a", 0) is not None and tier.get("/b", 0) is None
    tier.drop_tags({"home"})
    assert tier.get("/a", 0) is None


def test_an_entry_looked_up_before_an_invalidation_was_applied_is_not_put():
    """Check the race: lookup, then the poller drops the page's tag, then the put: the put is refused."""
    tier = synced_tier()
    observed = tier.observed()
    tier.drop_tags({"post:1"})
    tier.put("/a", entry(tags=("post:1",)), observed)
    assert tier.get("/a", 0) is None


def test_nothing_is_served_while_the_tier_has_not_heard_from_redis_lately():
    """Check that the tier serves nothing once its last complete poll is older than PAGE_CACHE_MEMORY_SECONDS."""
    tier = synced_tier()
    tier.put("/a", entry(), tier.observed())
    with override_settings(PAGE_CACHE_MEMORY_SECONDS=0.5):
        tier.mark_synced(time.monotonic() - 0.6)
        assert tier.get("/a", 0) is None
        tier.mark_synced(time.monotonic())
        assert tier.get("/a", 0) is not None


def test_a_pin_past_the_snapshot_and_a_past_ttl_are_not_served():
    """Check that a pinned request needs a snapshot at or past its pin, and a page past its TTL goes to Redis."""
    tier = synced_tier()
    tier.put("/a", entry(snapshot=100), tier.observed())
    tier.put("/old", entry(fresh_for=-1), tier.observed())
    assert tier.get("/a", 100) is not None and tier.get("/a", 101) is None
    assert tier.get("/old", 0) is None


def test_an_older_snapshot_never_replaces_a_newer_copy():
    """Check monotonic reads within the tier: a put from an older snapshot is ignored."""
    tier = synced_tier()
    tier.put("/a", entry(snapshot=200, body=b"new"), tier.observed())
    tier.put("/a", entry(snapshot=100, body=b"old"), tier.observed())
    assert tier.get("/a", 0).identity_body == b"new"


def test_the_byte_budget_evicts_the_least_recently_served():
    """Check that the tier stays within PAGE_CACHE_MEMORY_MB, dropping what was served least recently."""
    body = bytes(range(256)) * 1600  # ~400 KB, barely compressible
    with override_settings(PAGE_CACHE_MEMORY_MB=1):
        tier = synced_tier()
        for path in ("/a", "/b"):
            tier.put(path, entry(body=body), tier.observed())
        tier.get("/a", 0)
        tier.put("/c", entry(body=body), tier.observed())
        assert tier.size_bytes <= 1024 * 1024
        assert [p for p in ("/a", "/b", "/c") if tier.get(p, 0)] == ["/a", "/c"]


def test_first_requests_at_once_start_one_poller(monkeypatch):
    """Check that threads calling ensure_running together, while no poller
    runs yet, start exactly one (a slow thread start widens the race)."""
    import threading

    callers = [threading.Thread(target=memory_sync.ensure_running) for _ in range(8)]
    started, real_thread = [], threading.Thread

    class SlowToStart(real_thread):
        def __init__(self, *args, **kwargs):
            time.sleep(0.02)
            super().__init__(*args, **kwargs)

        def start(self):
            started.append(self)  # not run: a real poller would read this test's Redis

    monkeypatch.setattr(memory_sync, "_poller", memory_sync.Poller())
    monkeypatch.setattr(threading, "Thread", SlowToStart)
    for caller in callers:
        real_thread.start(caller)
    for caller in callers:
        caller.join()
    assert len(started) == 1


# --- following Redis's invalidation log (real Redis) --------------------------

@pytest.fixture
def following(redis_client):
    """A fresh tier and its log position, read once (as the poller starts)."""
    tier, position = memory.MemoryTier(), memory_sync.LogPosition()
    assert memory_sync.poll_once(position, tier)
    return tier, position


@pytest.mark.django_db(transaction=True)
def test_an_invalidation_recorded_anywhere_drops_the_page_at_the_next_poll(following):
    """Check that a tag invalidated through Redis (as another process would) leaves this tier at its next poll."""
    tier, position = following
    tier.put("/a", entry(tags=("post:7",)), tier.observed())
    tier.put("/b", entry(tags=("post:8",)), tier.observed())
    store.record_invalidation(("post:7",))
    assert memory_sync.poll_once(position, tier)
    assert tier.get("/a", 0) is None and tier.get("/b", 0) is not None


def test_a_new_generation_clears_the_tier(following, redis_client):
    """Check that a generation bump (Redis back from an outage) empties every tier."""
    tier, position = following
    tier.put("/a", entry(), tier.observed())
    redis_client.incr("pc:gen")
    memory_sync.poll_once(position, tier)
    assert len(tier) == 0


@pytest.mark.django_db(transaction=True)
def test_redis_losing_its_data_clears_the_tier(following, redis_client):
    """Check that a flushed or restarted Redis (a new epoch) empties the tier once: its log may have lost entries."""
    tier, position = following
    store.record_invalidation(("post:1",))
    memory_sync.poll_once(position, tier)
    tier.put("/a", entry(), tier.observed())
    redis_client.flushdb()
    memory_sync.poll_once(position, tier)
    assert len(tier) == 0
    tier.put("/b", entry(), tier.observed())
    memory_sync.poll_once(position, tier)
    assert tier.get("/b", 0) is not None


@pytest.mark.django_db(transaction=True)
def test_a_log_trimmed_past_the_last_entry_read_clears_the_tier(following, redis_client):
    """Check that entries lost to trimming (a gap) empty the tier rather than being skipped."""
    tier, position = following
    store.record_invalidation(("post:1",))
    memory_sync.poll_once(position, tier)
    tier.put("/a", entry(tags=("post:2",)), tier.observed())
    store.record_invalidation(("post:3",))
    redis_client.xtrim("pc:invlog", maxlen=0)
    store.record_invalidation(("post:4",))
    memory_sync.poll_once(position, tier)
    assert len(tier) == 0
    tier.put("/b", entry(tags=("post:5",)), tier.observed())
    store.record_invalidation(("post:6",))
    memory_sync.poll_once(position, tier)
    assert tier.get("/b", 0) is not None


READER_NAME = "the-read-under-test"


def read_in_background(position, tier, wait, monkeypatch):
    """poll_once on a thread of its own (as the poller reads), on a Redis
    connection named READER_NAME (the process's own poller may be waiting
    in Redis too); join() it for the result."""
    import redis
    from django.conf import settings

    named = redis.Redis.from_url(settings.REDIS_URL, client_name=READER_NAME, socket_timeout=wait + 5)
    monkeypatch.setattr(store, "log_reader", lambda _wait: named)
    done = []
    reader = threading.Thread(target=lambda: done.append(memory_sync.poll_once(position, tier, wait=wait)))
    reader.start()
    return reader, done


def wait_until_blocked_in_redis(redis_client):
    cluster.wait_until(lambda: any(client["name"] == READER_NAME and "b" in client["flags"]
                                   for client in redis_client.client_list()), 10,
                       message="the read to be waiting in Redis")


@pytest.mark.django_db(transaction=True)
def test_a_read_waiting_for_the_log_returns_with_an_invalidation_as_soon_as_it_is_recorded(
        following, redis_client, monkeypatch):
    """Check that a worker's read waits in Redis for news (XREAD BLOCK) and
    comes back with an invalidation recorded meanwhile, long before its wait
    is over: the tier hears of it at once, not at its next read."""
    tier, position = following
    tier.put("/a", entry(tags=("post:7",)), tier.observed())
    reader, done = read_in_background(position, tier, 60, monkeypatch)
    wait_until_blocked_in_redis(redis_client)
    store.record_invalidation(("post:7",))
    reader.join(30)
    assert done == [True] and tier.get("/a", 0) is None


@pytest.mark.django_db(transaction=True)
def test_starting_afresh_wakes_every_waiting_read_and_empties_its_tier(following, redis_client, monkeypatch):
    """Check that a new generation (an outage that lost an invalidation, a
    new primary timeline) reaches a tier whose read is waiting, at once."""
    from cache.fresh_start import start_afresh

    tier, position = following
    tier.put("/a", entry(), tier.observed())
    reader, done = read_in_background(position, tier, 60, monkeypatch)
    wait_until_blocked_in_redis(redis_client)
    start_afresh(redis_client)
    reader.join(30)
    assert done == [True] and len(tier) == 0


def test_a_read_that_waited_its_whole_wait_for_nothing_keeps_the_tier_serving(following):
    """Check that an empty read counts as news until the end of its wait: a
    wait longer than the tier's allowance still leaves it serving (were the
    read dated from its start, the tier would count itself out of date)."""
    tier, position = following
    wait = memory.conf.memory_tier_seconds() + 0.2
    assert memory_sync.poll_once(position, tier, wait=wait)
    tier.put("/a", entry(), tier.observed())
    assert tier.get("/a", 0) is not None


def test_only_a_read_held_for_its_whole_wait_by_our_clock_proves_the_log_empty_until_its_end():
    """Check the date an in-step tier gets from a read: its start, unless
    Redis held it the whole wait for nothing. A read back early with nothing
    (Redis's clock ran ahead of ours) proves no more than its start."""
    now = time.monotonic()
    assert memory_sync.synced_as_of(now - 0.31, 0.3, waited_out=True) == pytest.approx(now - 0.01)
    assert memory_sync.synced_as_of(now - 0.31, 0.3, waited_out=False) == now - 0.31
    assert memory_sync.synced_as_of(now - 0.2, 0.3, waited_out=True) == now - 0.2


@pytest.mark.parametrize("wait, poll, refused", [
    (0.3, 0.1, False), (0.4, 0.1, False), (0.45, 0.1, True), (0.0, 0.45, True), (0.0, 0.1, False)])
def test_a_log_read_longer_than_the_tier_allows_is_refused_by_a_system_check(wait, poll, refused):
    """Check page_cache.E001: one read of the log (its wait, or the time
    between two reads) plus a round trip must end inside
    PAGE_CACHE_MEMORY_SECONDS (0.5 s), or the tier would stop serving
    between two reads."""
    from cache.checks import log_reads_keep_the_tier_usable

    with override_settings(PAGE_CACHE_MEMORY_WAIT=wait, PAGE_CACHE_MEMORY_POLL=poll):
        errors = log_reads_keep_the_tier_usable(None)
    assert [error.id for error in errors] == (["page_cache.E001"] if refused else [])


def test_a_failed_read_of_the_log_leaves_the_requests_guard_closed(following, monkeypatch):
    """Check that a read of the log that fails (here: a Redis that is not
    there) tells the poller so, but does not open the guard the requests
    use: a read waits in Redis nearly all the time, so a worker paused
    longer than its timeout would otherwise take every resume for an outage."""
    from cache import redis_guard
    from cache.redis_guard import client_for

    tier, position = following
    # Made as the log reader's own client is, without retries: redis-py's
    # default retries a connect three times over up to 14 s, on into the
    # tests after this one, in the page cache's sync thread.
    nowhere = client_for("redis://127.0.0.1:1/0", (0.05, 0.05))
    monkeypatch.setattr(store, "log_reader", lambda _wait: nowhere)
    assert memory_sync.poll_once(position, tier, wait=0.3) is False
    assert redis_guard().is_open is False


def test_the_hit_counters_are_flushed_even_while_every_poll_fails(redis_client, monkeypatch):
    """Check that a poll failing again and again (a bug, a log entry it
    cannot read) does not stop the counters' flush: they queue one item per
    answer until a flush takes them, so the worker would grow with every hit."""
    from cache import stats

    def failing_poll(position, tier=None):
        raise RuntimeError("a log entry the poller cannot read")

    monkeypatch.setattr(memory_sync, "poll_once", failing_poll)
    monkeypatch.setattr(stats, "FLUSH_SECONDS", 0)  # every tick is due to flush
    stats.flush()
    before = store.read_stats().get("hit", 0)  # Redis's totals as they are, without flushing
    poller = memory_sync.Poller()
    for _ in range(3):
        for _ in range(100):
            stats.count("HIT")
        poller.tick()
    cluster.wait_until(lambda: store.read_stats().get("hit", 0) - before == 300, message="the counts flushed")


# --- in the application ---------------------------------------------------------

def evalsha_calls(redis_client):
    return redis_client.info("commandstats").get("cmdstat_evalsha", {}).get("calls", 0)


def wait_until_the_tier_follows(redis_client):
    """This process's poller has read this test's emptied Redis (it holds the
    epoch that Redis was given at its first read since), and its tier is in
    step. A read begun before the test emptied Redis may still be waiting."""
    memory_sync.ensure_running()

    def following_this_redis():
        epoch = redis_client.get("pc:epoch")
        return (epoch is not None and memory_sync._poller.position.epoch == epoch
                and time.monotonic() < memory.tier.usable_until)

    cluster.wait_until(following_this_redis, 5, message="the tier to have read this test's Redis")


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_a_hot_page_is_served_from_memory_long_after_without_a_redis_lookup(app, redis_client):
    """Check that once in the tier a page is served for longer than the tier's staleness allowance,
    with no Redis lookup, and that an invalidation still reaches it."""
    wait_until_the_tier_follows(redis_client)
    request(app, "/c/groups/")
    request(app, "/c/groups/")  # a Redis hit, put in the tier
    put_at = time.monotonic()
    allowance = memory.conf.memory_tier_seconds()
    cluster.wait_until(lambda: memory.tier.synced_at > put_at + 2 * allowance, 10 * allowance + 5,
                       message="the tier to have followed the log for twice its staleness allowance")
    before = evalsha_calls(redis_client)
    hits = [request(app, "/c/groups/").headers for _ in range(20)]
    assert all(h["X-Cache"] == "HIT" and 'cache;dur=' in h["Server-Timing"] for h in hits)
    assert all('desc="memory"' in h["Server-Timing"] for h in hits)
    assert evalsha_calls(redis_client) == before
    add_group("late")
    cluster.wait_until(lambda: "late" in request(app, "/c/groups/").text, 2,
                       message="the invalidation to reach the tier")


@pytest.mark.django_db(transaction=True, databases="__all__")
def test_every_worker_shows_a_comment_within_the_bound_after_its_write(replicated_db, redis_client):
    """Check the staleness bound through gunicorn's workers and their tiers:
    after a comment's 303, every anonymous request started B later shows it
    (replicas caught up: B = their lag, a fraction of a second, + 1 s)."""
    import routing
    from routing import conf as routing_conf

    post = PostFactory()
    cluster.wait_all_replayed()
    with run_gunicorn(env={"COMMENT_RATE_LIMIT": "off"}) as url:
        reader = Reader(url)
        path = f"/posts/{post.slug}/"
        warm = [reader.get(path).headers.get("X-Cache") for _ in range(40)]
        assert warm.count("HIT") >= 35
        warmed_at, allowance = time.monotonic(), memory.conf.memory_tier_seconds()
        cluster.wait_until(  # copies older than a time-limited tier would keep, still served from memory
            lambda: time.monotonic() > warmed_at + 2 * allowance
            and 'desc="memory"' in reader.get(path).headers.get("Server-Timing", ""),
            10 * allowance + 5, message="a worker's tier to serve the page long after it was put")
        writer = Reader(url)
        assert writer.comment(post.slug, "a comment every worker must show").status == 303
        written_at = time.monotonic()
        # B by this process's view of the same replicas; workers poll them as often.
        bound = routing.replication_view().bound_seconds + 2 * routing_conf.health_interval()
        late = []
        while time.monotonic() < written_at + bound + 1.0:
            started = time.monotonic()
            page = reader.get(path)
            if started >= written_at + bound:
                late.append("a comment every worker must show" in page.text)
        assert late and all(late)


# --- read-your-writes with zero replicas ------------------------------------

def test_with_zero_replicas_a_writer_never_gets_a_copy_its_worker_has_not_seen_invalidated(
        app, redis_client, monkeypatch):
    """Check read-your-writes through the page cache with REPLICA_URLS empty:
    the write still pins the session, and the pin keeps the writer off a
    memory-tier copy that the tier's poller has not yet dropped (shown by
    making the poller miss the invalidation: a reader without the pin does
    get that old copy)."""
    with override_settings(REPLICA_ALIASES=[]):
        wait_until_the_tier_follows(redis_client)
        for _ in range(2):
            request(app, "/c/groups/")
        from_memory = request(app, "/c/groups/")
        assert 'desc="memory"' in from_memory.headers["Server-Timing"]
        monkeypatch.setattr(memory.tier, "drop_tags", lambda tags: None)
        written = request(app, "/c/add/", method="POST", data=b"name=zero-replica-write",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert written.status == 201
        pin = written.cookies["pin"].value
        stale = request(app, "/c/groups/")
        assert stale.headers["X-Cache"] == "HIT" and b"zero-replica-write" not in stale.body
        own = request(app, "/c/groups/", cookies={"pin": pin})
        assert b"zero-replica-write" in own.body
