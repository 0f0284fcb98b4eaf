"""A session is pinned after any transaction that wrote on the primary, as
PostgreSQL sees it (the transaction was given an id), not as the SQL reads:
writes of every shape pin, reads that only look like writes do not. Driven
through the real routing middleware, against the real cluster."""
import re

import pytest
from django.test import override_settings

from routing.pin import verified_pin
from tests.fixtures import cluster
from tests.routing.probe_urls import CTE_INSERT, LOCK_FOR_UPDATE, VOLATILE_CALL

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

# The rule routing/writes.py applied before: a statement wrote if it began with a write verb.
WRITE_VERBS = re.compile(r"^\s*(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|COPY|COMMENT"
                         r"|VACUUM|REINDEX)\b", re.IGNORECASE)


@pytest.fixture
def shapes(probe):
    """The probe client, with a function that inserts (as a trigger or a
    stored procedure might) and a row to lock."""
    cluster.query("default", "CREATE OR REPLACE FUNCTION probe_add_group(text) RETURNS bigint LANGUAGE sql "
                             "VOLATILE AS $$ INSERT INTO auth_group (name) VALUES ($1) RETURNING id $$")
    cluster.query("default", "INSERT INTO auth_group (name) VALUES ('lock-me')")
    cluster.wait_all_replayed()
    yield probe
    cluster.query("default", "DROP FUNCTION probe_add_group(text)")


def test_the_write_verbs_rule_took_these_writes_for_reads():
    """Check the hazard that retired SQL parsing: none of these writes starts with a write verb."""
    for sql in (CTE_INSERT, LOCK_FOR_UPDATE, VOLATILE_CALL):
        assert not WRITE_VERBS.match(sql), sql


@pytest.mark.parametrize("shape, name", [
    ("cte-insert", "via-a-cte"),
    ("select-for-update", "lock-me"),
    ("volatile-function", "via-a-function"),
    ("released-savepoint", "in-a-savepoint"),
])
def test_a_write_of_any_shape_pins_the_session_past_its_commit(shapes, shape, name):
    """Check that a CTE INSERT, SELECT ... FOR UPDATE, a volatile function that
    inserts and a write inside a released SAVEPOINT each pin the session, at or
    past the WAL position the primary had reached before the request."""
    before = cluster.primary_lsn()
    response = shapes.post(f"/probe/shape/{shape}/", {"name": name})
    assert response.status_code == 200
    assert "pin" in response.cookies, f"{shape} set no pin"
    assert verified_pin(response.cookies["pin"].value)[0] > before


@pytest.mark.parametrize("shape, name", [
    ("rolled-back", "never-there"),
    ("search", "replication lag"),
])
def test_a_transaction_that_wrote_nothing_sets_no_pin(shapes, shape, name):
    """Check that a rolled-back write and a read-only search on the primary
    (websearch_to_tsquery, ranking, headlines) set no pin."""
    response = shapes.post(f"/probe/shape/{shape}/", {"name": name})
    assert response.status_code == 200
    assert "pin" not in response.cookies


def test_a_writer_through_a_function_reads_its_write_while_replicas_lag(shapes):
    """Check read-your-writes end to end for a write no verb gives away: with
    both replicas paused, the writer's next read sees its row; without the pin
    (pinning off) the same write is missed."""
    with cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        with override_settings(ROUTING_PIN_WRITES=False):
            shapes.post("/probe/shape/volatile-function/", {"name": "unpinned-write"})
            assert "unpinned-write" not in shapes.get("/probe/read/").json()["names"]
        shapes.post("/probe/shape/volatile-function/", {"name": "pinned-write"})
        seen = shapes.get("/probe/read/").json()
        assert "pinned-write" in seen["names"] and seen["alias"] == "default"


def test_a_commit_whose_position_cannot_be_read_still_succeeds_and_pins_to_the_primary(probe, monkeypatch):
    """Check that when the primary's position cannot be read after a COMMIT
    that succeeded, the write is not reported as failed: the session is
    pinned past every replica (it reads from the primary) instead."""
    from django.contrib.auth.models import Group
    from django.db import OperationalError, transaction

    from routing import context
    from routing.backend.base import UNKNOWN_POSITION, DatabaseWrapper
    from routing.lsn import CURRENT_PRIMARY_LSN_SQL

    fetch_one = DatabaseWrapper._fetch_one

    def position_unreadable(self, sql):
        if sql == CURRENT_PRIMARY_LSN_SQL:
            raise OperationalError("server closed the connection unexpectedly")
        return fetch_one(self, sql)

    monkeypatch.setattr(DatabaseWrapper, "_fetch_one", position_unreadable)
    position = context.ReadPosition()
    with context.activate(position), transaction.atomic():
        Group.objects.create(name="committed-anyway")
    assert Group.objects.filter(name="committed-anyway").exists()
    assert position.wrote_lsn == UNKNOWN_POSITION
