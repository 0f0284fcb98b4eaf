#!/usr/bin/env python3
"""Start, check and stop the local stack: three PostgreSQL 15 members run by
Patroni with one etcd as its store (the first member leads after a fresh
start), Redis, and (with --web) the site under gunicorn plus its scheduler.

    python deploy/localstack.py up [--web]      # idempotent; starts what is stopped; exits once ready
    python deploy/localstack.py down            # stops what it started, by pid
    python deploy/localstack.py status          # JSON
    python deploy/localstack.py env             # shell exports: addresses, SECRET_KEY, ... for manage.py
    python deploy/localstack.py leader          # which member leads now
    python deploy/localstack.py pause|resume replica1
    python deploy/localstack.py delay replica1 2s
    python deploy/localstack.py stop|start primary|replica1|replica2|redis
    python deploy/localstack.py switchover primary
    python deploy/localstack.py rebuild replica1

`primary`, `replica1`, `replica2` name the members on the first, second and
third port (pg0, pg1, pg2 to Patroni), whichever of them leads now. `stop`
of a member is the loss of its host: its agent and its PostgreSQL are
SIGKILLed together, and its leader key, if it led, lives on for Patroni's
ttl (20 s): started again within it, the member leads again; later, a
standby has been promoted and it comes back as a standby (pg_rewind).
`switchover` hands the lead over cleanly. See docs/failover.md.

STACK_NAME picks the stack (dev, test, bench); see stack/config.py for ports.
Only the standard library is used, so it runs before the venv exists.
"""
import argparse
import json
import shlex
import sys
import time

from stack import cluster, etcd, patroni, postgres, redis, system, web
from stack import config as stack_config


def servers_up(config):
    return (etcd.running(config) and redis.running(config)
            and all(patroni.agent_pid(config, m) and patroni.postmaster_pid(config, m)
                    for m in config.members))


def up(config, with_web):
    started = time.monotonic()
    if servers_up(config) and (not with_web or web.web_running(config)):
        system.say(f"stack {config.name} already running; {leader_line(config)}")
        return
    system.ensure_run_user()
    system.keep_clients_off(config.ports)
    for folder in (config.state_dir, config.path("logs")):
        folder.mkdir(parents=True, exist_ok=True)
        system.give_to_run_user(folder)
    start_databases(config)
    redis.start(config)
    system.say(f"databases and redis of stack {config.name} ready "
               f"in {time.monotonic() - started:.1f}s (state in {config.state_dir}); {leader_line(config)}")
    if with_web:
        web.prepare(config)
        web.start(config)
        password = config.path("editor_password").read_text().strip()
        system.say(f"site on http://127.0.0.1:{config.web_port}/ — editor login: editor / {password}")


def start_databases(config):
    """etcd, then the members' agents, all at once. From cold, the first
    member must take the lead (SPEC's ports say so): the others start barred
    from it (Patroni's `nofailover` tag: no bootstrap, no leader race), clone
    or follow it as soon as it leads, and are freed then. Should it not be
    allowed to lead (another led when the stack stopped), whoever may lead
    does, and a switchover then hands the lead to the first member."""
    etcd.start(config)
    postgres.adopt_pre_patroni_state(config)
    first = config.members[0]
    cold = not any(patroni.agent_pid(config, m) for m in config.members)
    first_leads = cold and cluster.may_lead_first(config, first)
    barred = []
    for member in config.members:
        if not patroni.agent_pid(config, member):
            bar = first_leads and member != first
            patroni.write_config(config, member, config.replica_apply_delay, {"nofailover": True} if bar else {})
            patroni.start_agent(config, member)
            barred += [member] if bar else []
    if barred:
        cluster.wait_for_a_leader(config, timeout=60)
        for member in barred:
            patroni.reload(config, member, tags={})
    if cluster.wait_whole(config) != first and cold:
        cluster.switchover(config, first)
    cluster.apply_cluster_settings(config)


def leader_line(config):
    lead = cluster.leader(config)
    return f"{lead.alias} ({lead.name}, :{lead.port}) leads" if lead else "no member leads"


def down(config):
    """Web first, then the standbys, then the leader (so nobody is promoted
    meanwhile), then etcd, which the agents need until they are gone."""
    stopped = []
    if web.stop(config):
        stopped.append("web")
    if redis.stop(config):
        stopped.append("redis")
    lead = cluster.leader(config)
    standbys = [m for m in config.members if m != lead]
    for group in (standbys, [lead] if lead else []):
        stopped += [member.alias for member in patroni.stop(config, group)]
    stopped += postgres.stop_pre_patroni_servers(config)
    if etcd.stop(config):
        stopped.append("etcd")
    system.say(f"stack {config.name}: stopped {', '.join(stopped) or 'nothing (was not running)'}")


