"""gunicorn servers for the benchmark, every one on the production config
(deploy/gunicorn.conf.py: workers, threads, keep-alive, recycling, preload,
the access logger); only the application, its access log and the worker
class differ.

    server = GunicornServer("project", port, "gthread", env, log_dir)
    server.start().wait_ready(); ...; server.cpu_seconds(); server.stop()

| kind    | application                                   | access log |
|---------|-----------------------------------------------|------------|
| bare    | ceiling_app, Content-Type + Content-Length     | off        |
| gunicorn | the same, on gunicorn's own worker classes    | off        |
| headers | ceiling_app, the project's hit headers         | off        |
| ceiling | ceiling_app, the project's hit headers         | on         |
| project | the site (wsgi:application)                    | on         |
| quiet   | the site                                       | off        |
| stock   | Django's per-site cache (plain_django + stock_settings) | on |
| nocache | the site's Django without the fast path        | on         |

The ceilings run bench/ceiling.conf.py: the same settings without the
project's fork hooks (they start the site's pollers); `gunicorn` runs
bench/stock_workers.conf.py, which also puts back gunicorn's own workers. Each server is
started in its own session and stopped by its own pid (SIGTERM, then
SIGKILL of its group), never by name.
"""
import collections
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from .stack import ROOT

PROJECT_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
CEILING_CONFIG = ROOT / "bench" / "ceiling.conf.py"
STOCK_WORKERS_CONFIG = ROOT / "bench" / "stock_workers.conf.py"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# After SIGCONT, each worker must beat (gunicorn's heartbeat) before its
# master looks at the beats. A gthread worker beats within 0.1 s; an idle
# sync worker sits in a select of up to 15 s that the pause does not cut
# short, so it is woken by SIGWINCH (which gunicorn's workers ignore: the
# select returns, its deadline long past, and the worker beats).
RESUME_GAP = 0.2
OWNER = re.compile(r"pid=(\d+)")


@dataclass(frozen=True)
class Kind:
    app: str
    settings: str = "settings"
    config: object = PROJECT_CONFIG
    access_log: bool = True
    env: tuple = ()


CEILING_APP = "bench.ceiling_app:application"
KINDS = {
    "bare": Kind(CEILING_APP, config=CEILING_CONFIG, access_log=False, env=(("BENCH_CEILING_HEADERS", "bare"),)),
    "gunicorn": Kind(CEILING_APP, config=STOCK_WORKERS_CONFIG, access_log=False,
                     env=(("BENCH_CEILING_HEADERS", "bare"),)),
    "headers": Kind(CEILING_APP, config=CEILING_CONFIG, access_log=False),
    "ceiling": Kind(CEILING_APP, config=CEILING_CONFIG),
    "project": Kind("wsgi:application"),
    "quiet": Kind("wsgi:application", access_log=False),
    "stock": Kind("bench.plain_django:application", settings="bench.stock_settings"),
    "nocache": Kind("bench.plain_django:application"),
}


class GunicornServer:
    def __init__(self, kind, port, worker_class, env, log_dir, extra_env=None, label=None):
        """`label` names its logs (access-<label>.log, web-<label>.log);
        by default `<kind>-<worker class>`. Servers of one kind started by
        different parts need their own, or the later one empties the
        earlier one's logs when it starts."""
        self.kind, self.port, self.worker_class = kind, port, worker_class
        self.name = label or f"{kind}-{worker_class}"
        self.spec = KINDS[kind]
        self.access_log = log_dir / f"access-{self.name}.log"
        self.error_log = log_dir / f"web-{self.name}.log"
        self.env = {**env, "DJANGO_SETTINGS_MODULE": self.spec.settings, "GUNICORN_WORKER_CLASS": worker_class,
                    "GUNICORN_ACCESSLOG": str(self.access_log) if self.spec.access_log else "",
                    **dict(self.spec.env), **(extra_env or {})}
        self.process = None
        self.paused = False

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        for path in (self.access_log, self.error_log):
            path.write_text("")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(self.spec.config),
             "--bind", f"127.0.0.1:{self.port}", "--error-logfile", str(self.error_log), self.spec.app],
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
        return self

    def wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see {self.error_log}")
            if self.answers():
                return self
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer on :{self.port} within {timeout}s")

    def answers(self):
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                return response.status in (200, 404)  # the ceiling knows no /healthz
        except urllib.error.HTTPError as error:
            return error.code == 404
        except OSError:
            return False

    # --- what the processes cost -------------------------------------------
    def workers(self):
        """The pids of the master's children (its workers)."""
        return children_of(self.process.pid)

    def cpu_seconds(self):
        """CPU time (user + system) of the master and its workers so far,
        workers that already exited included (reaped into the master's)."""
        total = process_cpu_ticks(self.process.pid, include_reaped=True)
        total += sum(process_cpu_ticks(pid) for pid in self.workers())
        return total / CLOCK_TICKS

    def connections_per_worker(self):
        """How many client connections each worker holds now (`ss`), most
        first: with keep-alive, gthread workers keep theirs between requests."""
        try:
            listing = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{self.port} )"],
                                     capture_output=True, text=True, timeout=10).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None  # no `ss` (iproute2): the figure is left out
        held = collections.Counter(int(pid) for pid in OWNER.findall(listing))
        return sorted(held.values(), reverse=True)

    def worker_memory(self):
        """[{pid, rss_kb, pss_kb, private_kb}] of each worker: RSS counts
        the pages shared with the master (preload), PSS a fair share of
        them, private what the worker alone holds."""
        return [memory_of(pid) for pid in self.workers()]

    # --- pausing: a server not under measurement costs the machine nothing --
    def pause(self):
        """SIGSTOP the master and its workers (one process group) at once.
        Idle, a site's server still wakes ~30 times a second per worker
        (its pollers ask PostgreSQL and Redis): eight of them took 0.9 of
        the machine's two CPUs, the databases' share included."""
        if not self.paused and self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self):
        """The workers first, then the master: its heartbeat check must not
        see the pause as workers that hung (it would kill them)."""
        if not self.paused:
            return
        for pid in self.workers():
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGWINCH)
        time.sleep(RESUME_GAP)
        os.kill(self.process.pid, signal.SIGCONT)
        self.paused = False

    def stop(self, timeout=25):
        if self.process is None or self.process.poll() is not None:
            return
        self.resume()  # a stopped process would keep the SIGTERM pending
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def children_of(parent):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields and int(fields[1]) == parent:
                found.append(int(entry))
    return found


def _stat_fields(pid):
    """/proc/<pid>/stat after the command name: fields 3.. (state, ppid, ...)."""
    try:
        with open(f"/proc/{pid}/stat") as source:
            return source.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_cpu_ticks(pid, include_reaped=False):
    fields = _stat_fields(pid)
    if not fields:
        return 0
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return utime + stime + (cutime + cstime if include_reaped else 0)


def memory_of(pid):
    figures = {"pid": pid, "rss_kb": None, "pss_kb": None, "private_kb": None}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as source:
            kb = {name: int(value.split()[0]) for name, _, value in (line.partition(":") for line in source)
                  if name in ("Rss", "Pss", "Private_Clean", "Private_Dirty")}
    except OSError:
        return figures
    figures.update(rss_kb=kb.get("Rss"), pss_kb=kb.get("Pss"),
                   private_kb=kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0))
    return figures


def start_all(servers, timeout=90):
    """Start several servers at once and wait until each answers."""
    for server in servers:
        server.start()
    for server in servers:
        server.wait_ready(timeout)
    return servers


def stop_all(servers):
    for server in servers:
        server.stop()
