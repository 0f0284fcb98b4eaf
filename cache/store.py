"""The Redis side of the page cache: look up, store, invalidate — each one
round trip through the guarded connection (cache/connection.py), each a
Lua script."""
import os
from dataclasses import dataclass

from routing.lsn import current_primary_lsn

from . import conf, scripts
from .connection import log_reader, redis_guard
from .entry import PageCacheEntry
from .outage import invalidation_lost
from .redis_guard import REDIS_ERRORS
from .redis_keys import EPOCH_KEY, GENERATION_KEY, LOG_KEY, STATS_KEY, key_prefix, lease_key, now_ms

FRESH, INVALIDATED, BEHIND_PIN, PAST_TTL, ABSENT = 1, 2, 3, 4, 0


@dataclass
class Lookup:
    state: int
    full_key: str
    entry: PageCacheEntry = None
    leased: bool = False
    newest_lsn: int = 0       # the newest invalidation of what the page shows
    stale_ok: bool = False    # its previous copy may still be served (within B)


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


def lookup(page_key, min_lsn, lease_token, replication):
    """One round trip: the entry and its validity, and the fill lease when
    it should be refilled now (scripts.LOOKUP says when). `replication` is
    routing's ReplicationView. None when Redis is unavailable."""
    def run(client):
        return _scripts_for(client).lookup(args=[
            key_prefix(), page_key, min_lsn, now_ms(), lease_token,
            int(conf.lease_seconds() * 1000), 1 if conf.lsn_gating() else 0,
            replication.caught_up_lsn, int(replication.bound_seconds * 1000)])

    reply = redis_guard().call(run)
    if reply is None:
        return None
    state, generation, meta, body, snapshot, tags, fresh_until, _, leased, newest, stale_ok = reply
    full_key = f"{key_prefix()}{generation.decode() if isinstance(generation, bytes) else generation}:{page_key}"
    entry = None
    if state != ABSENT:
        entry = PageCacheEntry.from_fields(snapshot, tags, meta, body, fresh_until)
    return Lookup(state=state, full_key=full_key, entry=entry, leased=bool(leased),
                  newest_lsn=int(newest or 0), stale_ok=bool(stale_ok))


def store(full_key, lease_token, entry, lifetime_seconds):
    """Store unless an invalidation or a newer entry makes it stale; True if stored."""
    fields = entry.to_fields()

    def run(client):
        return _scripts_for(client).store(args=[
            full_key, lease_token or "", fields["s"], fields["t"], fields["h"], fields["b"],
            fields["x"], int(lifetime_seconds * 1000), 1 if conf.lsn_gating() else 0, now_ms()])

    return redis_guard().call(run) == 1


def release_lease(full_key, lease_token):
    def run(client):
        lease = lease_key(full_key)
        if client.get(lease) == lease_token.encode():
            client.delete(lease)

    redis_guard().call(run)


def record_invalidation(tags):
    """Raise each tag's record to the primary's LSN now (after the commit).
    If Redis does not take it, the outage policy bumps the generation when
    Redis is trusted again (cache/outage.py)."""
    lsn = current_primary_lsn()

    def run(client):
        return _scripts_for(client).invalidate(keys=list(tags), args=[lsn, now_ms(), " ".join(tags)])

    if redis_guard().call(run) is None:
        invalidation_lost()
    return lsn


@dataclass
class InvalidationBatch:
    generation: bytes
    epoch: bytes
    tags: set
    last_id: bytes
    gap: bool
    waited_out: bool = False  # Redis held the read its whole wait and nothing came


LOG_START = b"0-0"
LOG_READ = 1000  # more in one read than this, and the memory tiers start afresh


def read_invalidations(after_id, wait=0.0):
    """One round trip: the cache generation, Redis's data epoch (a new one
    if Redis has none: it lost its data), and the tags invalidated after
    the log entry `after_id` (None: from the log's end, nothing to apply).
    With `wait` (seconds), Redis holds the reply until an entry arrives or
    the wait is over (XREAD BLOCK): a worker hears of an invalidation at
    once, and asks again only every `wait` while nothing happens. None when
    Redis is unavailable."""
    new_epoch = os.urandom(8).hex().encode()
    block = max(1, round(wait * 1000)) if wait > 0 else None  # redis-py: None does not block, 0 blocks forever

    def run(client):
        pipe = client.pipeline(transaction=False)
        pipe.get(GENERATION_KEY)
        pipe.set(EPOCH_KEY, new_epoch, nx=True, get=True)
        if after_id is None:
            pipe.xrevrange(LOG_KEY, count=1)
        else:
            pipe.xrange(LOG_KEY, min=after_id, max=after_id)  # still there, or trimmed past?
            pipe.xread({LOG_KEY: after_id}, count=LOG_READ + 1, block=block)
        return pipe.execute()

    if redis_guard().is_open:
        return None  # a request's probe closes it (raising the floor needs the request's database connection)
    # A waiting read needs a socket timeout longer than its wait: its own
    # client. Its failures do not open the guard: a read is in flight
    # nearly all the time, so a process paused longer than its timeout
    # (SIGSTOP, a VM's pause) would take every resume for an outage, and
    # after an outage a Redis without the `all` record starts the cache
    # afresh. The tier stops serving by itself; requests decide whether
    # Redis is out.
    try:
        reply = run(log_reader(wait))
    except REDIS_ERRORS:
        return None
    generation, epoch = reply[0], reply[1] or new_epoch
    if after_id is None:
        entries = reply[2]
        return InvalidationBatch(generation, epoch, set(), entries[0][0] if entries else LOG_START, False)
    mine_is_there, streams = bool(reply[2]), reply[3]
    new = streams[0][1] if streams else []
    # If the entry last read is gone, the log was trimmed past it (or Redis
    # lost it) and what came between is unknown: a gap, as is more than
    # one read takes.
    gap = (after_id != LOG_START and not mine_is_there) or len(new) > LOG_READ
    last_id = new[-1][0] if new else (after_id if mine_is_there else LOG_START)
    tags = {tag for _, fields in new for tag in fields.get(b"t", b"").decode().split()}
    return InvalidationBatch(generation, epoch, tags, last_id, gap, waited_out=block is not None and not new)


def increment_stats(counts):
    def run(client):
        pipe = client.pipeline(transaction=False)
        for name, value in counts.items():
            pipe.hincrby(STATS_KEY, name, value)
        return pipe.execute()

    return redis_guard().call(run) is not None


def read_stats():
    reply = redis_guard().call(lambda client: client.hgetall(STATS_KEY))
    return {k.decode(): int(v) for k, v in (reply or {}).items()}
