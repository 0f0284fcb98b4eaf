"""The stack's PostgreSQL members, each run by its Patroni agent.

Each member has a configuration folder, `<state>/patroni/<pg0|pg1|pg2>/`,
which Patroni reads in name order and merges:

    10-cluster.yml  deploy/patroni/cluster.yml, the cluster-wide settings
                    shared with docker-compose (ttl, synchronous mode,
                    pg_rewind, PostgreSQL parameters)
    20-stack.yml    what this local stack changes (trust on loopback, fsync
                    off, initdb options, etcd's address)
    30-member.yml   this member: name, ports, data folder, apply delay, tags

The last two are JSON (valid YAML), so this tool needs only the standard
library. Copies, not links, so that the unprivileged user reads them from a
private clone. A member's data lives in `<state>/<pg0|pg1|pg2>/`, its
agent's and PostgreSQL's output in `<state>/logs/<name>.log`.
"""
import json
import os
import shutil
import signal
import urllib.error
import urllib.request
from pathlib import Path

from . import system
from .config import REPO
from .system import say

CLUSTER_SETTINGS = REPO / "deploy" / "patroni" / "cluster.yml"
POST_BOOTSTRAP = REPO / "deploy" / "patroni" / "post-bootstrap.sh"
NAMESPACE = "/blogstack/"
SUPERUSER = "postgres"

# Local speed over crash safety, and room for the whole test suite. A killed
# process keeps what it wrote in the page cache, so fsync off survives every
# fault the stack simulates (only the machine crashing would not).
STACK_PARAMETERS = {
    "fsync": "off",
    "max_connections": 300,
    "shared_buffers": "128MB",
    "checkpoint_timeout": "30s",   # frequent restartpoints: a killed member restarts fast
    "log_min_duration_statement": -1,
}


def member_folder(config, member):
    return config.path("patroni", member.name)


def data_dir(config, member):
    return config.path(member.name)


def log_file(config, member):
    return config.path("logs", f"{member.name}.log")


def pidfile(config, member):
    return member_folder(config, member) / "patroni.pid"


def stack_settings(config):
    """20-stack.yml: the local stack's part, the same for its three members."""
    return {
        "scope": config.cluster_name,
        "namespace": NAMESPACE,
        "etcd3": {"hosts": [f"127.0.0.1:{config.etcd_port}"]},
        "bootstrap": {
            "dcs": {"postgresql": {"parameters": STACK_PARAMETERS}},
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "no-sync"],
            "post_bootstrap": f"sh {config.path('patroni', POST_BOOTSTRAP.name)}",
        },
        "postgresql": {
            "bin_dir": str(Path(system.postgres_bin("postgres")).parent),
            "authentication": {role: {"username": SUPERUSER}
                               for role in ("superuser", "replication", "rewind")},
            # Loopback only, no passwords: a development and test stack, never a deployment.
            "pg_hba": ["host all all 127.0.0.1/32 trust",
                       "host replication all 127.0.0.1/32 trust"],
            "parameters": {"unix_socket_directories": ""},
            "basebackup": [{"checkpoint": "fast"}, "no-sync"],
        },
    }


def member_settings(config, member, apply_delay, tags=None):
    """30-member.yml: one member's identity and its own settings."""
    return {
        "name": member.name,
        "restapi": {"listen": f"127.0.0.1:{member.api_port}",
                    "connect_address": f"127.0.0.1:{member.api_port}"},
        "postgresql": {
            "listen": f"127.0.0.1:{member.port}",
            "connect_address": f"127.0.0.1:{member.port}",
            "data_dir": str(data_dir(config, member)),
            "pgpass": str(member_folder(config, member) / "pgpass"),
            # Read by the member only while it is a standby (REPLICA_APPLY_DELAY,
            # `localstack.py delay`); Patroni writes it into postgresql.conf.
            "recovery_conf": {"recovery_min_apply_delay": apply_delay or "0"},
        },
        "tags": tags or {},
    }


def write_config(config, member, apply_delay, tags=None):
    """The member's configuration folder, written afresh (see the module docstring)."""
    folder = member_folder(config, member)
    folder.mkdir(parents=True, exist_ok=True)
    system.give_to_run_user(folder.parent)
    system.give_to_run_user(folder)
    script = config.path("patroni", POST_BOOTSTRAP.name)
    shutil.copyfile(POST_BOOTSTRAP, script)
    files = {
        "10-cluster.yml": CLUSTER_SETTINGS.read_text(),
        "20-stack.yml": json.dumps(stack_settings(config), indent=2),
        "30-member.yml": json.dumps(member_settings(config, member, apply_delay, tags), indent=2),
    }
    for name, text in files.items():
        (folder / name).write_text(text + "\n")
    for path in [script, *(folder / name for name in files)]:
        system.give_to_run_user(path)


