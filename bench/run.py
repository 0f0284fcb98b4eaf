#!/usr/bin/env python
"""`make bench`: every benchmark on the bench stack, results in bench/results/.

    STACK_NAME=bench python bench/run.py [--quick] [--only peers,mixed,...]

Brings the stack up (deploy/localstack.py), migrates and seeds it, runs the
parts in order (peers, profile, mixed, stampede, faults, failover, growth), writes latest.json,
latest.md and throughput.png, and always brings the stack down, even when a
part fails (the failure is in the results, and the exit status is 1).
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "site")]

from bench import (conf, consistency, failover, faults, growth, invalidation_cost, mixed, pages,  # noqa: E402
                   peers, profile_hit, report, stampede, touch)
from bench.debian_tools import debian_tool  # noqa: E402
from bench.http_client import HttpClient  # noqa: E402
from bench.servers import GunicornServer  # noqa: E402
from bench.stack import BENCH_SETTINGS, BenchStack, log  # noqa: E402
from bench.wrk import ensure_wrk  # noqa: E402
from tests.fixtures.sentry_endpoint import SentryEndpoint  # noqa: E402

PARTS = ("peers", "profile", "touch", "mixed", "stampede", "faults", "failover", "growth")
SINK = None  # the local Sentry endpoint every bench server reports to
RESULTS = ROOT / "bench" / "results"
# A quick run's results stay out of the committed ones (bench/results/tmp/ is ignored).
QUICK_RESULTS = RESULTS / "tmp" / "quick"


def versions(stack):
    import django
    import gunicorn
    import redis

    wrk = subprocess.run([ensure_wrk(), "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"python": platform.python_version(), "django": django.get_version(), "gunicorn": gunicorn.__version__,
            "redis-py": redis.__version__, "wrk": wrk.split(" [")[0].removeprefix("wrk "),
            "postgresql": stack.query("SHOW server_version")[0][0],
            "redis": redis.Redis(port=stack.ports["redis"]).info("server")["redis_version"],
            "kernel": platform.release()}


def setup_django(stack):
    """The harness itself uses the cache's API (invalidations) on this stack."""
    import django

    os.environ.update(stack.environment())
    django.setup()


def project_server(stack, worker_class):
    """The site that the profile, mixed, stampede and faults parts load (its
    logs: web-site-<class>.log, access-site-<class>.log, kept after the run)."""
    return GunicornServer("project", stack.ports["web"], worker_class, stack.environment(), stack.work_dir(),
                          label=f"site-{worker_class}")


def timed(results, name, function, *args):
    """Run one part, keeping its duration and what Sentry received meanwhile."""
    started, sentry_before = time.monotonic(), SINK.counts() if SINK else {}
    try:
        return function(*args)
    finally:
        results["meta"].setdefault("part_seconds", {})[name] = round(time.monotonic() - started, 1)
        if SINK:
            results.setdefault("sentry_envelope_items", {})[name] = SINK.since(sentry_before)


def run_parts(stack, plan, parts, results):
    universe = pages.reader_pages(stack)
    if "peers" in parts:
        results["peers"] = timed(results, "peers", peers.run, stack, plan, universe)
    choice = (results.get("peers", {}).get("worker_class") or {}).get("recommended", "gthread")
    hot = universe["post"][0]
    ranked = pages.ranked_pages(universe, plan.zipf_pages)
    server = project_server(stack, choice)
    try:
        if {"profile", "touch", "mixed", "stampede", "faults", "growth"} & set(parts):
            server.start().wait_ready()
            results["served_by"] = f"project, {choice} workers (deploy/gunicorn.conf.py)"
        if "profile" in parts:
            results["profile"] = timed(results, "profile", profile_hit.run, server, hot, plan.profile_seconds,
                                       RESULTS / "tmp")
        if "touch" in parts:
            results["touch"] = timed(results, "touch", touch.run, stack, server.port, hot, RESULTS / "tmp")
        if "mixed" in parts:
            results["mixed"], events = timed(results, "mixed", mixed.run, stack, plan, ranked, server.port)
            history = RESULTS / "tmp" / "mixed-history.json"
            history.parent.mkdir(parents=True, exist_ok=True)
            history.write_text(json.dumps(consistency.as_records(events)))
            results["mixed"]["history_file"] = str(history.relative_to(ROOT))
        if "stampede" in parts:
            results["stampede"] = timed(results, "stampede", stampede.run, stack, plan, server.port, hot)
        if "faults" in parts:
            results["faults"] = timed(results, "faults", faults.run, stack, plan, ranked, server.port,
                                      RESULTS / "tmp" / "faults-history.json")
        if "growth" in parts:  # a real page, for the invalidation measurement's entries
            client = HttpClient(server.port)
            hot_body = client.get(hot).body
            client.close()
    finally:
        server.stop()
    if "failover" in parts:
        results["failover"] = timed(results, "failover", failover.run, stack, plan, choice)
    if "growth" in parts:
        results["growth"] = timed(results, "growth", growth.run, stack, plan)
        results["growth"]["invalidation"] = timed(results, "invalidation", invalidation_cost.run,
                                                  hot_body, stack.ports["web"], plan.invalidation_pages)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the two-minute run")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {PARTS}")
    options = parser.parse_args(argv)
    plan = conf.QUICK if options.quick else conf.FULL
    parts = [p for p in options.only.split(",") if p]
    started = time.monotonic()
    stack = BenchStack()
    results = {"meta": {
        "command": "make bench QUICK=1" if plan.quick else "make bench", "plan": plan.as_dict(), "parts": parts,
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpu_count": os.cpu_count(),
        "loadavg_start": [round(v, 2) for v in os.getloadavg()],
        "commit": subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                                 capture_output=True, text=True).stdout.strip()}}
    failed = False
    global SINK
    try:
        ensure_wrk()
        if "touch" in parts:
            debian_tool("valgrind")  # now, not after the parts before it have run
        stack.up()
        SINK = SentryEndpoint().__enter__()
        stack.sentry_dsn = SINK.dsn
        stack.prepare(plan.posts)
        setup_django(stack)
        results["meta"]["versions"] = versions(stack)
        results["meta"]["app_version"] = stack.environment()["APP_VERSION"]
        results["meta"]["settings_changed"] = {**BENCH_SETTINGS, "COMMENT_RATE_LIMIT": "off",
                                               "SENTRY_DSN": "a local endpoint (tests/fixtures/sentry_endpoint.py)"}
        run_parts(stack, plan, parts, results)
    except BaseException as error:  # record it, bring the stack down, then fail
        failed = True
        results.setdefault("errors", {})["run"] = traceback.format_exc()
        log(f"failed: {error!r}")
    finally:
        if SINK:
            SINK.__exit__(None, None, None)
        stack.down()
        results["meta"]["loadavg_end"] = [round(v, 2) for v in os.getloadavg()]
        results["meta"]["duration_seconds"] = round(time.monotonic() - started, 1)
        results["meta"].setdefault("versions", {})
        # Only a whole full run replaces the committed results.
        folder = RESULTS if not plan.quick and set(parts) == set(PARTS) else QUICK_RESULTS.parent / "partial"
        folder = QUICK_RESULTS if plan.quick else folder
        report.write(results, folder)
        log(f"done in {results['meta']['duration_seconds']}s: {folder / 'latest.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
