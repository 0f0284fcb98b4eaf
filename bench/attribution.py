"""Who rendered what, from the responses themselves: each rendered response
names the server its queries ran on in `Server-Timing`
(`db;dur=3.1;desc="replica1, 5 queries"`; no server when no query ran), so
the mixed workload's load is attributed per request class and per server:

* `anonymous`: a GET without the pin cookie (readers, and writers whose pin
  has lapsed): SPEC 6 wants these rendered on replicas;
* `pinned`: a GET carrying the pin (a writer's own read-back): the primary
  renders it by design while no replica has the write;
* `post`: a comment POST (its reads and its writes, on the primary).

Read queries are Server-Timing's count less the routing's snapshot probe
(one `pg_last_wal_replay_lsn()` or `pg_current_wal_lsn()` before a request's
first query), which pg_stat_statements counts apart too (bench/dbstats.py).

Steady state: after a warm-up, anonymous GETs answered 200 by outcome. A
cold miss (the first response for its page in the run, rendered now) is
counted apart: no cache can have a page nobody asked for yet.
"""
import collections
import re

PRIMARY_ALIAS = "default"      # Django's alias of the primary (routing.PRIMARY)
CLASSES = ("anonymous", "pinned", "post")
METRIC = re.compile(r'\s*(?P<name>[A-Za-z0-9_.-]+)(?P<params>(?:\s*;\s*[A-Za-z0-9_.-]+\s*=\s*'
                    r'(?:"(?:[^"\\]|\\.)*"|[^,;"]*))*)\s*(?:,|$)')
PARAM = re.compile(r';\s*(?P<key>[A-Za-z0-9_.-]+)\s*=\s*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<token>[^,;"]*))')
DB_DESC = re.compile(r"^(?:(?P<server>[A-Za-z0-9_.-]+), )?(?P<queries>\d+) quer(?:y|ies)$")


def parse_server_timing(header):
    """{metric: {"dur": float or None, "desc": str}} of a Server-Timing header
    (a `desc` may hold commas inside its quotes)."""
    metrics, position = {}, 0
    header = header or ""
    while position < len(header):
        found = METRIC.match(header, position)
        if found is None or found.end() == position:
            break
        params = {m["key"]: m["quoted"] if m["quoted"] is not None else m["token"].strip()
                  for m in PARAM.finditer(found["params"])}
        duration = params.get("dur")
        metrics[found["name"]] = {"dur": float(duration) if duration else None, "desc": params.get("desc", "")}
        position = found.end()
    return metrics


def db_usage(header):
    """(server alias or "", queries) from Server-Timing's `db` metric;
    ("", 0) when it says nothing readable."""
    found = DB_DESC.match(parse_server_timing(header).get("db", {}).get("desc", "").strip())
    if found is None:
        return "", 0
    return found["server"] or "", int(found["queries"])


def request_class(event):
    if event.kind == "write":
        return "post"
    return "pinned" if event.pinned else "anonymous"


def read_queries(event):
    """The request's queries less the snapshot probe (GETs that named a server)."""
    if event.kind == "read" and event.db_server and event.db_queries:
        return event.db_queries - 1
    return event.db_queries


def queries_by_class(events):
    """{class: {"requests", "rendered", "queries": {server: n}, "total", "primary_share"}}."""
    found = {name: {"requests": 0, "rendered": 0, "queries": collections.Counter()} for name in CLASSES}
    for event in events:
        entry = found[request_class(event)]
        entry["requests"] += 1
        if event.db_server:
            entry["rendered"] += 1
            entry["queries"][event.db_server] += read_queries(event)
    for entry in found.values():
        entry["total"] = sum(entry["queries"].values())
        entry["primary_share"] = round(entry["queries"][PRIMARY_ALIAS] / entry["total"], 4) if entry["total"] else None
        entry["queries"] = dict(sorted(entry["queries"].items()))
    return found


def cold_misses(events):
    """Ids (positions in `events`, by start time) of the misses that were
    the first response for their page in the run."""
    seen, cold = set(), set()
    for index in sorted(range(len(events)), key=lambda i: events[i].start):
        event = events[index]
        if event.kind != "read":
            continue
        if event.path not in seen and event.x_cache == "MISS":
            cold.add(index)
        seen.add(event.path)
    return cold


def steady_state(events, warm_until):
    """Outcomes of anonymous GETs that started after `warm_until` and got a
    200; the hit ratio over them, cold misses set apart."""
    cold = cold_misses(events)
    outcomes = collections.Counter()
    renders = collections.Counter()
    for index, event in enumerate(events):
        if request_class(event) != "anonymous" or event.start < warm_until or event.status != 200:
            continue
        outcome = event.x_cache or "none"
        if index in cold:
            outcome = "cold MISS"
        outcomes[outcome] += 1
        if outcome == "MISS":
            renders[event.db_server or "none"] += 1
    considered = sum(outcomes.values()) - outcomes["cold MISS"]
    return {"outcomes": dict(outcomes), "considered": considered,
            "hit_ratio": ratio(outcomes["HIT"] + outcomes["STALE"], considered),
            "hit_only_ratio": ratio(outcomes["HIT"], considered),
            "stale_share": ratio(outcomes["STALE"], considered),
            "warm_misses_by_server": dict(renders)}


def ratio(part, whole):
    return round(part / whole, 4) if whole else None


def member_of(alias, leader):
    """The stack tool's member name behind a Django alias: the primary is
    whichever member leads; REPLICA_URLS lists the members second, third,
    first (deploy/stack/config.py reader_urls), so replica3 is the first."""
    if alias == PRIMARY_ALIAS:
        return leader
    return {"replica1": "replica1", "replica2": "replica2", "replica3": "primary"}.get(alias, alias)


def cross_check(by_class, statements, leader):
    """Per member: the read queries GET responses reported (less their
    snapshot probes) and the queries POST responses reported (reads and
    writes), beside the SELECTs pg_stat_statements counted there."""
    reported = {"gets": collections.Counter(), "posts": collections.Counter()}
    for name, entry in by_class.items():
        for alias, count in entry["queries"].items():
            reported["posts" if name == "post" else "gets"][member_of(alias, leader)] += count
    return {member: {"get_reads": reported["gets"][member], "post_queries": reported["posts"][member],
                     "pg_stat_statements_selects": figures["reads"],
                     "get_reads_over_selects": ratio(reported["gets"][member], figures["reads"])}
            for member, figures in statements.items()}
