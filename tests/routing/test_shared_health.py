"""One replica-health poll shared by the workers of a server
(routing/shared_health.py): two monitors in this process stand for two
workers sharing a directory, each driven one round at a time against the
real cluster. The same sharing through gunicorn's workers:
tests/deploy/test_gunicorn.py."""
import json
import logging
import os
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from cache.timeline import on_new_timeline
from routing import conf, health, shared_health
from routing.servers import PrimaryIdentity

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


@pytest.fixture
def workers(replicated_db, tmp_path):
    """Two workers' monitors, sharing tmp_path; the first polls for both."""
    made = [health.HealthMonitor(conf.replica_aliases(), shared_health.SharedPoll(str(tmp_path)))
            for _ in range(2)]
    yield made
    for monitor in made:
        monitor.share.close()
        monitor._connections.close_all()


@contextmanager
def recorded(signal):
    """The kwargs of every `signal` sent during the block."""
    seen = []

    def record(sender, **kwargs):
        seen.append(kwargs)

    signal.connect(record)
    try:
        yield seen
    finally:
        signal.disconnect(record)


def test_one_worker_polls_for_all_and_the_others_adopt_what_it_saw(workers):
    """Check that only the worker holding the lock asks the databases, and
    that the other takes its view (each server's state, the refill view)
    without opening a connection of its own."""
    poller, follower = workers
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    assert poller.leading and not follower.leading and follower.adopting
    assert follower.snapshot() == poller.snapshot()
    assert follower.view == poller.view
    assert follower.polled.is_set()
    assert follower._connections._open == {}
    assert set(poller._connections._open) == {conf.PRIMARY, *conf.replica_aliases()}


def test_without_a_shared_directory_every_worker_polls_for_itself(replicated_db):
    """Check the counterfactual: monitors that share nothing both poll."""
    alone = [health.HealthMonitor(conf.replica_aliases()) for _ in range(2)]
    try:
        for monitor in alone:
            monitor.poll_or_adopt()
        assert all(monitor.leading and monitor._connections._open for monitor in alone)
    finally:
        for monitor in alone:
            monitor._connections.close_all()


def test_a_worker_that_first_learns_of_the_servers_from_the_shared_view_announces_nothing(workers):
    """Check that a worker starting after the poller wrote its view takes
    it as it stands, as its own first poll would: a member named as a
    replica but leading is out of rotation from the start, not "now the
    primary" (ops would report a promotion that never happened)."""
    poller, follower = workers
    poller.poll_or_adopt()
    with recorded(health.server_state_changed) as changes:
        follower.poll_or_adopt()
    assert follower.snapshot() == poller.snapshot()
    assert [c for c in changes if c["alias"] in follower.replicas] == []


def test_a_server_leaving_rotation_is_announced_in_every_worker(workers):
    """Check that a follower sends server_state_changed for a change the
    poller saw, as the poller did: ops and the router hear of it everywhere."""
    poller, follower = workers
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    alias = conf.replica_aliases()[0]
    poller.mark_down(alias, "read failed: test")  # out for its backoff, in the poller's view too
    poller.poll_or_adopt()
    with recorded(health.server_state_changed) as changes:
        follower.poll_or_adopt()
    assert [(c["up"], c["in_rotation"]) for c in changes if c["alias"] == alias] == [(False, False)]
    assert alias not in follower.candidates(0)


def test_a_read_that_failed_in_a_follower_keeps_the_server_out_there_for_its_backoff(workers):
    """Check that a follower does not let the shared view put back at once
    a server its own read just failed on."""
    poller, follower = workers
    alias = conf.replica_aliases()[0]
    follower.mark_down(alias, "read failed: test")
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    assert poller.replicas[alias].in_rotation
    assert not follower.replicas[alias].in_rotation
    follower._held_out[alias] = time.monotonic()  # its backoff is over
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    assert follower.replicas[alias].in_rotation


def test_a_write_that_failed_in_a_follower_takes_the_primary_out_only_until_the_next_view(workers):
    """Check that the primary a failed write took out in a follower comes
    back with the poller's next view, as it would at the follower's own next
    poll (no backoff for the primary: writes would be refused a second)."""
    poller, follower = workers
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    follower.mark_down(conf.PRIMARY, "write failed: test")
    assert not follower.primary.up
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    assert follower.primary.up


