"""The fault part's figures (bench/fault_figures.py): per phase, over the
failover's phases, when comments were refused and acknowledged again; and
synchronous replication's cost (bench/sync_cost.py)."""
from bench.consistency import Event
from bench.fault_figures import outcome_figures, recoveries, window_figures, write_outcome, writes_back
from bench.sync_cost import figures, percentile

LOST_AT = 100.0


def comment(start, status, error="", comment_id=0, client="writer-1", phase="leader lost", duration=0.05):
    return Event(kind="write", client=client, path="/posts/p/comments/", start=start, end=start + duration,
                 status=status, error=error, comment_id=comment_id, post="p", phase=phase)


def read(start, comments=(), status=200, client="writer-1", pinned=True, phase="leader lost"):
    return Event(kind="read", client=client, path="/posts/p/", start=start, end=start + 0.01, status=status,
                 post="p", comments=frozenset(comments), pinned=pinned, phase=phase)


def test_a_503_counts_as_refused_only_with_the_read_only_notice():
    """Check that a 303 is acknowledged, a 503 saying read-only is a refusal,
    and a bare 503 or a 500 is a failed write."""
    assert write_outcome(comment(1, 303, comment_id=1)) == "acknowledged"
    assert write_outcome(comment(1, 503, "read-only")) == "read-only"
    assert write_outcome(comment(1, 503, "503 without read-only notice")) == "failed"
    assert write_outcome(comment(1, 500)) == "failed"


def test_writes_come_back_with_the_first_acknowledgement_after_the_refusals():
    """Check that the seconds are counted from the loss: refusals from the
    first to the last, and writes back at the end of the first 303 that
    started after the first refusal; a POST in flight at the loss, and one
    acknowledged before the primary's death was felt, count for nothing."""
    events = [comment(99.0, 303, comment_id=1, duration=1.5),                     # in flight at the loss
              comment(100.5, 303, comment_id=2, duration=0.2),                    # before the primary died
              comment(101.0, 503, "read-only"), comment(110.0, 503, "read-only"),
              comment(119.0, 503, "read-only", duration=1.0), comment(120.5, 303, comment_id=3, duration=0.3)]
    found = writes_back(events, LOST_AT)
    assert found == {"refused": 3, "refused_without_read_only_notice": 0, "first_refused_after_s": 1.0,
                     "last_refused_after_s": 20.0, "first_acknowledged_after_s": 20.8}


def test_writes_back_says_none_when_no_comment_was_acknowledged_again():
    """Check that a failover whose writes never came back is not given a time."""
    found = writes_back([comment(101.0, 503, "read-only")], LOST_AT)
    assert found["first_acknowledged_after_s"] is None and found["refused"] == 1


def test_failed_reads_and_writes_are_counted_per_outcome():
    """Check that any read but a 200 fails (a connection error included) and
    only writes that were neither acknowledged nor refused with the notice fail."""
    events = [read(1.0), read(2.0, status=0), read(3.0, status=502), comment(4.0, 303, comment_id=1),
              comment(5.0, 503, "read-only"), comment(6.0, 500)]
    events[1].error = "ConnectionResetError: reset"
    found = outcome_figures(events)
    assert found["failed_reads"] == 2
    assert found["read_failures"] == {"ConnectionResetError: reset": 1, "502": 1}
    assert (found["read_only_503_with_message"], found["failed_writes"]) == (1, 1)


def test_window_checks_consistency_across_its_phases_only():
    """Check that a writer losing its own comment across the failover is a
    read-your-writes violation of the window, and that requests of other
    phases are neither counted nor checked."""
    events = [comment(100.0, 303, comment_id=7, phase="leader lost"),
              read(101.0, comments=(), phase="new primary"),
              read(50.0, status=0, phase="baseline")]
    found = window_figures(events, ("leader lost", "new primary"))
    assert found["read_your_writes_violations"] == 1 and found["violations"] == 1
    assert found["requests"] == 2 and found["failed_reads"] == 0


def test_recoveries_leave_out_the_faults_a_plan_did_not_run():
    """Check that a quick run without the short primary fault still gets the others' recovery times."""
    marks = [("replica2 started", 10.0), ("replica2 in rotation", 12.5), ("redis started", 20.0)]
    events = [read(20.4, status=200)]
    events[0].x_cache = "HIT"
    assert recoveries(events, marks) == {"replica2_back_in_rotation_s": 2.5,
                                         "redis_first_hit_after_start_s": 0.4}


def test_percentile_is_the_nearest_rank():
    """Check that p99 of 100 values is the 99th smallest, and of few values the largest."""
    assert percentile(list(range(1, 101)), 0.99) == 99
    assert percentile([5, 1, 3], 0.99) == 5
    assert percentile([], 0.5) is None


def test_sync_cost_compares_acknowledged_posts_only():
    """Check that the cost is on minus local, over the POSTs that got a 303."""
    samples = {"on": [(12.0, 303), (14.0, 303), (900.0, 503)], "local": [(10.0, 303), (11.0, 303)]}
    found = figures(samples)
    assert found["on"]["acknowledged"] == 2 and found["on"]["posts"] == 3
    assert found["p50_on_minus_local_ms"] == 2.5
    assert found["p99_on_minus_local_ms"] == 3.0
