"""The consistency checker finds each kind of violation planted in a
synthetic history, and blames nothing in a clean one."""
from bench.consistency import Event, check, unpinned_regressions

BOUND = 2.0  # seconds: replica lag 1 s + SPEC's extra second


def write(client, comment_id, at, post="p"):
    return Event(kind="write", client=client, path=f"/posts/{post}/comments/", start=at - 0.05, end=at,
                 status=303, request_id=f"w{comment_id}", post=post, comment_id=comment_id)


def read(client, at, comments, post="p", pinned=False, rid=None):
    return Event(kind="read", client=client, path=f"/posts/{post}/", start=at, end=at + 0.02, status=200,
                 request_id=rid or f"r-{client}-{at}", post=post, comments=frozenset(comments), pinned=pinned)


def counts(events):
    found = check(events, BOUND)
    return {rule: found[rule]["violations"] for rule in ("read_your_writes", "bounded_staleness", "monotonic_reads")}


def test_clean_history_has_no_violation():
    """Check that a history honouring every guarantee passes, and is actually checked."""
    events = [read("w", 0.0, {1}), write("w", 2, 1.0), read("w", 1.1, {1, 2}, pinned=True),
              read("other", 1.5, {1}),                 # stale, but within B of the write: allowed
              read("other", 3.5, {1, 2}), read("w", 4.0, {1, 2})]
    found = check(events, BOUND)
    assert counts(events) == {"read_your_writes": 0, "bounded_staleness": 0, "monotonic_reads": 0}
    assert found["read_your_writes"]["checked"] == 2
    assert found["bounded_staleness"]["checked"] == 2


def test_planted_read_your_writes_violation_is_caught_with_its_ids():
    """Check that a writer's own read after the 303 that lacks the comment is reported."""
    events = [write("w", 7, 1.0), read("w", 1.2, set(), pinned=True, rid="the-bad-read")]
    found = check(events, BOUND)
    assert found["read_your_writes"]["violations"] == 1
    example = found["read_your_writes"]["examples"][0]
    assert (example["read_request_id"], example["write_request_id"], example["comment_id"]) == ("the-bad-read", "w7", 7)
    assert example["seconds_after_ack"] == 0.2


def test_read_started_before_the_acknowledgement_is_not_blamed():
    """Check that a read overlapping the write (started before the 303) counts for nothing."""
    assert counts([write("w", 7, 1.0), read("w", 0.99, set())])["read_your_writes"] == 0


def test_planted_stale_read_beyond_bound_is_caught():
    """Check that anyone's read started B after the acknowledgement must show the comment."""
    events = [write("w", 7, 1.0), read("anonymous", 1.0 + BOUND + 0.01, set())]
    assert counts(events) == {"read_your_writes": 0, "bounded_staleness": 1, "monotonic_reads": 0}
    assert counts([write("w", 7, 1.0), read("anonymous", 1.0 + BOUND - 0.01, set())])["bounded_staleness"] == 0


def test_planted_monotonic_violation_for_a_pinned_session_is_caught():
    """Check that a pinned session seeing a comment, then a page without it, is reported."""
    events = [read("w", 1.0, {3, 4}, pinned=True), read("w", 2.0, {3}, pinned=True, rid="went-back")]
    found = check(events, BOUND)
    assert found["monotonic_reads"]["violations"] == 1
    assert found["monotonic_reads"]["examples"][0]["missing_comment_ids"] == [4]
    assert found["monotonic_reads"]["examples"][0]["read_request_id"] == "went-back"


def test_unpinned_sessions_are_not_held_to_monotonic_reads():
    """Check that an anonymous flip between replicas is only counted as information."""
    events = [read("anon", 1.0, {3, 4}), read("anon", 2.0, {3})]
    assert counts(events)["monotonic_reads"] == 0
    assert unpinned_regressions(events) == 1


def test_failed_reads_are_not_taken_as_observations():
    """Check that an error page (no comments in it) is not read as a stale page."""
    failed = read("w", 1.5, set(), pinned=True)
    failed.status = 503
    assert counts([write("w", 7, 1.0), failed]) == {"read_your_writes": 0, "bounded_staleness": 0,
                                                    "monotonic_reads": 0}


def test_violation_names_the_response_that_dropped_the_pin():
    """Check that a read-your-writes violation after the pin was cleared says which response cleared it."""
    clearing = read("w", 1.1, {7}, pinned=True, rid="cleared-it")
    clearing.pin_change = "cleared"
    events = [write("w", 7, 1.0), clearing, read("w", 1.3, set(), rid="then-stale")]
    example = check(events, BOUND)["read_your_writes"]["examples"][0]
    assert (example["read_request_id"], example["pin_cleared_by_request_id"]) == ("then-stale", "cleared-it")
