"""The stack's etcd: one member on 127.0.0.1, where Patroni keeps the
cluster's state (the leader key, members, the /sync key, the configuration).

One member is enough on one machine: it is up exactly when the members are.
Production runs three on separate hosts (docs/failover.md). Its ports derive
from the stack's (config.etcd_port, config.etcd_peer_port), so stacks and
checkouts side by side never share one.
"""
import base64
import json
import urllib.request

from . import system
from .system import say


def data_dir(config):
    return config.path("etcd")


def pidfile(config):
    return config.path("etcd.pid")


def client_url(config):
    return f"http://127.0.0.1:{config.etcd_port}"


def running(config):
    return system.pid_alive(system.read_pid(pidfile(config)), "etcd")


def healthy(config, timeout=1.0):
    try:
        with urllib.request.urlopen(f"{client_url(config)}/health", timeout=timeout) as reply:
            return json.load(reply).get("health") == "true"
    except (OSError, ValueError):
        return False


def read_cluster_key(config, name, namespace):
    """The JSON value Patroni keeps under <namespace><cluster>/<name> (e.g.
    `sync`), through etcd's v3 JSON gateway; None when absent or unreadable."""
    key = f"{namespace}{config.cluster_name}/{name}".encode()
    body = json.dumps({"key": base64.b64encode(key).decode()}).encode()
    request = urllib.request.Request(f"{client_url(config)}/v3/kv/range", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=3) as reply:
            found = json.load(reply).get("kvs") or []
        return json.loads(base64.b64decode(found[0]["value"])) if found else None
    except (OSError, ValueError, KeyError):
        return None


def start(config):
    if not running(config):
        binary = system.program("etcd")
        folder = data_dir(config)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        system.give_to_run_user(folder)
        for port in (config.etcd_port, config.etcd_peer_port):
            system.wait_port_free(port)
        say(f"etcd on :{config.etcd_port}")
        peer = f"http://127.0.0.1:{config.etcd_peer_port}"
        pid = system.spawn([
            binary, "--name", config.cluster_name, "--data-dir", str(folder),
            "--listen-client-urls", client_url(config), "--advertise-client-urls", client_url(config),
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
            "--initial-cluster", f"{config.cluster_name}={peer}",
            "--initial-cluster-token", config.cluster_name, "--initial-cluster-state", "new",
            # Every agent rewrites its member key each loop: keep one hour of
            # history, not all of it, so a long-lived stack's database stays small.
            "--auto-compaction-mode", "periodic", "--auto-compaction-retention", "1h",
            "--logger", "zap", "--log-outputs", "stderr",
        ], config.path("logs", "etcd.log"), env={"PATH": system.SYSTEM_PATH}, cwd=config.state_dir)
        pidfile(config).write_text(f"{pid}\n")
    if not system.wait_until(lambda: healthy(config), 30, interval=0.1):
        raise SystemExit(f"[stack] etcd did not become healthy on :{config.etcd_port} "
                         f"(see {config.path('logs', 'etcd.log')})")


def stop(config):
    """After the Patroni agents only: a leader cut off from etcd demotes itself."""
    return system.stop_pid(system.read_pid(pidfile(config)), "etcd")
