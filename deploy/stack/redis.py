"""A Redis 7 server for the page cache and rate limits, on 127.0.0.1.

`maxmemory-policy volatile-lru`: only keys with a TTL (page entries, leases,
rate-limit windows) are ever evicted; the invalidation records and the cache
generation carry no TTL, so memory pressure can never lose an invalidation.
"""
import socket
import subprocess

from . import system
from .system import say

MAXMEMORY = "256mb"


def pidfile(config):
    return config.path("redis", "redis.pid")


def running(config):
    return system.pid_alive(system.read_pid(pidfile(config)), "redis-server")


def ping(port, timeout=0.5):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start(config):
    if running(config):
        return
    folder = config.path("redis")
    folder.mkdir(parents=True, exist_ok=True)
    system.give_to_run_user(folder)
    system.wait_port_free(config.redis_port)
    say(f"redis on :{config.redis_port}")
    system.run([
        system.redis_bin(), "--port", str(config.redis_port), "--bind", "127.0.0.1",
        "--daemonize", "yes", "--pidfile", str(pidfile(config)),
        "--logfile", str(config.path("logs", "redis.log")), "--dir", str(folder),
        "--save", "", "--appendonly", "no",
        "--maxmemory", MAXMEMORY, "--maxmemory-policy", "volatile-lru",
    ])
    if not system.wait_until(lambda: ping(config.redis_port), 10):
        raise SystemExit(f"[stack] redis did not answer on :{config.redis_port}")


def stop(config):
    return system.stop_pid(system.read_pid(pidfile(config)), "redis-server")


def flush(config):
    subprocess.run(["redis-cli", "-p", str(config.redis_port), "FLUSHALL"], capture_output=True)