def cluster_settings_wanted(config):
    """The cluster-wide settings (bootstrap.dcs) as Patroni merges them from a
    member's folder: Patroni's own loader, on the Python it runs on, reads
    the YAML, so this tool needs no YAML parser."""
    loader = ("import json, sys; from patroni.config import Config; "
              "print(json.dumps(Config(sys.argv[1], validator=None).get('bootstrap')['dcs']))")
    result = system.run(["/usr/bin/python3", "-c", loader, str(member_folder(config, config.members[0]))],
                        env={"PATH": system.SYSTEM_PATH}, cwd=config.state_dir)
    return json.loads(result.stdout)


def agent_pid(config, member):
    pid = system.read_pid(pidfile(config, member))
    return pid if system.pid_alive(pid, "patroni") else None


def postmaster_pid(config, member):
    pid = system.read_pid(data_dir(config, member) / "postmaster.pid")
    return pid if system.pid_alive(pid, "postgres") else None


def start_agent(config, member):
    """Start the member's agent, which starts (or bootstraps, or clones) PostgreSQL."""
    if agent_pid(config, member):
        return
    patroni = system.program("patroni")
    if not Path("/usr/lib/python3/dist-packages/etcd").is_dir():
        system.install_or_explain("patroni")  # its etcd3 support needs python3-etcd
    for port in (member.api_port, *(() if postmaster_pid(config, member) else (member.port,))):
        system.wait_port_free(port)
    bin_dir = Path(system.postgres_bin("postgres")).parent
    say(f"patroni {member.name} ({member.alias}): PostgreSQL on :{member.port}, REST API on :{member.api_port}")
    env = {"PATH": f"{bin_dir}:{system.SYSTEM_PATH}", "LANG": "C.UTF-8",
           "HOME": str(member_folder(config, member))}
    pid = system.spawn([patroni, str(member_folder(config, member))], log_file(config, member),
                       env=env, cwd=member_folder(config, member))
    pidfile(config, member).write_text(f"{pid}\n")


def kill(config, member):
    """Host loss: the agent and PostgreSQL (postmaster and backends) SIGKILLed
    together. The leader key stays in etcd until its ttl runs out."""
    killed = system.kill_tree(agent_pid(config, member), "patroni")
    # Patroni detaches the postmaster (its parent is PID 1), so it is a tree of its own.
    return system.kill_tree(postmaster_pid(config, member), "postgres") or killed


def stop(config, members, timeout=90):
    """A clean stop of several members at once: each agent shuts its
    PostgreSQL down and, if it leads, gives the leader key up (so stop the
    standbys before the leader, or none is left to be promoted). Returns
    the members that were running."""
    agents = {member: agent_pid(config, member) for member in members}
    for member, pid in agents.items():
        if pid:
            os.kill(pid, signal.SIGTERM)
    for member, pid in agents.items():
        if pid:
            system.stop_pid(pid, "patroni", timeout=timeout)  # waits; SIGKILL if it hangs
        postmaster = postmaster_pid(config, member)
        if postmaster:  # left by an agent killed earlier, or by the SIGKILL above: a fast shutdown
            system.stop_pid(postmaster, "postgres", timeout, signal.SIGINT)
    return [member for member, pid in agents.items() if pid]


def api(member, path, body=None, method=None, timeout=3.0):
    """(status, JSON or text) of one call to the member's REST API; (None, error) if it is down."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"{member.api_url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status, _decoded(reply.read())
    except urllib.error.HTTPError as error:
        return error.code, _decoded(error.read())
    except OSError as error:
        return None, str(error)


def _decoded(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace").strip()


def own_settings(config, member):
    """The member's 30-member.yml as last written."""
    return json.loads((member_folder(config, member) / "30-member.yml").read_text())


def reload(config, member, apply_delay=None, tags=None):
    """Change the member's apply delay or tags (None: keep), and have its
    running agent read its configuration again (at its next loop)."""
    current = own_settings(config, member)
    if apply_delay is None:
        apply_delay = current["postgresql"]["recovery_conf"]["recovery_min_apply_delay"]
    write_config(config, member, apply_delay, current["tags"] if tags is None else tags)
    def answered():
        reply = api(member, "/reload", body={}, method="POST")
        return reply if reply[0] is not None else None

    # An agent still starting may not answer yet (it may even read the new files itself).
    status, answer = system.wait_until(answered, 30, interval=0.2) or (None, "no answer in 30s")
    if status not in (200, 202):
        raise SystemExit(f"[stack] {member.alias} ({member.name}): reload refused: {status} {answer}")
