"""The machine side of the local stack: binaries, the unprivileged user, processes.

PostgreSQL refuses to run as root, and CI runs as root, so when we are root
the servers run as the system user `blogstack` (created on first use).
Missing server packages are installed with apt-get when we are root.
"""
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

RUN_USER = "blogstack"
PACKAGES = {"postgres": "postgresql (15)", "redis-server": "redis-server"}


def say(message):
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def is_root():
    return os.geteuid() == 0


def ensure_run_user():
    """The user the servers run as: `blogstack` when root, else ourselves."""
    if not is_root():
        return pwd.getpwuid(os.geteuid()).pw_name
    try:
        pwd.getpwnam(RUN_USER)
    except KeyError:
        say(f"creating system user {RUN_USER} to run PostgreSQL and Redis")
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", RUN_USER],
            check=True,
        )
    return RUN_USER


def give_to_run_user(path):
    if is_root():
        entry = pwd.getpwnam(RUN_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def as_run_user(argv):
    """argv prefixed so that it runs as the unprivileged user."""
    if is_root():
        return ["runuser", "-u", RUN_USER, "--", *argv]
    return list(argv)


def run(argv, check=True, quiet=False, **kwargs):
    result = subprocess.run(as_run_user(argv), capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise SystemExit(
            f"[stack] {' '.join(argv)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result


def postgres_bin(tool):
    """Path of a PostgreSQL 15 server tool, installing the server if needed."""
    found = _find_postgres_bin(tool)
    if found:
        return found
    install_or_explain("postgres")
    found = _find_postgres_bin(tool)
    if not found:
        raise SystemExit(f"[stack] {tool} still missing after installing PostgreSQL")
    return found


def _find_postgres_bin(tool):
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(f"{folder}/{tool}") and "/15/" in folder:
            return f"{folder}/{tool}"
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(f"{folder}/{tool}"):
            return f"{folder}/{tool}"
    return shutil.which(tool)


def redis_bin():
    return shutil.which("redis-server") or (install_or_explain("redis-server") or shutil.which("redis-server"))


def install_or_explain(binary):
    package = {"postgres": "postgresql", "redis-server": "redis-server"}[binary]
    if not is_root() or not shutil.which("apt-get"):
        raise SystemExit(
            f"[stack] {binary} is missing. Install the Debian package {PACKAGES[binary]}, "
            f"e.g. `sudo apt-get install -y {package}`, then run this again."
        )
    say(f"{binary} is missing: installing {package} with apt-get")
    _no_default_cluster()
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)


def _no_default_cluster():
    """Debian's postgresql package would create and start a cluster on :5432; we want none."""
    conf = Path("/etc/postgresql-common/createcluster.conf")
    conf.parent.mkdir(parents=True, exist_ok=True)
    if not conf.exists() or "create_main_cluster = false" not in conf.read_text():
        with conf.open("a") as out:
            out.write("\ncreate_main_cluster = false\n")


def pid_alive(pid, expect=None):
    """True when `pid` runs and, if given, its command line contains `expect`."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
        return False
    return expect is None or expect in cmdline


def read_pid(pidfile):
    try:
        return int(Path(pidfile).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop_pid(pid, expect, timeout=10.0, sig=signal.SIGTERM):
    """Stop one process we started, if it is still the one we started."""
    if not pid_alive(pid, expect):
        return False
    os.kill(pid, sig)
    if not wait_until(lambda: not pid_alive(pid), timeout):
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 5)
    return True


def port_free(port):
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def wait_port_free(port, timeout=70):
    """A just-closed client connection may hold a port for up to a minute
    (TIME_WAIT); wait for it rather than fail to start."""
    if port_free(port):
        return
    say(f"port {port} is held (a closing connection or another program); waiting up to {timeout}s")
    if not wait_until(lambda: port_free(port), timeout, interval=0.5):
        raise SystemExit(f"[stack] port {port} is in use by another program")


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
