"""Where a local stack lives and which ports it uses.

Three stacks can run side by side on one machine, each with its own ports and
data: `dev` (`make up`), `test` (`make test`) and `bench` (`make bench`).
`dev` takes SPEC's ports, overridable with PG_PORT, REPLICA_PORTS, REDIS_PORT
and WEB_PORT; the others derive theirs from STACK_PORT_BASE so two checkouts
(or two helpers) can run their suites at once.

From the first PostgreSQL port P: the three members' Patroni REST APIs on
P+3, P+4, P+5 and etcd on P+6 (clients) and P+7 (peers); Redis on P+10 and
the site on P+20 for the test and bench stacks.
"""
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# name -> (primary port, web port); replicas take the next ports, Redis +10.
# The test and bench ports sit below Linux's ephemeral range (32768-60999):
# a client socket that happened to take a server's port as its own would
# keep that server from starting for as long as it stays open. SPEC's dev
# ports lie inside it: `up` reserves them (system.keep_clients_off).
PORT_BASES = {"dev": (54320, 8000), "test": (25320, 25340), "bench": (26320, 26340)}
REPLICA_NAMES = ("replica1", "replica2")
# What the stack tool calls the members on the first, second and third port
# (the Django aliases' names), whichever of them leads now.
MEMBER_ALIASES = ("primary", *REPLICA_NAMES)
# Offsets from the first PostgreSQL port (see the module docstring).
API_PORT_OFFSET = 3
ETCD_CLIENT_OFFSET, ETCD_PEER_OFFSET = 6, 7


@dataclass(frozen=True)
class Member:
    """One PostgreSQL server under its Patroni agent."""
    name: str       # Patroni's member name: pg0, pg1, pg2 (slots, synchronous_standby_names)
    alias: str      # the stack tool's name: primary, replica1, replica2
    port: int       # PostgreSQL
    api_port: int   # Patroni's REST API

    @property
    def api_url(self):
        return f"http://127.0.0.1:{self.api_port}"


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

    @property
    def members(self):
        """The three members, in port order: the first leads after a fresh start."""
        ports = [self.pg_port, *self.replica_ports]
        return [Member(f"pg{index}", alias, port, self.pg_port + API_PORT_OFFSET + index)
                for index, (alias, port) in enumerate(zip(MEMBER_ALIASES, ports))]

    def member(self, name):
        """A member by its alias (primary, replica1, replica2) or its name (pg0...)."""
        for member in self.members:
            if name in (member.name, member.alias):
                return member
        choices = ", ".join(f"{m.alias} ({m.name})" for m in self.members)
        raise SystemExit(f"[stack] unknown member {name!r}; choose one of {choices}")

    @property
    def ports(self):
        """Every port the stack listens on, in a stable order."""
        return [*(p for m in self.members for p in (m.port, m.api_port)),
                self.etcd_port, self.etcd_peer_port, self.redis_port, self.web_port]

    @property
    def etcd_port(self):
        return self.pg_port + ETCD_CLIENT_OFFSET

    @property
    def etcd_peer_port(self):
        return self.pg_port + ETCD_PEER_OFFSET

    @property
    def cluster_name(self):
        """Patroni's scope: the cluster's name in etcd and in patronictl's output."""
        return f"blog-{self.name}"

    def path(self, *parts):
        return self.state_dir.joinpath(*parts)

    def database_url(self, port=None):
        return f"postgres://postgres@127.0.0.1:{port or self.pg_port}/blog"

    def primary_url(self):
        """Every member, libpq keeping the one that takes writes: the primary,
        whichever member leads (the site's DATABASE_URL)."""
        hosts = ",".join(f"127.0.0.1:{member.port}" for member in self.members)
        return f"postgres://postgres@{hosts}/blog?target_session_attrs=read-write"

    def reader_urls(self):
        """Every member, the first last (it leads after a fresh start): the
        site reads from those that are standbys (REPLICA_URLS), so the aliases
        replica1 and replica2 are the stack tool's replica1 and replica2, and
        a member that led and lost the lead rejoins the rotation as replica3."""
        return [self.database_url(member.port) for member in [*self.members[1:], self.members[0]]]

    def environment(self):
        """The settings' environment for code that talks to this stack."""
        return {
            "STACK_NAME": self.name,
            "STACK_STATE_DIR": str(self.state_dir),
            "DATABASE_URL": self.primary_url(),
            "REPLICA_URLS": ",".join(self.reader_urls()),
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "WEB_PORT": str(self.web_port),
            "PG_PORT": str(self.pg_port),
            "REPLICA_PORTS": ",".join(str(p) for p in self.replica_ports),
            "REDIS_PORT": str(self.redis_port),
            # For tools that watch the cluster (bench/failover.py): the
            # members' Patroni REST APIs, in port order, and etcd.
            "STACK_PATRONI_URLS": ",".join(m.api_url for m in self.members),
            "STACK_ETCD_URL": f"http://127.0.0.1:{self.etcd_port}",
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
    _refuse_port_clashes(config)
    return config


def _refuse_port_clashes(config):
    """REPLICA_PORTS, REDIS_PORT or WEB_PORT set onto a port the stack derives
    (Patroni's REST APIs, etcd) would fail later and obscurely; say it now."""
    ports = config.ports
    clashes = sorted({p for p in ports if ports.count(p) > 1})
    if clashes:
        raise SystemExit(f"[stack] port(s) {clashes} used twice by stack {config.name}; "
                         f"Patroni's APIs and etcd take PG_PORT+3 to PG_PORT+7")


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
