"""Counters kept on the servers themselves, read around each measurement:
the page cache's `pc:stats` hash in Redis (hit, stale, miss, bypass flushed
at most once a second per process; `render` counted at once) and the stock
cache's miss counter (bench.stock_renders)."""
import time

import redis

from .stock_renders import RENDERS_KEY


class Counters:
    def __init__(self, port):
        self.client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)

    def page_cache(self):
        try:
            raw = self.client.hgetall("pc:stats")
        except redis.RedisError:
            return {}
        return {key.decode(): int(value) for key, value in raw.items()}

    def renders(self):
        return self.page_cache().get("render", 0)

    def stock_renders(self):
        try:
            return int(self.client.get(RENDERS_KEY) or 0)
        except redis.RedisError:
            return 0

    def wait_stable(self, read, quiet=0.5, timeout=15.0):
        """`read()` once it has stopped changing for `quiet` seconds: a
        server still rendering what a finished run left queued is not idle."""
        deadline = time.monotonic() + timeout
        value = read()
        while time.monotonic() < deadline:
            time.sleep(quiet)
            again = read()
            if again == value:
                return value
            value = again
        return value

    def keys(self):
        return self.client.dbsize()


def delta(after, before):
    return {key: after.get(key, 0) - before.get(key, 0) for key in set(after) | set(before)}
