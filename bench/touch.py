"""What a cache hit touches: instructions and cache lines per request,
counted by valgrind's callgrind, the site's hit beside the `headers`
ceiling's, without the host's noise (part "touch").

    STACK_NAME=bench python bench/run.py --only touch

Rounds of wrk on a shared 2-CPU host move by ±5 % from run to run, more
than most changes to a hit do. Here the whole path of a request through a
sync worker (gunicorn's parser, the application, the project's Response and
its write) runs in one process against an in-memory socket, the
applications taking turns, REQUESTS requests each, twice: the ceiling and
the site without an access log, then the site with the project's access
log (deploy/access_log.py) writing to a file, which gives what a line costs
beside what a hit costs (issue #17: at most 3 %). Before every request a
copy of EVICT_BYTES evicts the caches (under load a worker seldom finds its
lines still cached) and callgrind simulates a 2 MiB last-level cache: the
lines missed per request are what the request had to bring from memory. The copy's own count is measured on
its own and taken off. The counts repeat within about 1 % from run to run.

The measuring process does not start the memory tier's sync thread (its
work would be counted with the requests'): the tier is told it is in sync.
Nor the access log's flusher thread, which wakes every 0.1 s of the clock:
valgrind runs the requests some 50 times slower, so it would write a few
lines at a time, not the hundreds a worker's flush writes; the log is
flushed once per round instead (REQUESTS lines, counted with them). The
site's hit is otherwise the one the servers run.
"""
import gc
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from . import pages
from .debian_tools import debian_tool
from .http_client import SITE_HOST
from .stack import ROOT, log

REQUESTS = 300
ROUNDS = 2
EVICT_BYTES = 4 * 1024 * 1024
LAST_LEVEL = "--LL=2097152,16,64"  # 2 MiB, 16-way, 64-byte lines
APPS = ("ceiling", "site", "site_logged", "evict_only")
TRIGGER = re.compile(r"^desc: Trigger: dump (\w+?)(\d+)$", re.M)
EVENTS = re.compile(r"^events: (.+)$", re.M)
SUMMARY = re.compile(r"^summary: (.+)$", re.M)
MISSED_LINES = ("ILmr", "DLmr", "DLmw")  # last-level misses: instruction reads, data reads, data writes


def run(stack, server_port, hot, folder):
    """Count the hot page's hit, the site's (with and without its access
    log) and the ceiling's; the page is captured from the running site
    (`server_port`), as the ceilings' are."""
    valgrind = debian_tool("valgrind")
    captured, failed = pages.warm_and_capture(server_port, [hot])
    if failed:
        raise RuntimeError(f"no cache hit to capture for {hot}")
    with tempfile.TemporaryDirectory(prefix="touch-", dir=stack.work_dir()) as scratch:
        work = Path(scratch)  # the pages, and callgrind's dumps (a few MB): gone once read
        env = {**stack.environment(), "BENCH_CEILING_PAGES": str(pages.save_pages(captured, work / "pages.pickle")),
               "GUNICORN_WORKER_CLASS": "sync", "GUNICORN_ACCESSLOG": "", "PYTHONPATH": str(ROOT)}
        log(f"touch: {hot}, {REQUESTS} requests per application and round under callgrind")
        measured = subprocess.run([valgrind, "--tool=callgrind", "--cache-sim=yes", LAST_LEVEL,
                                   "--instr-atstart=no", sys.executable, "-m", "bench.touch", hot, str(REQUESTS)],
                                  cwd=work, env=env, timeout=1800, capture_output=True, text=True)
        if measured.returncode != 0:
            raise RuntimeError(f"the measuring process failed:\n{measured.stderr[-3000:]}")
        counts = per_request(work)
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / "touch.json").write_text(json.dumps({f"{app} {round_number}": events
                                                        for (app, round_number), events in counts.items()}) + "\n")
    return summarize(counts)


def per_request(work):
    """{(application, round): {event: count per request}} from the dumps."""
    counts = {}
    for dump in sorted(work.glob("callgrind.out.*.*")):
        text = dump.read_text()
        trigger = TRIGGER.search(text)
        if trigger is None:
            continue  # the dump at the program's end
        events = EVENTS.search(text).group(1).split()
        values = [int(value) for value in SUMMARY.search(text).group(1).split()]
        counts[(trigger.group(1), int(trigger.group(2)))] = {event: value / REQUESTS
                                                            for event, value in zip(events, values)}
    return counts


def summarize(counts):
    """Instructions and lines missed per request, the eviction's own taken
    off round by round, for each application: the mean over the rounds."""
    def figure(app, measure):
        values = [measure(counts[(app, r)]) - measure(counts[("evict_only", r)]) for r in range(ROUNDS)]
        return round(sum(values) / len(values))

    def instructions(events):
        return events["Ir"]

    def lines(events):
        return sum(events[name] for name in MISSED_LINES)

    result = {app: {"instructions": figure(app, instructions), "lines_missed": figure(app, lines)}
              for app in ("ceiling", "site", "site_logged")}
    site, logged = result["site"], result["site_logged"]
    result["site_over_ceiling"] = {name: round(site[name] / result["ceiling"][name], 3)
                                   for name in ("instructions", "lines_missed")}
    result["extra_lines_per_hit"] = site["lines_missed"] - result["ceiling"]["lines_missed"]
    # The log's part of a logged hit: what the line adds over the same hit without it.
    result["access_log"] = {name: logged[name] - site[name] for name in ("instructions", "lines_missed")}
    result["access_log_share"] = {name: round((logged[name] - site[name]) / logged[name], 4)
                                  for name in ("instructions", "lines_missed")}
    result["method"] = (f"callgrind, sync worker path in one process, {REQUESTS} requests x {ROUNDS} rounds, "
                        f"caches evicted by a {EVICT_BYTES >> 20} MiB copy before each, 2 MiB LL simulated")
    return result


