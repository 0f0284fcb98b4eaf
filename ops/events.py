"""The operational signals, as Sentry events an on-call person understands.

    subject           states                      signal
    replica:<alias>   in-rotation, lagging, down  routing.health.server_state_changed
    primary           up, down                    the same signal, alias "default"
    primary           promoted (per process)      routing.primary_changed: another member leads
    redis             closed, open                cache.redis_state_changed
    writes            accepted, refused           routing.readonly.write_refused (per request)

Each is reported once per change across all processes (ops/state_changes.py),
grouped in Sentry by subject and state (fingerprint ["ops", subject, state]).
"""
from cache import redis_state_changed
from routing import PRIMARY
from routing import conf as routing_conf
from routing import primary_changed
from routing.health import server_state_changed
from routing.readonly import write_refused

from .state_changes import Change, reporter, send

WRITES = "writes"


def server_change(alias, up, in_rotation, reason, role="standby"):
    """What a server's new (up, in_rotation) means for readers and writers."""
    tags = {"db.alias": alias}
    if alias == PRIMARY:
        if up:
            return Change("primary", "up", "Primary database is back: writes are accepted again.", "info", tags)
        return Change("primary", "down", f"Primary database is unreachable ({reason}): the site is read-only. "
                      "Writes get a 503 page that hands the reader's text back; reads go on from the replicas.",
                      "error", tags)
    subject = f"replica:{alias}"
    if in_rotation:
        return Change(subject, "in-rotation", f"Replica {alias} is back in rotation: it serves reads again.",
                      "info", tags)
    if up and role == "primary":
        return Change(subject, "primary", f"Member {alias} is now the primary (a promotion): it takes the "
                      "writes, and no anonymous reads.", "info", tags)
    if up and reason.startswith("lagging"):
        limit = f"{routing_conf.max_lag_seconds():g} s / {routing_conf.max_lag_bytes()} bytes"
        return Change(subject, "lagging", f"Replica {alias} left rotation: {reason}, over the limit of {limit}. "
                      "Its reads go to the other replicas (or the primary) until it catches up.", "warning", tags)
    if up:
        return Change(subject, "out", f"Replica {alias} left rotation: {reason}. Its reads go to the other "
                      "replicas (or the primary) until it is back.", "warning", tags)
    return Change(subject, "down", f"Replica {alias} is down and out of rotation ({reason}). Its reads go to "
                  "the other replicas (or the primary); it rejoins by itself once it answers again.", "warning", tags)


def redis_change(state, reason):
    if state == "open":
        # Redis is what failed: no use asking it whether another process reported it.
        return Change("redis", "open", f"Redis is unreachable ({reason}): the page cache is bypassed and every "
                      "page is rendered from the database. Readers are still served.", "error", shareable=False)
    return Change("redis", "closed", "Redis is back: the page cache serves again (pages cached before the "
                  "outage were invalidated).", "info")


def refused_change(request):
    what = f"{request.method} {request.path}" if request is not None else "a write"
    return Change(WRITES, "refused", f"Writes refused: the primary database is down, so {what} got the "
                  "read-only 503 page (the reader's text was handed back). Further refusals during this "
                  "outage are not reported one by one.", "error")


def on_server_state_changed(sender, alias, up, in_rotation, reason="", role="standby", **kwargs):
    reporter.report(server_change(alias, up, in_rotation, reason, role))
    if alias == PRIMARY and up:
        reporter.settle(WRITES, "accepted")


def on_redis_state_changed(sender, state, reason="", **kwargs):
    reporter.report(redis_change(state, reason))


def on_write_refused(sender, request=None, **kwargs):
    reporter.report(refused_change(request))


def promotion_change(old, new, refused_seconds):
    return Change("primary", "promoted", (
        f"The primary changed: {new.member} on timeline {new.timeline} (was {old.member} on timeline "
        f"{old.timeline}). This process saw no primary for {refused_seconds:.1f} s: writes got the "
        "read-only 503 meanwhile, and succeed again now."), "warning",
        {"db.primary": new.member, "db.timeline": str(new.timeline), "db.former_primary": old.member,
         "db.writes_refused_seconds": f"{refused_seconds:.1f}"}, shareable=False)


def on_primary_changed(sender, old, new, refused_seconds=0.0, **kwargs):
    """One event per process per promotion (each tells how long it refused writes)."""
    send(promotion_change(old, new, refused_seconds), deduplicated="per-process")


def connect():
    server_state_changed.connect(on_server_state_changed, dispatch_uid="ops.events.server")
    primary_changed.connect(on_primary_changed, dispatch_uid="ops.events.promotion")
    redis_state_changed.connect(on_redis_state_changed, dispatch_uid="ops.events.redis")
    write_refused.connect(on_write_refused, dispatch_uid="ops.events.writes")
