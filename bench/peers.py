"""Part 1: the ceilings and the peers, side by side, same gunicorn config,
identical bodies on the wire, for each worker class.

| config        | server (bench/servers.py)                                | load                      |
|---------------|----------------------------------------------------------|---------------------------|
| bare-hot      | bare WSGI app, the hit's body, Content-Type + -Length, no access log | one hot post page |
| gunicorn-hot  | the same on gunicorn's own workers (not the project's)  | one hot post page         |
| headers-hot   | bare WSGI app, the hit's body and headers, no access log | one hot post page         |
| ceiling-hot   | the same with the access log (the same bytes and log)    | one hot post page         |
| project-hot   | the site (cache fast path), warm                         | one hot post page         |
| quiet-hot     | the site without its access log                          | one hot post page         |
| stock-hot     | Django's per-site cache on django-redis (stock_settings) | one hot post page         |
| nocache-hot   | the site's Django without the fast path: renders         | one hot post page         |
| bare-zipf, headers-zipf, ceiling-zipf | three ceilings replaying every page of the mix    | Zipf sequence (replay.lua) |
| project-zipf  | the site, every page of the mix warm                     | Zipf sequence             |
| project-miss  | the site, pages never cached: a render from a replica    | distinct posts            |

Each repetition runs every config of both worker classes back to back (the
class order alternating), so ratios are taken between neighbours in time.
While one server is measured, every other one is paused (SIGSTOP): idle,
the site's servers still poll PostgreSQL and Redis many times a second.
Each run also counts the CPU time the server's processes (master and
workers) and wrk spent, per request; after the last repetition, the memory
of the project's workers (which have served the Zipf mix by then).
"""
import random
import statistics
import threading
import time

from . import pages, summary
from .summary import CONFIGS
from .counters import Counters
from .http_client import HttpClient
from .servers import GunicornServer, start_all, stop_all
from .stack import log
from .wrk import CONNECTIONS, THREADS, run_wrk
from .zipf import ZipfSampler, hottest_first

KINDS = ("bare", "gunicorn", "headers", "ceiling", "project", "quiet", "stock", "nocache")
CEILINGS = ("bare", "gunicorn", "headers", "ceiling")
PROJECT = ("project", "quiet")  # the site itself, with and without its access log


def plan_pages(universe, plan):
    """The hot page, the Zipf sequence, and posts that are never warmed (for misses)."""
    ranked = pages.ranked_pages(universe, plan.zipf_pages)
    sampler = ZipfSampler(len(ranked), plan.zipf_s, random.Random(11))
    sequence = [sampler.choice(ranked) for _ in range(plan.zipf_draws)]
    hot = universe["post"][0]
    warmed = set(sequence) | {hot}
    cold_posts = [path for path in hottest_first(universe["post"], seed=5) if path not in warmed]
    return hot, ranked, sequence, warmed, cold_posts


def make_servers(stack, plan, ceiling_file):
    servers = {}
    env = stack.environment()
    for offset, (kind, worker_class) in enumerate(
            (k, c) for k in KINDS for c in ("gthread", "sync") if c in plan.worker_classes):
        extra = {"BENCH_CEILING_PAGES": str(ceiling_file)} if kind in CEILINGS else None
        servers[kind, worker_class] = GunicornServer(kind, stack.ports["web"] + offset, worker_class,
                                                     env, stack.work_dir(), extra)
    return servers


def identical_bytes(servers, hot):
    """What each server sends for the hot page: body digest, body and header sizes."""
    seen = {}
    for (kind, worker_class), server in servers.items():
        client = HttpClient(server.port)
        reply = client.get(hot)
        if kind == "stock":
            reply = client.get(hot)  # the first one filled the stock cache
        client.close()
        header_bytes = sum(len(name) + len(value) + 4 for name, value in reply.headers.items())
        seen[f"{kind}-{worker_class}"] = {"status": reply.status, "body_sha256": pages.digest(reply.body),
                                          "body_bytes": len(reply.body), "header_bytes": header_bytes,
                                          "x_cache": reply.header("x-cache")}
    return {"servers": seen, "bodies_identical": len({s["body_sha256"] for s in seen.values()}) == 1}


