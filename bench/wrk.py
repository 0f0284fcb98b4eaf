"""Running wrk (Debian's package) and reading its figures.

Every run is bounded (-d seconds, --timeout) and goes to 127.0.0.1 only; the
Lua scripts end with report.lua's done(), which prints one JSON line.
"""
import json
import os
import resource
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from .debian_tools import debian_tool
from .http_client import SITE_HOST

LUA_DIR = Path(__file__).resolve().parent
# One client thread, as issue #17 measured: on the 2-CPU machine every core
# wrk takes is one the server under test does not get.
THREADS = 1
CONNECTIONS = 32


@dataclass
class WrkResult:
    requests: int
    seconds: float
    throughput: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    bytes_per_response: float
    errors: dict
    client_cpu_seconds: float = 0.0   # wrk's own CPU time (user + system)

    def as_dict(self):
        return asdict(self)


def ensure_wrk():
    """wrk's path, installed with apt-get when missing and we are root."""
    return debian_tool("wrk")


def run_wrk(url, seconds, script="report.lua", script_args=(), threads=THREADS,
            connections=CONNECTIONS):
    """One bounded wrk run against `url` (127.0.0.1 only)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"the benchmark only loads 127.0.0.1, not {url}")
    argv = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
            "-H", f"Host: {SITE_HOST}", "-s", str(LUA_DIR / script), url]
    if script_args:
        argv += ["--", *map(str, script_args)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60,
                            env={**os.environ, "BENCH_LUA_DIR": str(LUA_DIR)})
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    settle(url)
    figures = parse(result.stdout, result.stderr)
    figures.client_cpu_seconds = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 3)
    return figures


def settle(url, timeout=10.0):
    """Wait until the server has drained what wrk left queued (a sync worker
    still serves connections wrk has closed): two quick answers in a row, so
    that the next measurement does not pay for this one."""
    base = url.split("/", 3)[:3]
    probe = "/".join(base) + "/healthz"
    deadline, quick = time.monotonic() + timeout, 0
    while quick < 2 and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            urllib.request.urlopen(urllib.request.Request(probe, headers={"Host": SITE_HOST}), timeout=5).read()
        except urllib.error.HTTPError:
            pass  # the ceiling knows no /healthz: its 404 is an answer too
        except OSError:
            time.sleep(0.1)
            continue
        quick = quick + 1 if time.monotonic() - started < 0.1 else 0


def parse(stdout, stderr=""):
    line = next((l for l in stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures:\n{stdout}\n{stderr}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = raw["duration_us"] / 1e6
    latency = raw["latency_us"]
    requests = raw["requests"]
    return WrkResult(
        requests=requests, seconds=round(seconds, 3),
        throughput=round(requests / seconds, 1) if seconds else 0.0,
        p50_ms=latency["p50"] / 1000, p90_ms=latency["p90"] / 1000, p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        bytes_per_response=round(raw["bytes"] / requests, 1) if requests else 0.0,
        errors=raw["errors"],
    )
