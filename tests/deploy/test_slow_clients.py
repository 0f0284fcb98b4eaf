"""deploy/slow_clients.py: a client that sends part of a request head and
goes quiet holds a gthread worker's thread for HEAD_TIMEOUT at most, not
until it closes the connection; first the clock alone, then a real
gunicorn with the project's worker and with gunicorn's own."""
import http.client
import socket

import pytest

from deploy import slow_clients
from tests.deploy.gunicorn_server import get, gunicorn
from tests.fixtures.cluster import REPO

PROBE_APP = "tests.deploy.gunicorn_probe_app:application"
STOCK_GTHREAD = REPO / "tests" / "deploy" / "gunicorn_stock_gthread.conf.py"
# One worker of one thread: the partial request's thread is the only one.
ONE_THREAD = {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "1", "WEB_CONCURRENCY": "1",
              "GUNICORN_REQUEST_HEAD_TIMEOUT": "2"}
PARTIAL_HEAD = b"GET /__deploy_probe__ HTTP/1.1\r\nHost: slow.example\r\n"  # no blank line: never ends


@pytest.fixture
def head_timeout(monkeypatch):
    monkeypatch.setattr(slow_clients, "HEAD_TIMEOUT", 10.0)


def test_a_head_read_for_head_timeout_is_overdue_and_taken_off_the_clock(head_timeout):
    clock = slow_clients.HeadClock()
    clock.start("early", now=0.0)
    clock.start("later", now=5.0)
    assert clock.overdue(9.9) == []
    assert clock.overdue(10.5) == ["early"]
    assert clock.overdue(12.0) == []  # "early" is off the clock, "later" not yet due
    assert clock.overdue(15.0) == ["later"]


def test_a_head_read_in_time_is_never_overdue(head_timeout):
    clock = slow_clients.HeadClock()
    clock.start("quick", now=0.0)
    clock.done("quick")
    assert clock.overdue(60.0) == []


def test_an_overdue_head_waits_for_the_next_look(head_timeout):
    """The main loop turns often; the clock is read once every CHECK_EVERY."""
    clock = slow_clients.HeadClock()
    clock.start("late", now=0.0)
    assert clock.overdue(9.9) == []
    assert clock.overdue(9.9 + slow_clients.CHECK_EVERY / 2) == []  # overdue, but not looked at yet
    assert clock.overdue(9.9 + slow_clients.CHECK_EVERY) == ["late"]


def test_no_head_timeout_means_no_limit(monkeypatch):
    monkeypatch.setattr(slow_clients, "HEAD_TIMEOUT", 0)
    clock = slow_clients.HeadClock()
    clock.start("slow", now=0.0)
    assert clock.overdue(3600.0) == []


def request_behind_a_partial_head(base, wait):
    """Send PARTIAL_HEAD on one connection, then a whole request on a second
    one, waiting `wait` seconds for its answer: (the second request's
    status, or None if it was not answered in time; whether the server
    closed the first connection by then)."""
    port = int(base.rsplit(":", 1)[1])
    slow = socket.create_connection(("127.0.0.1", port), timeout=wait)
    try:
        slow.sendall(PARTIAL_HEAD)
        whole = http.client.HTTPConnection("127.0.0.1", port, timeout=wait)
        try:
            whole.request("GET", "/__deploy_probe__")
            status = whole.getresponse().status
        except TimeoutError:
            status = None
        finally:
            whole.close()
        slow.settimeout(0.5)
        try:
            closed = slow.recv(1) == b""
        except TimeoutError:
            closed = False
        return status, closed
    finally:
        slow.close()


def test_gunicorns_gthread_lets_a_partial_head_hold_its_thread(tmp_path):
    """Check the bad case: gunicorn's own worker, its one thread reading a
    head that never ends, answers nobody else (here for 8 s, four times
    the project's timeout) and keeps the slow connection open."""
    with gunicorn(tmp_path, env=ONE_THREAD, config=STOCK_GTHREAD, app=PROBE_APP) as base:
        assert request_behind_a_partial_head(base, wait=8) == (None, False)


def test_a_partial_head_is_cut_after_the_timeout_and_the_thread_serves_again(tmp_path):
    """Check that the project's worker closes the slow connection once its
    head is GUNICORN_REQUEST_HEAD_TIMEOUT (2 s here) late, answers the
    request queued behind it, and says so in its log."""
    with gunicorn(tmp_path, env=ONE_THREAD, app=PROBE_APP) as base:
        assert request_behind_a_partial_head(base, wait=8) == (200, True)
    assert "request head" in (tmp_path / "error.log").read_text()


def test_the_applications_own_time_is_not_counted(tmp_path):
    """Check that only the head is timed: a request whose application takes
    longer than the head timeout (3 s against 2) is answered, not cut."""
    with gunicorn(tmp_path, env=ONE_THREAD, app=PROBE_APP) as base:
        status, _, _ = get(f"{base}/__deploy_probe__?sleep=3")
    assert status == 200 and "request head" not in (tmp_path / "error.log").read_text()


def test_a_head_trickled_a_line_at_a_time_is_cut_all_the_same(tmp_path):
    """Check that the timeout bounds the whole head, not each read: a client
    that sends one more header line every half second (the classic
    slowloris, which a per-read timeout never stops) is cut once the head
    is 2 s old, long before its 8 s of lines run out, and the request
    behind it is answered."""
    with gunicorn(tmp_path, env=ONE_THREAD, app=PROBE_APP) as base:
        port = int(base.rsplit(":", 1)[1])
        slow = socket.create_connection(("127.0.0.1", port), timeout=1)
        with slow:
            slow.sendall(PARTIAL_HEAD)
            lines_sent = 0
            while lines_sent < 16 and not closed_by_server(slow, wait=0.5):
                slow.sendall(b"X-Trickle-%d: x\r\n" % lines_sent)
                lines_sent += 1
            status, _, _ = get(f"{base}/__deploy_probe__")
    assert lines_sent < 16 and status == 200


def closed_by_server(sock, wait):
    """Whether the server closed `sock`, looking for up to `wait` seconds."""
    sock.settimeout(wait)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
