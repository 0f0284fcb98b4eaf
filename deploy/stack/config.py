"""Where a local stack lives and which ports it uses.

Three stacks can run side by side on one machine, each with its own ports and
data: `dev` (`make up`), `test` (`make test`) and `bench` (`make bench`).
`dev` takes SPEC's ports, overridable with PG_PORT, REPLICA_PORTS, REDIS_PORT
and WEB_PORT; the others derive theirs from STACK_PORT_BASE so two checkouts
(or two helpers) can run their suites at once.
"""
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# name -> (primary port, web port); replicas take the next ports, Redis +10.
# The test and bench ports sit below Linux's ephemeral range (32768-60999):
# a client socket that happened to take a server's port as its own would
# otherwise block that server's restart for a minute (TIME_WAIT).
PORT_BASES = {"dev": (54320, 8000), "test": (25320, 25340), "bench": (26320, 26340)}
REPLICA_NAMES = ("replica1", "replica2")


@dataclass
class StackConfig:
    name: str
    pg_port: int
    replica_ports: list
    redis_port: int
    web_port: int
    replica_apply_delay: str
    state_dir: Path = field(default=None)

    @property
    def replicas(self):
        """(name, port) for each replica."""
        return list(zip(REPLICA_NAMES, self.replica_ports))

    def path(self, *parts):
        return self.state_dir.joinpath(*parts)

    def database_url(self, port=None):
        return f"postgres://postgres@127.0.0.1:{port or self.pg_port}/blog"

    def environment(self):
        """The settings' environment for code that talks to this stack."""
        return {
            "STACK_NAME": self.name,
            "STACK_STATE_DIR": str(self.state_dir),
            "DATABASE_URL": self.database_url(),
            "REPLICA_URLS": ",".join(self.database_url(p) for _, p in self.replicas),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "WEB_PORT": str(self.web_port),
            "PG_PORT": str(self.pg_port),
            "REPLICA_PORTS": ",".join(str(p) for p in self.replica_ports),
            "REDIS_PORT": str(self.redis_port),
        }


def load(name=None):
    """The stack named by `name` or STACK_NAME, with ports from the environment."""
    name = name or os.environ.get("STACK_NAME", "dev")
    kind = name.split("-")[0] if name.split("-")[0] in PORT_BASES else "test"
    if kind == "dev":
        pg_port = int(os.environ.get("PG_PORT", 54320))
        replica_ports = _ports(os.environ.get("REPLICA_PORTS"), pg_port)
        redis_port = int(os.environ.get("REDIS_PORT", 63790))
        web_port = int(os.environ.get("WEB_PORT", 8000))
    else:
        base = int(os.environ.get("STACK_PORT_BASE", PORT_BASES[kind][0]))
        pg_port, replica_ports = base, [base + 1, base + 2]
        redis_port, web_port = base + 10, base + 20
    config = StackConfig(
        name=name,
        pg_port=pg_port,
        replica_ports=replica_ports,
        redis_port=redis_port,
        web_port=web_port,
        replica_apply_delay=os.environ.get("REPLICA_APPLY_DELAY", "0"),
    )
    config.state_dir = state_dir_for(name)
    return config


def _ports(text, pg_port):
    if not text:
        return [pg_port + 1, pg_port + 2]
    ports = [int(p) for p in text.split(",") if p.strip()]
    if len(ports) != len(REPLICA_NAMES):
        raise SystemExit(f"REPLICA_PORTS needs {len(REPLICA_NAMES)} ports, got {text!r}")
    return ports


def state_dir_for(name):
    """`.state/<name>` in the clone, or under /tmp when the clone is private.

    PostgreSQL runs as an unprivileged user; a clone under /root (mode 700)
    is out of its reach, so the state then lives in a per-clone folder in /tmp.
    """
    inside = REPO / ".state" / name
    if os.geteuid() != 0 or _world_traversable(REPO):
        return inside
    digest = hashlib.sha1(str(REPO).encode()).hexdigest()[:8]
    return Path("/tmp") / f"blogstack-{digest}" / name


def _world_traversable(path):
    for folder in [path, *path.parents]:
        if not os.stat(folder).st_mode & 0o001:
            return False
    return True
