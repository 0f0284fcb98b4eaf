"""gunicorn servers for the benchmark, every one on deploy/gunicorn.conf.py
(the production config: workers, keep-alive, max_requests, preload, access
log), only the application and the worker class differ.

    server = GunicornServer("project", "wsgi:application", port, "gthread", env)
    server.start(); ...; server.stop()

Each is started in its own session and stopped by its own pid (SIGTERM,
then SIGKILL of its group), never by name.
"""
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from .stack import ROOT

# What each configuration serves (module:callable) and its settings module.
APPS = {
    "project": ("wsgi:application", "settings"),
    "ceiling": ("bench.ceiling_app:application", "settings"),
    "stock": ("bench.plain_django:application", "bench.stock_settings"),
    "nocache": ("bench.plain_django:application", "settings"),
}


class GunicornServer:
    def __init__(self, kind, port, worker_class, env, log_dir, extra_env=None):
        self.kind, self.port, self.worker_class = kind, port, worker_class
        self.name = f"{kind}-{worker_class}"
        app, settings_module = APPS[kind]
        self.app = app
        self.env = {**env, "DJANGO_SETTINGS_MODULE": settings_module,
                    "GUNICORN_WORKER_CLASS": worker_class, **(extra_env or {})}
        self.access_log = log_dir / f"access-{self.name}.log"
        self.error_log = log_dir / f"web-{self.name}.log"
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        for path in (self.access_log, self.error_log):
            path.write_text("")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
             "--bind", f"127.0.0.1:{self.port}", "--access-logfile", str(self.access_log),
             "--error-logfile", str(self.error_log), self.app],
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

    def stop(self, timeout=25):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


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
