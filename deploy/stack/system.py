"""The machine side of the local stack: binaries, the unprivileged user, processes.

PostgreSQL refuses to run as root, and CI runs as root, so when we are root
the servers (PostgreSQL, its Patroni agents, etcd, Redis) run as the system
user `blogstack` (created on first use). Missing server packages are
installed with apt-get when we are root; otherwise we name them.
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
# program -> the Debian packages that bring it (Patroni's etcd3 support
# needs python3-etcd; etcdctl, from etcd-client, is for people).
PACKAGES = {
    "postgres": ["postgresql"],
    "redis-server": ["redis-server"],
    "patroni": ["patroni", "python3-etcd"],
    "etcd": ["etcd-server", "etcd-client"],
}


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


def program(name):
    """Path of a Debian-packaged program (patroni, etcd),
    installing its packages if needed."""
    found = shutil.which(name, path=SYSTEM_PATH)
    if not found:
        install_or_explain(name)
        found = shutil.which(name, path=SYSTEM_PATH)
    if not found:
        raise SystemExit(f"[stack] {name} still missing after installing {' '.join(PACKAGES[name])}")
    return found


# Debian's own programs, never a virtualenv's or pyenv's: Patroni must run on
# the Python its Debian packages were installed for.
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"


def install_or_explain(binary):
    packages = PACKAGES[binary]
    if not can_install():
        raise SystemExit(
            f"[stack] {binary} is missing. Install the Debian packages {', '.join(packages)} "
            f"(PostgreSQL 15, Patroni 3, etcd 3.4 on Debian 12), "
            f"e.g. `sudo apt-get install -y {' '.join(packages)}`, then run this again."
        )
    say(f"{binary} is missing: installing {' '.join(packages)} with apt-get")
    _no_default_cluster()
    apt_install(packages)
    if "etcd-server" in packages:
        _no_system_etcd()


def can_install():
    """Whether missing Debian packages can be installed here (root, apt-get)."""
    return is_root() and shutil.which("apt-get") is not None


def apt_install(packages):
    """Install Debian `packages`, without questions (as root)."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)


def _no_system_etcd():
    """Debian's etcd-server enables and starts a machine-wide etcd on
    2379/2380 where systemd runs; the stacks run their own, so stop that one."""
    if Path("/run/systemd/system").exists():
        subprocess.run(["systemctl", "disable", "--now", "etcd"], capture_output=True)


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


def spawn(argv, logfile, env, cwd):
    """Start a long-running server in the background as the unprivileged user,
    in a session of its own; its pid (not a wrapper's: SIGKILL must reach it)."""
    identity = {}
    if is_root():
        entry = pwd.getpwnam(RUN_USER)
        identity = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    with open(logfile, "ab") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env,
                                   cwd=cwd, start_new_session=True, **identity)
    return process.pid


def descendants(pid):
    """Every process below `pid` (children, their children...), from /proc."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], list(children.get(pid, []))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(children.get(child, []))
    return found


def kill_tree(pid, expect, timeout=10.0):
    """SIGKILL a process we started and everything below it at once, as a
    machine losing power would; wait until they are gone."""
    if not pid_alive(pid, expect):
        return False
    victims = [pid, *descendants(pid)]
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    wait_until(lambda: not any(pid_alive(v) for v in victims), timeout)
    return True


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


EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
RESERVED_PORTS = Path("/proc/sys/net/ipv4/ip_local_reserved_ports")


def keep_clients_off(ports):
    """Take the stack's ports out of the kernel's choice for client sockets.

    A client's connect() takes its own port from the ephemeral range
    (32768-60999 by default). SPEC's dev ports (54320...) lie inside it: a
    Patroni agent's connection to etcd once took 54322 while the third member
    was starting, and that member could not listen until the connection
    closed. Reserved ports are never handed out (the kernel's
    ip_local_reserved_ports); only root may reserve them, so others are told
    how."""
    try:
        low, high = (int(n) for n in EPHEMERAL_RANGE.read_text().split())
        reserved = RESERVED_PORTS.read_text().strip()
    except OSError:
        return  # no such kernel setting here (not Linux, a restricted /proc): nothing to reserve
    exposed = sorted(p for p in ports if low <= p <= high and not _listed(p, reserved))
    if not exposed:
        return
    listing = ",".join(str(p) for p in exposed)
    try:
        RESERVED_PORTS.write_text(",".join(filter(None, [reserved, listing])))
    except OSError:
        say(f"ports {listing} lie in the kernel's ephemeral range ({low}-{high}): a client "
            f"connection may take one and keep a server from starting. To reserve them, as root: "
            f"sysctl -w net.ipv4.ip_local_reserved_ports={','.join(filter(None, [reserved, listing]))}")


def _listed(port, reserved):
    """Whether `port` is in a reserved-ports list such as "8080,54320-54327"."""
    for item in filter(None, reserved.split(",")):
        low, _, high = item.partition("-")
        if int(low) <= port <= int(high or low):
            return True
    return False


def held_by_a_connection(port):
    """Whether nothing listens on `port` yet it cannot be bound: a client
    connection took it as its own port (see keep_clients_off)."""
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            return False  # a server listens there
    return not port_free(port)


def wait_port_free(port, timeout=70):
    """A just-closed client connection may hold a port for up to a minute
    (TIME_WAIT); wait for it rather than fail to start."""
    if port_free(port):
        return
    say(f"port {port} is held (a closing connection or another program); waiting up to {timeout}s")
    if not wait_until(lambda: port_free(port), timeout, interval=0.5):
        raise SystemExit(f"[stack] port {port} is in use by another program")


def wait_until(predicate, timeout, interval=0.05):
    """The predicate's first true value within `timeout` seconds, else its last."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()
