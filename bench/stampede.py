"""Part 3: a hot page invalidated under 200 concurrent clients.

200 clients (a thread and a keep-alive connection each) request the warm
hot page in a loop; a third of the way into each round a transaction
commits on the primary and the post's tag is invalidated (the cache's own
API, `record_invalidation`, as the commit hook of an edit would).
Renders are counted on the server (Redis hash `pc:stats`, field `render`),
never from response headers; X-Cache outcomes and latencies are kept too.
"""
import collections
import statistics
import threading
import time

from .counters import Counters
from .http_client import HttpClient
from .pages import fetch_hit
from .stack import log


def touch_post(post_id):
    """Commit an edit that changes nothing a reader sees, as an editor's save
    would: a real row write, so the commit is flushed and the primary's WAL
    position moves past every page stored before it. (A transaction that
    writes no row commits asynchronously: its commit record may not be
    written yet when the invalidation reads the position, and the
    invalidation would then stand at, not past, the cached page's snapshot.)"""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute("UPDATE blog_post SET title = title WHERE id = %s", [post_id])


def invalidate_after_an_edit(post_id):
    from cache.store import record_invalidation

    touch_post(post_id)
    record_invalidation((f"post:{post_id}",))


def post_id_of(stack, hot_path):
    slug = hot_path.strip("/").split("/")[-1]
    return stack.query("SELECT id FROM blog_post WHERE slug = %s", (slug,))[0][0]


def one_round(port, hot_path, clients, seconds, invalidate, counters):
    replies = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients) + 1)
    stop = threading.Event()

    def hammer(client):
        barrier.wait()
        mine = []
        while not stop.is_set():
            reply = client.get(hot_path)
            mine.append((reply.status, reply.header("x-cache"), reply.end - reply.start))
        with lock:
            replies.extend(mine)

    threads = [threading.Thread(target=hammer, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    barrier.wait()
    time.sleep(seconds / 3)
    before = counters.renders()
    invalidated_at = time.time()
    invalidate()
    time.sleep(seconds * 2 / 3)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    time.sleep(0.1)
    renders = counters.renders() - before
    latencies = sorted(r[2] * 1000 for r in replies)
    return {
        "requests": len(replies), "renders": renders,
        "x_cache": dict(collections.Counter(r[1] or "none" for r in replies)),
        "statuses": dict(collections.Counter(str(r[0]) for r in replies)),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 2) if latencies else None,
        "max_ms": round(latencies[-1], 2) if latencies else None,
        "invalidated_at": round(invalidated_at, 3),
    }


def run(stack, plan, port, hot_path):
    counters = Counters(stack.ports["redis"])
    post_id = post_id_of(stack, hot_path)
    warm = HttpClient(port)
    fetch_hit(warm, hot_path)
    warm.close()
    clients = [HttpClient(port) for _ in range(plan.stampede_clients)]
    rounds = []
    try:
        for number in range(plan.stampede_rounds):
            found = one_round(port, hot_path, clients, plan.stampede_seconds,
                              lambda: invalidate_after_an_edit(post_id), counters)
            rounds.append(found)
            log(f"stampede round {number + 1}: {found['requests']} requests from "
                f"{len(clients)} clients, {found['renders']} render(s), {found['x_cache']}")
    finally:
        for client in clients:
            client.close()
    return {"clients": plan.stampede_clients, "page": hot_path, "tag": f"post:{post_id}", "rounds": rounds,
            "renders_per_invalidation": [r["renders"] for r in rounds],
            "errors": sum(n for r in rounds for s, n in r["statuses"].items() if s != "200")}
