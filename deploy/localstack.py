#!/usr/bin/env python3
"""Start, check and stop the local stack: PostgreSQL primary + 2 streaming
replicas, Redis, and (with --web) the site under gunicorn plus its scheduler.

    python deploy/localstack.py up [--web]      # idempotent; exits once ready
    python deploy/localstack.py down            # stops what it started, by pid
    python deploy/localstack.py status          # JSON
    python deploy/localstack.py env             # shell exports: addresses, SECRET_KEY, ... for manage.py
    python deploy/localstack.py pause|resume replica1
    python deploy/localstack.py delay replica1 2s
    python deploy/localstack.py stop|start primary|replica1|replica2|redis
    python deploy/localstack.py rebuild replica1

STACK_NAME picks the stack (dev, test, bench); see stack/config.py for ports.
Only the standard library is used, so it runs before the venv exists.
"""
import argparse
import json
import shlex
import sys
import time

from stack import config as stack_config
from stack import postgres, redis, system, web


def servers_up(config):
    return (postgres.running(config.path("primary"))
            and all(postgres.running(config.path(name)) for name, _ in config.replicas)
            and redis.running(config))


def up(config, with_web):
    started = time.monotonic()
    if servers_up(config) and (not with_web or web.web_running(config)):
        system.say(f"stack {config.name} already running")
        return
    system.ensure_run_user()
    for folder in (config.state_dir, config.path("logs")):
        folder.mkdir(parents=True, exist_ok=True)
        system.give_to_run_user(folder)
    postgres.start_primary(config)
    for name, port in config.replicas:
        postgres.start_replica(config, name, port)
    redis.start(config)
    postgres.wait_streaming(config)
    system.say(f"databases and redis of stack {config.name} ready "
               f"in {time.monotonic() - started:.1f}s (state in {config.state_dir})")
    if with_web:
        web.prepare(config)
        web.start(config)
        password = config.path("editor_password").read_text().strip()
        system.say(f"site on http://127.0.0.1:{config.web_port}/ — editor login: editor / {password}")


def down(config):
    stopped = []
    if web.stop(config):
        stopped.append("web")
    if redis.stop(config):
        stopped.append("redis")
    for name, _ in reversed(config.replicas):
        if postgres.stop(config.path(name)):
            stopped.append(name)
    if postgres.stop(config.path("primary")):
        stopped.append("primary")
    system.say(f"stack {config.name}: stopped {', '.join(stopped) or 'nothing (was not running)'}")


def status(config):
    replicas = {
        name: {"port": port, "running": postgres.running(config.path(name)),
               "ready": postgres.is_ready(port)}
        for name, port in config.replicas
    }
    return {
        "name": config.name,
        "state_dir": str(config.state_dir),
        "primary": {"port": config.pg_port, "running": postgres.running(config.path("primary")),
                    "ready": postgres.is_ready(config.pg_port)},
        "replicas": replicas,
        "redis": {"port": config.redis_port, "running": redis.running(config),
                  "ready": redis.ping(config.redis_port)},
        "web": {"port": config.web_port, "running": web.web_running(config)},
    }


def replica_port(config, name):
    ports = dict(config.replicas)
    if name not in ports:
        raise SystemExit(f"[stack] unknown replica {name!r}; choose one of {', '.join(ports)}")
    return ports[name]


def start_or_stop(config, action, component):
    if component == "redis":
        redis.start(config) if action == "start" else redis.stop(config)
    elif component == "primary":
        datadir = config.path("primary")
        if action == "start":
            postgres.start(datadir, config.path("logs", "primary.log"), config.pg_port)
        else:
            postgres.stop(datadir)
    else:
        port = replica_port(config, component)
        if action == "start":
            postgres.start_replica(config, component, port)
        else:
            postgres.stop(config.path(component), mode="immediate")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "status", "env", "pause", "resume",
                                            "delay", "start", "stop", "rebuild"])
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
    elif command in ("pause", "resume"):
        postgres.set_replay_paused(replica_port(config, _one(args)), command == "pause")
    elif command == "delay":
        name, delay = _two(args)
        postgres.set_apply_delay(replica_port(config, name), delay)
    elif command in ("start", "stop"):
        start_or_stop(config, command, _one(args))
    elif command == "rebuild":
        name = _one(args)
        postgres.rebuild_replica(config, name, replica_port(config, name))
        postgres.wait_streaming(config)


def _one(args):
    if len(args) != 1:
        raise SystemExit("[stack] this command takes one name, e.g. replica1")
    return args[0]


def _two(args):
    if len(args) != 2:
        raise SystemExit("[stack] usage: delay <replica> <interval>, e.g. delay replica1 2s")
    return args


if __name__ == "__main__":
    sys.exit(main())