def warm_memory_tiers(project_servers, zipf_file, plan):
    """Replay the Zipf sequence (unmeasured) on each project server: every
    worker's memory tier holds the pages it serves once it has served them,
    and a worker sees only its share of the requests, so one pass leaves each
    tier with the hot pages but not yet the tail. A page a worker has not
    served yet costs it one Redis round trip in the measurement, as in life."""
    for server in project_servers:
        run_wrk(server.url + "/", plan.tier_warm_seconds, "replay.lua", (zipf_file, THREADS))


def measure(config, server, counters, plan, files, miss_file):
    kind, load = config.split("-")
    url = server.url
    before_renders, before_stock = counters.renders(), counters.stock_renders()
    cpu_before = server.cpu_seconds()
    if load == "hot":
        args = (url + files["hot"], plan.wrk_seconds)
    elif load == "zipf":
        args = (url + "/", plan.wrk_seconds, "replay.lua", (files["zipf"], THREADS))
    else:
        args = (url + "/", plan.wrk_seconds, "replay.lua", (miss_file, THREADS))
    result, spread = run_wrk_watching(server, args, plan.wrk_seconds)
    server_cpu = server.cpu_seconds() - cpu_before
    if kind in CEILINGS:
        renders = 0  # a ceiling renders nothing (and waiting for the counters to settle takes time)
    else:
        read = counters.stock_renders if kind == "stock" else counters.renders
        renders = counters.wait_stable(read) - (before_stock if kind == "stock" else before_renders)
    figures = result.as_dict()
    figures["renders"] = renders
    figures["connections_per_worker"] = spread
    figures["render_share"] = round(renders / result.requests, 4) if result.requests else None
    # Per request wrk counted (a few more were served: those still queued
    # when it stopped), so these lean a little high, the same for every config.
    figures["server_cpu_us"] = round(server_cpu / result.requests * 1e6, 1) if result.requests else None
    figures["client_cpu_us"] = (round(result.client_cpu_seconds / result.requests * 1e6, 1)
                                if result.requests else None)
    return figures


def run_wrk_watching(server, args, seconds):
    """wrk's figures, and how its connections were spread over the workers
    halfway through (gthread keeps them: one worker holding most of them
    caps the server at what that one process can do)."""
    found = {}

    def load():
        try:
            found["result"] = run_wrk(*args)
        except Exception as error:  # raised again below, in the caller's thread
            found["error"] = error

    thread = threading.Thread(target=load)
    thread.start()
    thread.join(timeout=seconds / 2)
    spread = server.connections_per_worker() if server.worker_class == "gthread" else None
    thread.join()
    if "error" in found:
        raise found["error"]
    return found["result"], spread


def worker_memory(servers):
    """What the project's workers hold once they have served the Zipf mix,
    at the memory tier's default budget (PAGE_CACHE_MEMORY_MB)."""
    found = {}
    for (kind, worker_class), server in servers.items():
        if kind in ("project", "bare"):
            workers = server.worker_memory()
            found[f"{kind}-{worker_class}"] = {
                "workers": workers,
                **{f"median_{k}": median_or_none([w[k] for w in workers]) for k in ("rss_kb", "pss_kb", "private_kb")}}
    return found


