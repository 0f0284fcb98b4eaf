"""Where a cache hit's CPU goes: py-spy samples the project's gunicorn
workers (the default config) while wrk asks for one hot page, then each
function's share of the samples the workers spent serving. Only the thread
holding the GIL is sampled (`--gil`): what a worker's Python costs, not
where its threads wait (a thread waiting for the GIL after a system call
would count against the call it made).

    STACK_NAME=bench python bench/run.py --only profile    # part "profile"

The folded stacks land in bench/results/tmp/profile-<class>.txt (open them
with any flame graph viewer, e.g. speedscope.app); the result keeps, for
the functions that take the most, their inclusive share (the function and
everything it calls) and their own.
"""
import collections
import re
import subprocess
import sys
import threading
from pathlib import Path

from . import pages
from .http_client import HttpClient
from .stack import log
from .wrk import run_wrk

RATE = 250                 # samples per second and thread: py-spy's CPU must stay small
WARM_SECONDS = 2
FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
# A worker thread serving a connection (reading the request, the app,
# writing the response) has this frame on its stack: the share of each
# function is taken over the samples that have it.
SERVING = re.compile(r"^\w*Worker\.handle ")
SITE_PACKAGES = re.compile(r"^.*/(site-packages|lib/python3\.\d+)/")
ROOT_PREFIX = str(Path(__file__).resolve().parent.parent) + "/"


def py_spy():
    return str(Path(sys.executable).with_name("py-spy"))


def frame_name(frame):
    """`function (path)` without the line number, paths made short."""
    found = FRAME.match(frame)
    if not found:
        return frame
    path = SITE_PACKAGES.sub("", found["file"]).removeprefix(ROOT_PREFIX)
    return f"{found['function']} ({path})"


def shares(folded_lines):
    """{"samples": serving samples, "inclusive": {frame: share}, "self": {frame: share}}."""
    inclusive, own, total = collections.Counter(), collections.Counter(), 0
    for line in folded_lines:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        serving = [i for i, f in enumerate(frames) if SERVING.match(f)]
        if not serving:
            continue
        frames = frames[serving[0]:]
        total += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
        own[frames[-1]] += int(count)
    return {"samples": total, "inclusive": top_shares(inclusive, total), "self": top_shares(own, total)}


def top_shares(counter, total, count=40):
    return {frame: round(n / total, 4) for frame, n in counter.most_common(count)} if total else {}


def record(server, seconds, output):
    """py-spy on every worker of `server` for `seconds` (folded stacks to `output`)."""
    argv = [py_spy(), "record", "--pid", str(server.process.pid), "--subprocesses", "--gil", "--rate", str(RATE),
            "--duration", str(seconds), "--format", "raw", "--nonblocking", "--output", str(output)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)


def run(server, hot, seconds, folder):
    """Profile `server` (the project, warm) under wrk on the `hot` page."""
    client = HttpClient(server.port)
    if pages.fetch_hit(client, hot) is None:
        raise RuntimeError(f"{hot} is never served as a hit: nothing to profile")
    client.close()
    # Unmeasured first: every worker's Redis connections and memory tier
    # filled, as on a server that has been serving for a while.
    run_wrk(server.url + hot, WARM_SECONDS)
    folder.mkdir(parents=True, exist_ok=True)
    output = folder / f"profile-{server.worker_class}.txt"
    load = threading.Thread(target=run_wrk, args=(server.url + hot, seconds + 2))
    load.start()
    spy = record(server, seconds, output)
    load.join()
    if spy.returncode != 0 or not output.exists():
        raise RuntimeError(f"py-spy failed: {spy.stderr.strip()[-500:]}")
    found = shares(output.read_text().splitlines())
    log(f"profile {server.name}: {found['samples']} samples serving; top inclusive: "
        + ", ".join(f"{f} {s:.0%}" for f, s in list(found["inclusive"].items())[:8]))
    return {"server": server.name, "hot_page": hot, "seconds": seconds, "rate": RATE,
            "folded_stacks": str(output), **found}
