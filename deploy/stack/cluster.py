"""The three members as one cluster: who leads, when the cluster is whole,
starting a member and waiting for its role, handing the lead over.

Patroni decides the roles; etcd (through any agent's REST API) says who holds
the leader key, and the leader's own pg_stat_replication says who streams
from it and which standby is synchronous. A member killed a moment ago may
still be listed by Patroni until its key expires, so liveness is always
checked on the processes themselves.
"""
from . import etcd, patroni, postgres, system
from .system import say


def view(config):
    """Patroni's view of the cluster (GET /cluster) from the first agent that answers."""
    for member in config.members:
        if patroni.agent_pid(config, member):
            status, answer = patroni.api(member, "/cluster")
            if status == 200 and isinstance(answer, dict):
                return answer
    return {}


def roles(config):
    """Patroni's role of each member (leader, sync_standby, replica) by name."""
    return {item["name"]: item.get("role") for item in view(config).get("members", [])}


def leader(config):
    """The member holding the leader key, or None (no agent up, or nobody leads)."""
    for name, role in roles(config).items():
        if role == "leader":
            return config.member(name)
    return None


def writable(member):
    return postgres.psql(member.port, "SELECT NOT pg_is_in_recovery()", check=False) == "t"


def streams_from(member):
    """name -> sync_state ('sync', 'async'...) of every standby streaming from `member`."""
    rows = postgres.psql(member.port, "SELECT application_name, sync_state FROM pg_stat_replication "
                                      "WHERE state = 'streaming'", check=False)
    return dict(line.split("|") for line in rows.splitlines()) if rows else {}


def synchronous_standby_names(member):
    """The member names in the leader's synchronous_standby_names
    ('pg1', or '2 (pg1,pg2)'; empty when it commits alone)."""
    value = postgres.psql(member.port, "SHOW synchronous_standby_names", check=False) or ""
    if "(" in value:
        value = value[value.index("(") + 1:value.rindex(")")]
    return {name.strip().strip('"') for name in value.split(",") if name.strip()}


def sync_settled(config):
    """True once the leader waits only on standbys that stream, and etcd's
    /sync key names exactly those: Patroni has finished reacting to a lost
    standby. Patroni 3.0.2 (Debian 12) keeps waiting forever on a standby
    lost while it was still promoting it to synchronous (fixed upstream in
    3.3.7 / 4.0.6); so the stack loses its hosts one settled step at a time."""
    lead = leader(config)
    if not lead or not patroni.agent_pid(config, lead) or not writable(lead):
        return True
    waited_on = synchronous_standby_names(lead)
    listed = {name for name, role in roles(config).items() if role == "sync_standby"}
    return waited_on <= set(streams_from(lead)) and waited_on == listed


def kill(config, member, timeout=30):
    """Lose a member's host (see patroni.kill), then wait until Patroni has
    settled synchronous replication without it."""
    patroni.kill(config, member)
    if not system.wait_until(lambda: sync_settled(config), timeout, interval=0.2):
        say(f"synchronous replication not settled {timeout}s after losing {member.name}: "
            f"see {config.path('logs')}")


def whole(config):
    """The leader if it accepts writes and every other member whose agent runs
    streams from it, one of them synchronously as etcd's /sync key records
    (only a standby listed there may be promoted), and no member is barred
    from promotion (see localstack.start_databases); else None."""
    lead = leader(config)
    if not lead or not writable(lead):
        return None
    others = [m.name for m in config.members if m != lead and patroni.agent_pid(config, m)]
    streams = streams_from(lead)
    members = view(config).get("members", [])
    listed = {item["name"] for item in members if item.get("role") == "sync_standby"}
    barred = [item["name"] for item in members if item.get("tags", {}).get("nofailover")]
    if all(name in streams for name in others) and (not others or listed & set(streams)) and not barred:
        return lead
    return None


def wait_whole(config, timeout=90):
    """Block until the cluster is whole (see `whole`); its leader."""
    found = system.wait_until(lambda: whole(config), timeout, interval=0.2)
    if not found:
        held = [m.port for m in config.members if system.held_by_a_connection(m.port)]
        cause = (f"; port(s) {held} taken by client connections, so their members cannot listen "
                 f"(`ss -tanp | grep :{held[0]}` names them; docs/failover.md)" if held else "")
        raise SystemExit(f"[stack] the cluster is not whole after {timeout}s: roles {roles(config)} "
                         f"(see {config.path('logs')}){cause}")
    return found


def in_role(config, member):
    """True once the member serves as what Patroni made it: the leader
    accepting writes, or a standby streaming from the leader."""
    if not patroni.agent_pid(config, member) or not postgres.is_ready(member.port):
        return False
    lead = leader(config)
    if lead == member:
        return writable(member)
    if lead:
        return member.name in streams_from(lead)
    return True  # nobody leads: up as a standby, waiting for a leader