def status(config):
    roles = cluster.roles(config)

    def member_status(member):
        return {"name": member.name, "port": member.port, "api_port": member.api_port,
                "running": bool(patroni.agent_pid(config, member) and patroni.postmaster_pid(config, member)),
                "ready": postgres.is_ready(member.port), "role": roles.get(member.name)}

    first, *others = config.members
    lead = cluster.leader(config)
    return {
        "name": config.name,
        "state_dir": str(config.state_dir),
        "leader": lead.alias if lead else None,
        "primary": member_status(first),
        "replicas": {member.alias: member_status(member) for member in others},
        "etcd": {"port": config.etcd_port, "running": etcd.running(config), "ready": etcd.healthy(config)},
        "redis": {"port": config.redis_port, "running": redis.running(config),
                  "ready": redis.ping(config.redis_port)},
        "web": {"port": config.web_port, "running": web.web_running(config)},
    }


def start_or_stop(config, action, name):
    if name == "redis":
        redis.start(config) if action == "start" else redis.stop(config)
    elif action == "start":
        cluster.start(config, config.member(name), config.replica_apply_delay)
    else:
        cluster.kill(config, config.member(name))


def set_delay(config, name, delay):
    """recovery_min_apply_delay through the member's own Patroni settings
    (Patroni owns postgresql.conf and reverts ALTER SYSTEM on recovery settings)."""
    member = config.member(name)
    patroni.reload(config, member, apply_delay=delay)
    if not postgres.in_recovery(member.port):
        system.say(f"{member.alias} leads: its delay applies once it is a standby")
    elif not system.wait_until(lambda: postgres.apply_delay_is(member.port, delay), 30, interval=0.1):
        raise SystemExit(f"[stack] {member.alias}: the delay {delay} was not applied within 30s")


def pause_replay(config, name, paused):
    """Replay paused on a standby (it serves an old snapshot) or resumed.
    Patroni resumes a paused replay by itself unless the cluster is in
    maintenance mode, so the cluster is in it while any standby is paused:
    no automatic failover meanwhile (docs/failover.md)."""
    member = config.member(name)
    if paused:
        cluster.set_maintenance(config, True)
        postgres.set_replay_paused(member.port, True)
        return
    postgres.set_replay_paused(member.port, False)
    running = [m for m in config.members if patroni.postmaster_pid(config, m)]
    if not any(postgres.replay_paused(m.port) for m in running):
        cluster.set_maintenance(config, False)


def rebuild(config, name):
    """Throw a standby's data away and clone it again from the leader."""
    member = config.member(name)
    status_code, answer = patroni.api(member, "/reinitialize", {"force": True}, method="POST")
    if status_code != 200:
        raise SystemExit(f"[stack] {member.alias}: reinitialize refused: {status_code} {answer}")
    system.wait_until(lambda: not postgres.is_ready(member.port), 10, interval=0.1)
    cluster.wait_whole(config)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status", "env", "leader", "pause", "resume",
                                            "delay", "start", "stop", "switchover", "rebuild"])
    parser.add_argument("args", nargs="*")
    parser.add_argument("--web", action="store_true", help="also serve the site (make up)")
    options = parser.parse_args(argv)
    config = stack_config.load()
    command, args = options.command, options.args
    if command == "up":
        up(config, options.web)
    elif command == "down":
        down(config)
    elif command == "status":
        print(json.dumps(status(config), indent=2))
    elif command == "env":
        for key, value in web.shell_environment(config).items():
            print(f"export {key}={shlex.quote(value)}")
    elif command == "leader":
        lead = cluster.leader(config)
        print(f"{lead.alias} {lead.name} {lead.port}" if lead else "none")
    elif command in ("pause", "resume"):
        pause_replay(config, _one(args), command == "pause")
    elif command == "delay":
        set_delay(config, *_two(args))
    elif command in ("start", "stop"):
        start_or_stop(config, command, _one(args))
    elif command == "switchover":
        cluster.switchover(config, config.member(_one(args)))
    elif command == "rebuild":
        rebuild(config, _one(args))


def _one(args):
    if len(args) != 1:
        raise SystemExit("[stack] this command takes one name, e.g. replica1")
    return args[0]


def _two(args):
    if len(args) != 2:
        raise SystemExit("[stack] usage: delay <member> <interval>, e.g. delay replica1 2s")
    return args


if __name__ == "__main__":
    sys.exit(main())
