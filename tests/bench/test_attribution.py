"""The mixed workload's attribution of load per request class and server
(bench/attribution.py), read from each response's Server-Timing, and its
steady-state hit ratio."""
from bench.attribution import (cold_misses, cross_check, db_usage, member_of, parse_server_timing,
                               queries_by_class, read_queries, request_class, steady_state)
from bench.consistency import Event

RENDERED = 'cache;dur=1.20;desc="none", db;dur=3.40;desc="replica1, 5 queries", app;dur=9.10'
HIT = 'cache;dur=0.05;desc="memory", db;dur=0.00;desc="0 queries", app;dur=0.07'


def get(path="/p/", start=0.0, x_cache="HIT", server="", queries=0, pinned=False, status=200, client="reader-1"):
    return Event(kind="read", client=client, path=path, start=start, end=start + 0.01, status=status,
                 x_cache=x_cache, pinned=pinned, db_server=server, db_queries=queries)


def post(start=0.0, server="default", queries=6):
    return Event(kind="write", client="writer-1", path="/p/comments/", start=start, end=start + 0.02,
                 status=303, db_server=server, db_queries=queries)


def test_server_timing_keeps_commas_inside_a_description():
    """Check that the db metric's description, which holds a comma, is read
    whole, and each metric keeps its duration."""
    metrics = parse_server_timing(RENDERED)
    assert metrics["db"] == {"dur": 3.4, "desc": "replica1, 5 queries"}
    assert metrics["cache"] == {"dur": 1.2, "desc": "none"}
    assert metrics["app"] == {"dur": 9.1, "desc": ""}


def test_db_usage_names_the_server_or_none():
    """Check that a render names its server and count, a hit names no server,
    and a missing or unreadable header counts as nothing."""
    assert db_usage(RENDERED) == ("replica1", 5)
    assert db_usage(HIT) == ("", 0)
    assert db_usage('db;dur=2.0;desc="default, 1 query"') == ("default", 1)
    assert db_usage("") == ("", 0)
    assert db_usage('db;desc="on the moon"') == ("", 0)


def test_requests_are_classed_by_method_and_pin():
    """Check that a GET without the pin is anonymous, with it pinned, and a
    comment POST is a post whatever cookie it carried."""
    assert request_class(get()) == "anonymous"
    assert request_class(get(pinned=True)) == "pinned"
    assert request_class(post()) == "post"


def test_the_snapshot_probe_is_not_a_read_query():
    """Check that a rendered GET's count loses the routing's snapshot probe,
    a POST's count is kept whole, and a hit has none."""
    assert read_queries(get(server="replica1", queries=5)) == 4
    assert read_queries(post(queries=6)) == 6
    assert read_queries(get()) == 0


def test_primary_share_is_taken_per_class():
    """Check that writers' pinned renders on the primary and POSTs do not
    count against the anonymous readers' share."""
    events = [get(server="replica1", queries=5), get(server="replica2", queries=5),
              get(server="default", queries=3, x_cache="MISS"),
              get(server="default", queries=5, pinned=True), post()]
    found = queries_by_class(events)
    everything = sum(entry["total"] for entry in found.values())
    on_primary = sum(entry["queries"].get("default", 0) for entry in found.values())
    assert on_primary / everything == 0.6  # all requests together: the writers' load hides the readers'
    assert found["anonymous"]["queries"] == {"default": 2, "replica1": 4, "replica2": 4}
    assert found["anonymous"]["primary_share"] == 0.2
    assert found["pinned"]["primary_share"] == 1.0
    assert found["post"]["total"] == 6
    assert found["anonymous"]["rendered"] == 3 and found["anonymous"]["requests"] == 3


def test_only_a_page_first_seen_as_a_miss_is_a_cold_miss():
    """Check that a page's first response, rendered now, is cold, and a later
    miss of the same page (a refill) is not, whoever asked first."""
    events = [get("/a/", 2.0, "MISS"), get("/a/", 1.0, "MISS", pinned=True), get("/b/", 3.0, "HIT"),
              get("/b/", 4.0, "MISS"), get("/c/", 5.0, "MISS")]
    assert cold_misses(events) == {1, 4}


def test_steady_state_leaves_out_warm_up_pinned_and_cold_misses():
    """Check that the hit ratio counts anonymous 200 GETs after the warm-up,
    HIT and STALE from the cache, a refill's MISS against it, and sets the
    cold misses apart."""
    events = [get("/warm/", 0.5, "MISS", server="replica1", queries=3),       # warm-up
              get("/a/", 2.0, "MISS", server="replica1", queries=3),          # cold
              get("/a/", 3.0, "HIT"), get("/a/", 4.0, "STALE"), get("/a/", 5.0, "HIT"),
              get("/a/", 6.0, "MISS", server="replica2", queries=3),          # a refill
              get("/a/", 6.5, "MISS", server="default", queries=3, pinned=True),   # a writer's own read
              get("/a/", 7.0, "HIT", status=503), post(8.0)]
    found = steady_state(events, warm_until=1.0)
    assert found["outcomes"] == {"cold MISS": 1, "HIT": 2, "STALE": 1, "MISS": 1}
    assert found["considered"] == 4
    assert (found["hit_ratio"], found["hit_only_ratio"], found["stale_share"]) == (0.75, 0.5, 0.25)
    assert found["warm_misses_by_server"] == {"replica2": 1}


def test_aliases_map_to_the_members_whoever_leads():
    """Check that `default` is the member leading now and replica3 the first
    member (REPLICA_URLS lists the second, third, then first member)."""
    assert member_of("default", "primary") == "primary"
    assert member_of("default", "replica1") == "replica1"
    assert member_of("replica3", "replica1") == "primary"
    assert member_of("replica2", "primary") == "replica2"


def test_cross_check_sets_responses_beside_pg_stat_statements():
    """Check that GETs' read queries and POSTs' queries are summed per member
    and set beside that member's SELECTs."""
    by_class = queries_by_class([get(server="replica1", queries=5), get(server="default", queries=4, pinned=True),
                                 post(queries=6)])
    statements = {"primary": {"reads": 5}, "replica1": {"reads": 4}, "replica2": {"reads": 0}}
    found = cross_check(by_class, statements, leader="primary")
    assert found["primary"] == {"get_reads": 3, "post_queries": 6, "pg_stat_statements_selects": 5,
                                "get_reads_over_selects": 0.6}
    assert found["replica1"]["get_reads_over_selects"] == 1.0
    assert found["replica2"]["get_reads_over_selects"] is None