def start(config, member, apply_delay, timeout=120):
    """Start a member's agent and wait until it serves in its role: back as
    the leader if the leader key is still its own (a restart within the ttl),
    else as a standby of the leader (after pg_rewind, or a fresh clone); then
    until the cluster is whole again (see `whole`)."""
    if view(config).get("pause"):
        raise SystemExit("[stack] the cluster is in maintenance mode (a standby's replay is paused), "
                         "in which Patroni starts no PostgreSQL: `resume` it first")
    if not patroni.agent_pid(config, member):
        patroni.write_config(config, member, apply_delay)
        patroni.start_agent(config, member)
    if not system.wait_until(lambda: in_role(config, member), timeout, interval=0.2):
        raise SystemExit(f"[stack] {member.alias} ({member.name}) not serving after {timeout}s "
                         f"(see {patroni.log_file(config, member)})")
    if leader(config):  # and ready for the next fault: a synchronous standby recorded
        wait_whole(config, timeout)


def may_lead_first(config, member):
    """Whether `member` may take the lead of a stopped cluster: Patroni lets
    only the members etcd's /sync key names (the last leader and its
    synchronous standby) lead, lest an acknowledged commit be lost."""
    sync = etcd.read_cluster_key(config, "sync", patroni.NAMESPACE)
    if not sync:
        return True
    return member.name == sync.get("leader") or member.name in (sync.get("sync_standby") or "").split(",")


def wait_for_a_leader(config, timeout):
    """Until some member leads and takes writes (true), or `timeout` (false)."""
    return system.wait_until(lambda: leader(config) is not None and writable(leader(config)),
                             timeout, interval=0.2)


def set_maintenance(config, on, timeout=30):
    """Patroni's maintenance mode (what `patronictl pause` does), on or off,
    once every running agent has seen it. In it Patroni neither fails over
    nor starts, stops or resumes PostgreSQL; out of it, every agent resumes a
    standby's paused replay at its next loop (Patroni's answer to PostgreSQL
    14+ pausing replay by itself), so a pause needs it."""
    running = [m for m in config.members if patroni.agent_pid(config, m)]
    if not running:
        raise SystemExit("[stack] no Patroni agent is running")
    status, answer = patroni.api(leader(config) or running[0], "/config", {"pause": True if on else None},
                                 method="PATCH")
    if status != 200:
        raise SystemExit(f"[stack] maintenance mode {'on' if on else 'off'} refused: {status} {answer}")

    def seen_by_all():
        views = [patroni.api(member, "/patroni")[1] for member in running]
        return all(isinstance(view, dict) and bool(view.get("pause")) == on for view in views)

    if not system.wait_until(seen_by_all, timeout, interval=0.1):
        raise SystemExit(f"[stack] not every agent saw maintenance mode {'on' if on else 'off'} in {timeout}s")


def apply_cluster_settings(config):
    """Make etcd's cluster-wide settings those of deploy/patroni/cluster.yml
    and the stack's own (Patroni writes them there only when it initialises
    the cluster): an edited file reaches existing stacks at their next `up`."""
    lead = leader(config)
    wanted = patroni.cluster_settings_wanted(config)
    _, current = patroni.api(lead, "/config")
    if current == wanted:
        return
    status, answer = patroni.api(lead, "/config", wanted, method="PUT")
    if status != 200:
        raise SystemExit(f"[stack] could not update the cluster's settings: {status} {answer}")
    say("cluster settings updated from deploy/patroni/cluster.yml; settings that need a restart "
        "take effect at the next cold start (`localstack.py down`, then `up`)")


def switchover(config, target, timeout=90):
    """Hand the lead to `target` (planned: nothing lost, writes pause for a
    few seconds). Patroni hands it only to the synchronous standby, so when
    the target is not that one, the other standby is tagged `nosync` for the
    handover: synchronous replication never stops meanwhile."""
    if not patroni.agent_pid(config, target):
        raise SystemExit(f"[stack] {target.alias} ({target.name}) is not running: start it first")
    lead = wait_whole(config)
    if lead == target:
        say(f"{target.alias} ({target.name}) already leads")
        return
    others = [m for m in config.members if m not in (lead, target) and patroni.agent_pid(config, m)]
    try:
        if roles(config).get(target.name) != "sync_standby":
            for member in others:
                patroni.reload(config, member, tags={"nosync": True})
            # etcd's /sync key, which Patroni's switchover checks, not just pg_stat_replication.
            if not system.wait_until(lambda: roles(config).get(target.name) == "sync_standby", 30, 0.2):
                raise SystemExit(f"[stack] {target.name} did not become the synchronous standby")
        say(f"switchover from {lead.name} to {target.name}")
        status, answer = patroni.api(lead, "/switchover", {"leader": lead.name, "candidate": target.name},
                                     method="POST", timeout=timeout)
        if status != 200:
            raise SystemExit(f"[stack] switchover refused: {status} {answer}")
    finally:
        for member in others:
            patroni.reload(config, member, tags={})
    if wait_whole(config) != target:
        raise SystemExit(f"[stack] {target.name} does not lead after the switchover: {roles(config)}")