# --- the measuring process (under valgrind) ------------------------------------
class MemorySocket:
    """A client socket holding one request, taking whatever is written."""

    def __init__(self, request):
        self.unread, self.sent = request, 0

    def recv_into(self, buffer, size=0):
        taken = self.unread[:len(buffer)]
        self.unread = self.unread[len(taken):]
        buffer[:len(taken)] = taken
        return len(taken)

    def recv(self, size):
        taken, self.unread = self.unread[:size], self.unread[size:]
        return taken

    def sendall(self, data):
        self.sent += len(data)

    def sendmsg(self, buffers):
        head, body = buffers  # deploy/http_response.py write_whole's two
        self.sent += len(head) + len(body)
        return len(head) + len(body)

    def send(self, data):
        self.sent += len(data)
        return len(data)

    def setblocking(self, flag):
        pass

    def settimeout(self, seconds):
        pass

    def shutdown(self, how):
        pass

    def close(self):
        pass

    def fileno(self):
        return -1

    def getsockname(self):
        return ("127.0.0.1", 8000)


class RecordingSocket(MemorySocket):
    """A MemorySocket that keeps what is written: to check the answer once."""

    written = b""

    def sendall(self, data):
        super().sendall(data)
        self.written += bytes(data)

    def sendmsg(self, buffers):
        self.written += b"".join(buffers)
        return super().sendmsg(buffers)


def sync_worker():
    """A sync worker built as gunicorn builds it, with the project's config."""
    sys.argv = ["gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "wsgi:application"]
    from gunicorn.app.wsgiapp import WSGIApplication

    from deploy import worker_process

    app = WSGIApplication()
    worker = app.cfg.worker_class(1, os.getpid(), [], app, 30, app.cfg, app.cfg.logger_class(app.cfg))
    worker_process.install(app.cfg, worker.log)  # as the project's workers do in init_process
    return worker, app


def access_logger(logger_class, path):
    """The project's access logger (`logger_class`) writing to `path`,
    without its flusher thread (see the module's docstring). It gets
    settings of its own: a worker's are settled once installed
    (deploy/http_response.py settle_config) and no longer take a change."""
    from gunicorn.config import Config

    cfg = Config()
    cfg.set("accesslog", str(path))
    logger = logger_class(cfg)
    logger._flusher = "the measurement flushes"  # not None: access() starts no thread
    return logger


def check_logged(path, expected):
    """Every logged request left one whole line, a hit's."""
    lines = Path(path).read_text().splitlines()
    if len(lines) != expected or not all(" 200 " in line and " cache=HIT " in line for line in lines):
        raise SystemExit(f"the access log holds {len(lines)} lines, {expected} hits expected: {lines[:2]}")


def measure(hot, requests):
    from cache import memory, memory_sync

    worker, gunicorn_app = sync_worker()
    site, quiet = gunicorn_app.wsgi(), worker.log
    logged = access_logger(gunicorn_app.cfg.logger_class, Path("access.log").absolute())
    gc.freeze()  # as deploy/gunicorn.conf.py's pre_fork does once the site is loaded
    memory_sync.ensure_running = lambda: None  # see the module's docstring
    memory.tier.usable_until = float("inf")
    from deploy import request_clock
    from deploy.http_response import offering_prepared

    from bench import ceiling_app

    ceiling, site = offering_prepared(ceiling_app.application), offering_prepared(site)
    # name -> (application, logger); the eviction alone runs no request
    runs = {"ceiling": (ceiling, quiet), "site": (site, quiet), "site_logged": (site, logged), "evict_only": (None, quiet)}
    request = f"GET {hot} HTTP/1.1\r\nHost: {SITE_HOST}\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n".encode()
    listener, client = MemorySocket(b""), ("127.0.0.1", 40000)

    def one(sock=None):
        worker.handle(listener, sock or MemorySocket(request), client)

    def use(name):
        # The request is timed only for a logger that writes lines, as in
        # the project's workers (deploy/request_clock.py).
        worker.wsgi, worker.log = runs[name]
        request_clock.install(worker.log)

    for name in ("ceiling", "site", "site_logged"):  # warm: the site's first request fills its memory tier
        use(name)
        for _ in range(requests):
            one()
    logged.flush()
    use("site")
    answer = RecordingSocket(request)
    one(answer)
    if b"\r\nX-Cache: HIT\r\n" not in answer.written:
        raise SystemExit(f"the site did not answer {hot} from its cache: {answer.written[:300]!r}")
    evict = bytearray(EVICT_BYTES)
    for round_number in range(ROUNDS):
        for name in APPS:
            use(name)
            callgrind("-i", "on")
            callgrind("-z")
            for _ in range(requests):
                bytes(evict)
                if worker.wsgi is not None:
                    one()
            if worker.log is logged:
                logged.flush()
            callgrind("-d", f"{name}{round_number}")
    check_logged("access.log", requests * (1 + ROUNDS))


def callgrind(*arguments):
    subprocess.run(["callgrind_control", *arguments, str(os.getpid())], check=True, capture_output=True)


if __name__ == "__main__":
    sys.path[:0] = [str(ROOT / "site")]
    measure(sys.argv[1], int(sys.argv[2]))  # the dumps, in the working directory, are the result