def test_a_poller_that_cannot_write_says_so_once_and_the_others_poll_for_themselves(workers, caplog):
    """Check that a full or vanished directory costs a warning, not a
    traceback four times a second, and that the followers, seeing the view
    go stale, poll for themselves."""
    poller, follower = workers
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    poller.share.directory = str(Path(poller.share.directory) / "gone")
    with caplog.at_level(logging.WARNING, logger="routing.shared_health"):
        poller.poll_or_adopt()
        poller.poll_or_adopt()
    assert caplog.text.count("cannot write the shared view") == 1
    follower._adopted_written -= shared_health.stale_after() + 1  # as time passes with no new view
    follower.poll_or_adopt()
    assert not follower.adopting and follower._connections._open


def test_when_the_polling_worker_goes_another_takes_over_with_its_history(workers):
    """Check that the lock passes to the next worker to look when its holder
    lets go (a worker that exits or dies: the kernel releases it), and that
    the new poller carries on with the primary's history it adopted."""
    poller, follower = workers
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    history = list(poller.history.samples)
    assert history
    poller.share.close()
    follower.poll_or_adopt()
    assert follower.leading
    assert list(follower.history.samples)[:len(history)] == history


def test_a_stale_shared_view_makes_a_follower_poll_for_itself_and_say_so(workers, caplog):
    """Check that a follower whose poller stopped writing (hung, holding the
    lock) polls for itself once the view is older than stale_after()."""
    poller, follower = workers
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    state = poller.export()
    state["written"] = time.monotonic() - shared_health.stale_after() - 1
    poller.share.publish(state)
    with caplog.at_level(logging.WARNING, logger="routing.shared_health"):
        follower.poll_or_adopt()
    assert not follower.leading and not follower.adopting
    assert follower._connections._open
    assert "polls for itself" in caplog.text
    poller.poll_or_adopt()  # writing again: the follower adopts again, and lets its connections go
    follower.poll_or_adopt()
    assert follower.adopting and follower._connections._open == {}


def test_a_promotion_the_poller_saw_is_announced_in_every_worker(workers):
    """Check that a follower sends primary_changed (with the poller's
    position and how long writes were refused) once, when the shared view
    shows the primary on a new timeline."""
    poller, follower = workers
    poller.poll_or_adopt()
    follower.poll_or_adopt()
    state = poller.export()
    old = PrimaryIdentity(*state["identity"])
    new = PrimaryIdentity("127.0.0.1:1", old.timeline + 1)  # as the poller would write it after one
    state["identity"] = [new.member, new.timeline]
    state["last_change"] = {"timeline": new.timeline, "lsn": 1234, "refused_seconds": 2.5}
    # Only this process's receivers of a made-up promotion: the page cache's
    # would record its timeline in the shared Redis.
    health.primary_changed.disconnect(dispatch_uid="cache.new_timeline")
    try:
        with recorded(health.primary_changed) as promotions:
            poller.share.publish(state)
            follower.poll_or_adopt()
            follower.poll_or_adopt()  # the same view again: nothing new
    finally:
        health.primary_changed.connect(on_new_timeline, dispatch_uid="cache.new_timeline")
    assert [(p["old"], p["new"], p["lsn"], p["refused_seconds"]) for p in promotions] == [(old, new, 1234, 2.5)]
    assert follower.primary_changes == 1 and follower.identity == new


def test_the_shared_view_is_whole_json_written_by_the_poller(workers, tmp_path):
    """Check what an operator finds in the directory: the poller's pid and
    view, readable as JSON (never half written: a rename replaces it)."""
    poller, _ = workers
    poller.poll_or_adopt()
    written = json.loads((tmp_path / shared_health.STATE_FILE).read_text())
    assert written["pid"] == os.getpid()
    assert [r["alias"] for r in written["replicas"]] == conf.replica_aliases()
    assert not list(tmp_path.glob(f"{shared_health.STATE_FILE}.*"))
