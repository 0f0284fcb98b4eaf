"""The Redis side of the page cache: look up, store, invalidate — each one
round trip through the breaker (cache/breaker.py), each a Lua script."""
import time
from dataclasses import dataclass

from django.db import connections

from routing.lsn import CURRENT_PRIMARY_LSN_SQL

from . import conf, scripts
from .breaker import breaker
from .entry import PageCacheEntry

FRESH, INVALIDATED, BEHIND_PIN, PAST_TTL, ABSENT = 1, 2, 3, 4, 0


@dataclass
class Lookup:
    state: int
    full_key: str
    entry: PageCacheEntry = None
    leased: bool = False
    newest_lsn: int = 0
    newest_at: float = 0.0


class Scripts:
    """The Lua scripts registered on one Redis client (EVALSHA, reloaded on NOSCRIPT)."""

    def __init__(self, client):
        self.lookup = client.register_script(scripts.LOOKUP)
        self.store = client.register_script(scripts.STORE)
        self.invalidate = client.register_script(scripts.INVALIDATE)


_scripts = {}


def _scripts_for(client):
    found = _scripts.get(id(client))
    if found is None:
        found = _scripts[id(client)] = Scripts(client)
    return found


def key_prefix():
    return f"pc:{conf.app_version()}:"


def now_ms():
    return int(time.time() * 1000)


def lookup(page_key, min_lsn, lease_token):
    """One round trip: the entry and its validity, and the fill lease when it is not fresh.
    None when Redis is unavailable."""
    def run(client):
        return _scripts_for(client).lookup(args=[
            key_prefix(), page_key, min_lsn, now_ms(), lease_token,
            int(conf.lease_seconds() * 1000), 1 if conf.lsn_gating() else 0])

    reply = breaker().call(run)
    if reply is None:
        return None
    state, generation, meta, body, snapshot, tags, fresh_until, newest_at, leased, newest = reply
    full_key = f"{key_prefix()}{generation.decode() if isinstance(generation, bytes) else generation}:{page_key}"
    entry = None
    if state != ABSENT:
        entry = PageCacheEntry.from_fields(snapshot, tags, meta, body, fresh_until)
    return Lookup(state=state, full_key=full_key, entry=entry, leased=bool(leased),
                  newest_lsn=int(newest or 0), newest_at=int(newest_at or 0) / 1000)


def store(full_key, lease_token, entry, lifetime_seconds):
    """Store unless an invalidation or a newer entry makes it stale; True if stored."""
    fields = entry.to_fields()

    def run(client):
        return _scripts_for(client).store(args=[
            full_key, lease_token or "", fields["s"], fields["t"], fields["h"], fields["b"],
            fields["x"], int(lifetime_seconds * 1000), 1 if conf.lsn_gating() else 0, now_ms()])

    return breaker().call(run) == 1


def release_lease(full_key, lease_token):
    def run(client):
        lease = f"pc:lease:{full_key}"
        if client.get(lease) == lease_token.encode():
            client.delete(lease)

    breaker().call(run)


def primary_lsn():
    """The primary's position, measured as the router measures snapshots."""
    with connections["default"].cursor() as cursor:
        cursor.execute(CURRENT_PRIMARY_LSN_SQL)
        return int(cursor.fetchone()[0])


def tag_key(tag):
    return f"pc:tag:{tag}"


def record_invalidation(tags):
    """Raise each tag's record to the primary's LSN now (after the commit).
    If Redis is out, the breaker opens and its closing bumps the generation."""
    lsn = primary_lsn()

    def run(client):
        return _scripts_for(client).invalidate(keys=[tag_key(t) for t in tags], args=[lsn, now_ms()])

    breaker().call(run)
    return lsn


def increment_stats(counts):
    def run(client):
        pipe = client.pipeline(transaction=False)
        for name, value in counts.items():
            pipe.hincrby("pc:stats", name, value)
        return pipe.execute()

    return breaker().call(run) is not None


def read_stats():
    reply = breaker().call(lambda client: client.hgetall("pc:stats"))
    return {k.decode(): int(v) for k, v in (reply or {}).items()}