def median_or_none(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def run(stack, plan, universe, on_servers_up=None):
    hot, ranked, sequence, warmed, cold_posts = plan_pages(universe, plan)
    work = stack.work_dir()
    files = {"hot": hot, "zipf": str(work / "zipf-sequence.txt")}
    (work / "zipf-sequence.txt").write_text("\n".join(sequence) + "\n")
    counters = Counters(stack.ports["redis"])
    servers = make_servers(stack, plan, work / "ceiling-pages.pickle")
    project_servers = [s for (kind, _), s in servers.items() if kind in PROJECT]
    started = time.monotonic()
    try:
        start_all(project_servers)
        log(f"warming {len(warmed)} pages (Zipf mix over {len(ranked)} pages, {len(sequence)} draws)")
        captured, failed = pages.warm_and_capture(project_servers[0].port, sorted(warmed))
        pages.save_pages(captured, work / "ceiling-pages.pickle")
        warm_seconds = time.monotonic() - started
        log(f"warmed in {warm_seconds:.0f}s ({len(failed)} pages never served as hits)")
        warm_memory_tiers(project_servers, files["zipf"], plan)
        start_all([s for (kind, _), s in servers.items() if kind not in PROJECT])
        checks = identical_bytes(servers, hot)
        runs = measure_all(servers, counters, plan, files, cold_posts, work)
        result = {
            "hot_page": hot, "zipf": {"pages": len(ranked), "draws": len(sequence),
                                      "distinct_pages_requested": len(set(sequence)), "s": plan.zipf_s},
            "warm": {"pages": len(warmed), "seconds": round(warm_seconds, 1), "not_hits": failed[:20],
                     "tier_replay_seconds_per_server": plan.tier_warm_seconds},
            "wrk": {"threads": THREADS, "connections": CONNECTIONS, "seconds": plan.wrk_seconds,
                    "reps": plan.reps},
            "wire": checks, "runs": runs, "memory": worker_memory(servers),
            "memory_tier_mb": memory_tier_mb(),
        }
        result.update(summary.peers(runs, plan))
        if on_servers_up is not None:
            result["extra"] = on_servers_up(servers, counters, captured)
        return result
    finally:
        stop_all(servers.values())


def memory_tier_mb():
    """The per-process memory tier budget the servers ran with (the
    harness runs with their settings: bench/run.py setup_django)."""
    from cache import conf

    return conf.memory_tier_bytes() // 2**20


def measure_all(servers, counters, plan, files, cold_posts, work):
    runs = {config: {c: [] for c in plan.worker_classes} for config in CONFIGS}
    slice_size = plan.miss_paths_per_run
    miss_slices = iter(range(0, len(cold_posts), slice_size))
    for rep in range(plan.reps):
        # Orders alternate between repetitions, so slow drifts of the machine's
        # load cancel out; compared configs always run back to back.
        classes = plan.worker_classes if rep % 2 == 0 else tuple(reversed(plan.worker_classes))
        configs = CONFIGS if rep % 2 == 0 else tuple(reversed(CONFIGS))
        for worker_class in classes:
            for config in configs:
                miss_file = None
                if config == "project-miss":
                    start = next(miss_slices, 0)
                    miss_file = work / f"miss-{rep}-{worker_class}.txt"
                    miss_file.write_text("\n".join(cold_posts[start:start + slice_size]) + "\n")
                server = servers[config.split("-")[0], worker_class]
                running_alone(server, servers.values())
                figures = measure(config, server, counters, plan, files, miss_file)
                runs[config][worker_class].append(figures)
                log(f"rep {rep + 1}/{plan.reps} {worker_class:7} {config:13} "
                    f"{figures['throughput']:8.1f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
                    f"p99 {figures['p99_ms']:6.1f} ms  server {figures['server_cpu_us'] or 0:6.0f} us/req  "
                    f"renders {figures['renders']}  connections {figures['connections_per_worker'] or '-'}")
    for server in servers.values():
        server.resume()
    return runs


SETTLE_SECONDS = 0.5  # after a resume: the site's pollers read Redis and the databases again


def running_alone(server, servers):
    """Pause every other server and run `server`: side by side in time, but
    not sharing the machine with fifteen idle servers' pollers (the issue's
    measurement was on a quiet machine)."""
    for other in servers:
        if other is not server:
            other.pause()
    if server.paused:
        server.resume()
        time.sleep(SETTLE_SECONDS)
