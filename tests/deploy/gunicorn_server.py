"""Run gunicorn with deploy/gunicorn.conf.py on a free loopback port, against
the test stack's servers (the environment `make test` exports), and stop it.

    with gunicorn(tmp_path, env={...}, app=PROBE_APP) as base:
        get(f"{base}/healthz")
        base.process                  # the master's Popen (signals, its exit)
        base.worker_pids()            # its workers now
        base.ready_worker_pids()      # those of them that logged they are ready to serve
        base.stdout()                 # with stdout="pipe": what it wrote so far
"""
import os
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from tests.fixtures.cluster import REPO, wait_until
from tests.fixtures.http_reader import FromSource, NoRedirect

CONFIG = REPO / "deploy" / "gunicorn.conf.py"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


_opener = urllib.request.build_opener(NoRedirect)


def get(url, headers=None, source=None):
    """(status, headers, body) of one GET; redirects are answers, not followed."""
    request = urllib.request.Request(url, headers=headers or {})
    opener = urllib.request.build_opener(NoRedirect, FromSource(source)) if source else _opener
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


class Served(str):
    """The base URL, with the master's process and (stdout="pipe") its stdout."""
    process: subprocess.Popen
    chunks: list
    error_log: Path

    def stdout(self):
        return b"".join(self.chunks)

    def worker_pids(self):
        pid = self.process.pid
        return {int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}

    def ready_worker_pids(self):
        """Its workers that have said "Worker ready" (deploy/gunicorn.conf.py's
        post_worker_init): a worker that is forked but still starting up
        takes no connection yet."""
        said_ready = {int(pid) for pid in re.findall(r"Worker ready \(pid: (\d+)\)", self.error_log.read_text())}
        return self.worker_pids() & said_ready


@contextmanager
def gunicorn(tmp_path, env=None, config=CONFIG, app=None, stdout="file"):
    """Serve, and yield the base URL; the server's logs go to tmp_path, its
    stdout there too (output.log) or, with stdout="pipe", into a pipe read
    as gunicorn writes (as Docker reads a container's stdout)."""
    port = free_port()
    environment = {**os.environ, "WEB_CONCURRENCY": "2",
                   "GUNICORN_ACCESSLOG": str(tmp_path / "access.log"), **(env or {})}
    argv = [sys.executable, "-m", "gunicorn", "-c", str(config), "--bind", f"127.0.0.1:{port}",
            "--error-logfile", str(tmp_path / "error.log"), *([app] if app else [])]
    with open(tmp_path / "output.log", "ab") as output:
        process = subprocess.Popen(argv, env=environment, cwd=REPO, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE if stdout == "pipe" else output, stderr=output)
    base = Served(f"http://127.0.0.1:{port}")
    base.process, base.chunks, base.error_log = process, [], tmp_path / "error.log"
    reader = threading.Thread(target=_read_all, args=(process.stdout, base.chunks), daemon=True)
    if stdout == "pipe":
        reader.start()
    try:
        wait_until(lambda: _answers(base, process, tmp_path), timeout=30, interval=0.1,
                   message="gunicorn to answer")
        yield base
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if stdout == "pipe":
            reader.join(timeout=10)


def _read_all(pipe, chunks):
    while chunk := pipe.read1(65536):
        chunks.append(chunk)


def _answers(base, process, tmp_path):
    if process.poll() is not None:
        logs = [path.read_text() for path in (tmp_path / "error.log", tmp_path / "output.log") if path.exists()]
        raise AssertionError(f"gunicorn exited with {process.returncode}:\n" + "\n".join(logs))
    try:
        get(f"{base}/healthz")  # any answer (even 400 for a host not served): a worker serves
        return True
    except OSError:
        return False
