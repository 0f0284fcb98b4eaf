"""What synchronous replication costs a comment POST, side by side in one run.

Two project servers run at once on the same stack: one as the site runs
(`synchronous_commit = on`: a commit returns once the synchronous standby
has the WAL on disk), one whose database role has `synchronous_commit =
local` (a commit returns once the primary's own WAL is flushed, as without
synchronous replication). Nothing else differs: the role is a superuser like
the site's, and the setting is the role's default, so every session the
second server opens has it. One writer client comments in blocks on each
server in turn (the order alternating), so the two modes are measured
seconds apart; each POST's time is taken from the client, request sent to
303 received (Server-Timing's `db` time would not do: the COMMIT, where the
wait for the standby happens, runs outside the timed statements).
"""
import math
import statistics

from tests.fixtures.html_forms import COMMENT_ACTION, find_form

from .http_client import HttpClient
from .servers import GunicornServer, start_all, stop_all
from .stack import log

LOCAL_ROLE = "bench_local_commit"
MODES = ("on", "local")


def prepare_role(stack):
    """The role whose sessions commit without waiting for a standby."""
    stack.query(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{LOCAL_ROLE}') "
                f"THEN CREATE ROLE {LOCAL_ROLE} LOGIN SUPERUSER; END IF; END $$", database="postgres")
    stack.query(f"ALTER ROLE {LOCAL_ROLE} SET synchronous_commit = 'local'", database="postgres")


def as_role(url, role):
    return url.replace("postgres://postgres@", f"postgres://{role}@", 1)


def settings_in_force(stack):
    """What each mode's sessions commit with, asked as each server connects."""
    found = {}
    for mode, role in (("on", "postgres"), ("local", LOCAL_ROLE)):
        conn = stack.connect(database="blog", user=role)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                found[mode] = cursor.fetchone()[0]
        finally:
            conn.close()
    found["synchronous_standby_names"] = stack.query("SHOW synchronous_standby_names")[0][0]
    return found


def make_servers(stack, worker_class):
    databases = stack.site_databases("blog")
    local = {"DATABASE_URL": as_role(databases["DATABASE_URL"], LOCAL_ROLE),
             "REPLICA_URLS": ",".join(as_role(url, LOCAL_ROLE) for url in databases["REPLICA_URLS"].split(","))}
    env = stack.environment()
    return {"on": GunicornServer("project", stack.ports["web"] + 1, worker_class, env, stack.work_dir(),
                                 label=f"sync-on-{worker_class}"),
            "local": GunicornServer("project", stack.ports["web"] + 2, worker_class, env, stack.work_dir(), local,
                                    label=f"sync-local-{worker_class}")}


def comment_once(client, post_path, number, mode):
    """GET the post, POST a comment through its form; (the POST's ms, its status)."""
    page = client.get(post_path)
    action, fields = find_form(page.body, COMMENT_ACTION) if page.status == 200 else (None, {})
    if action is None:
        return None
    fields.update({"name": f"Sync cost {mode}", "body": f"Comment {number} measuring synchronous commit {mode}."})
    reply = client.post_form(action, fields, referer_path=post_path)
    return (reply.end - reply.start) * 1000, reply.status


def measure(servers, posts, rounds, per_round):
    samples = {mode: [] for mode in MODES}
    clients = {mode: HttpClient(servers[mode].port) for mode in MODES}
    number = 0
    try:
        for round_number in range(rounds):
            order = MODES if round_number % 2 == 0 else tuple(reversed(MODES))
            for mode in order:
                for _ in range(per_round):
                    number += 1
                    found = comment_once(clients[mode], posts[number % len(posts)], number, mode)
                    if found is not None:
                        samples[mode].append(found)
    finally:
        for client in clients.values():
            client.close()
    return samples


def percentile(values, share):
    """Nearest rank: the value `share` of the sorted values are at or below."""
    ordered = sorted(values)
    if not ordered:
        return None
    return round(ordered[max(0, min(len(ordered), math.ceil(len(ordered) * share)) - 1)], 2)


def figures(samples):
    """Per mode: POSTs, how many were acknowledged, their p50 / p99 / mean ms."""
    found = {}
    for mode, runs in samples.items():
        acknowledged = [ms for ms, status in runs if status == 303]
        found[mode] = {"posts": len(runs), "acknowledged": len(acknowledged),
                       "p50_ms": round(statistics.median(acknowledged), 2) if acknowledged else None, "p99_ms": percentile(acknowledged, 0.99),
                       "mean_ms": round(statistics.fmean(acknowledged), 2) if acknowledged else None}
    on, local = found["on"], found["local"]
    for figure in ("p50", "p99"):
        both = on[f"{figure}_ms"] is not None and local[f"{figure}_ms"] is not None
        found[f"{figure}_on_minus_local_ms"] = round(on[f"{figure}_ms"] - local[f"{figure}_ms"], 2) if both else None
    return found


def run(stack, plan, worker_class, posts=None):
    from .pages import reader_pages

    prepare_role(stack)
    posts = posts or reader_pages(stack)["post"][:50]
    servers = make_servers(stack, worker_class)
    try:
        start_all(servers.values())
        for mode in MODES:  # connections and templates warm
            warm = HttpClient(servers[mode].port)
            comment_once(warm, posts[0], 0, "warm")
            warm.close()
        samples = measure(servers, posts, plan.sync_cost_rounds, plan.sync_cost_per_round)
    finally:
        stop_all(servers.values())
    result = {"rounds": plan.sync_cost_rounds, "posts_per_round": plan.sync_cost_per_round,
              "settings": settings_in_force(stack), **figures(samples)}
    log(f"sync commit: on p50 {result['on']['p50_ms']} p99 {result['on']['p99_ms']} ms; "
        f"local p50 {result['local']['p50_ms']} p99 {result['local']['p99_ms']} ms")
    return result
