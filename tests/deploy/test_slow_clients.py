"""deploy/slow_clients.py: a client that sends part of a request head, or
part of its body, and goes quiet holds a gthread worker's thread for
HEAD_TIMEOUT or BODY_TIMEOUT at most, not until it closes the connection;
first the clock alone, then a real gunicorn with the project's worker and
with gunicorn's own."""
import http.client
import io
import json
import socket
import time

import pytest

from deploy import slow_clients
from deploy.slow_clients import BODY, HEAD
from tests.deploy.gunicorn_server import get, gunicorn
from tests.fixtures.cluster import REPO

PROBE_APP = "tests.deploy.gunicorn_probe_app:application"
STOCK_GTHREAD = REPO / "tests" / "deploy" / "gunicorn_stock_gthread.conf.py"
# One worker of one thread: the partial request's thread is the only one.
ONE_THREAD = {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "1", "WEB_CONCURRENCY": "1",
              "GUNICORN_REQUEST_HEAD_TIMEOUT": "2", "GUNICORN_REQUEST_BODY_TIMEOUT": "2"}
PARTIAL_HEAD = b"GET /__deploy_probe__ HTTP/1.1\r\nHost: slow.example\r\n"  # no blank line: never ends


@pytest.fixture
def timeouts(monkeypatch):
    monkeypatch.setattr(slow_clients, "HEAD_TIMEOUT", 10.0)
    monkeypatch.setattr(slow_clients, "BODY_TIMEOUT", 20.0)


def test_a_head_read_for_head_timeout_is_overdue_and_taken_off_the_clock(timeouts):
    clock = slow_clients.RequestClock()
    clock.start("early", HEAD, now=0.0)
    clock.start("later", HEAD, now=5.0)
    assert clock.overdue(9.9) == []
    assert clock.overdue(10.5) == [("early", HEAD)]
    assert clock.overdue(12.0) == []  # "early" is off the clock, "later" not yet due
    assert clock.overdue(15.0) == [("later", HEAD)]


def test_a_body_has_its_own_clock_from_the_end_of_its_head(timeouts):
    clock = slow_clients.RequestClock()
    clock.start("posting", HEAD, now=0.0)
    clock.start("posting", BODY, now=9.0)  # the head took 9 of its 10 s
    assert clock.overdue(28.4) == []
    assert clock.overdue(29.0) == [("posting", BODY)]


def test_a_request_read_in_time_is_never_overdue(timeouts):
    clock = slow_clients.RequestClock()
    clock.start("quick", HEAD, now=0.0)
    clock.start("quick", BODY, now=0.1)
    clock.done("quick")
    assert clock.overdue(60.0) == []


def test_an_overdue_head_waits_for_the_next_look(timeouts):
    """The main loop turns often; the clock is read once every CHECK_EVERY."""
    clock = slow_clients.RequestClock()
    clock.start("late", HEAD, now=0.0)
    assert clock.overdue(9.9) == []
    assert clock.overdue(9.9 + slow_clients.CHECK_EVERY / 2) == []  # overdue, but not looked at yet
    assert clock.overdue(9.9 + slow_clients.CHECK_EVERY) == [("late", HEAD)]


def test_a_timeout_of_zero_means_no_limit_for_that_part(monkeypatch):
    monkeypatch.setattr(slow_clients, "HEAD_TIMEOUT", 0)
    monkeypatch.setattr(slow_clients, "BODY_TIMEOUT", 5)
    clock = slow_clients.RequestClock()
    clock.start("slow head", HEAD, now=0.0)
    clock.start("slow body", BODY, now=0.0)
    assert clock.overdue(3600.0) == [("slow body", BODY)]


def body_of(declared, sent):
    return {"CONTENT_LENGTH": declared, "wsgi.input": io.BytesIO(sent)}


def test_a_declared_body_is_read_whole_before_the_application():
    environ = body_of("11", b"text=hello&next-request")
    assert slow_clients.whole_body(environ, limit=100).read() == b"text=hello&"


def test_a_body_that_stops_short_is_never_handed_on():
    with pytest.raises(ConnectionResetError):
        slow_clients.whole_body(body_of("100", b"text=part"), limit=1000)


@pytest.mark.parametrize("declared", ["", "0", "1001", "not a number"])
def test_no_body_or_one_longer_than_the_limit_is_left_to_the_application(declared):
    environ = body_of(declared, b"x" * 2000)
    assert slow_clients.whole_body(environ, limit=1000) is None
    assert environ["wsgi.input"].tell() == 0  # nothing read


def request_behind(partial, base, wait):
    """Send `partial` (part of a request) on one connection, then a whole
    GET on a second one, waiting `wait` seconds for its answer: (the GET's
    status, or None if it was not answered in time; whether the server
    closed the first connection by then)."""
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as slow:
        slow.sendall(partial)
        whole = http.client.HTTPConnection("127.0.0.1", port, timeout=wait)
        try:
            whole.request("GET", "/__deploy_probe__")
            status = whole.getresponse().status
        except TimeoutError:
            status = None
        finally:
            whole.close()
        return status, closed_by_server(slow, wait=0.5)


def test_gunicorns_gthread_lets_a_partial_head_hold_its_thread(tmp_path):
    """Check the bad case: gunicorn's own worker, its one thread reading a
    head that never ends, answers nobody else (here for 8 s, four times
    the project's timeout) and keeps the slow connection open."""
    with gunicorn(tmp_path, env=ONE_THREAD, config=STOCK_GTHREAD, app=PROBE_APP) as base:
        assert request_behind(PARTIAL_HEAD, base, wait=8) == (None, False)


def test_a_partial_head_is_cut_after_the_timeout_and_the_thread_serves_again(tmp_path):
    """Check that the project's worker closes the slow connection once its
    head is GUNICORN_REQUEST_HEAD_TIMEOUT (2 s here) late, answers the
    request queued behind it, and says so in its log."""
    with gunicorn(tmp_path, env=ONE_THREAD, app=PROBE_APP) as base:
        assert request_behind(PARTIAL_HEAD, base, wait=8) == (200, True)
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


PARTIAL_BODY = (b"POST / HTTP/1.1\r\nHost: slow.example\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 100\r\n\r\nbody=only-part-of-it")  # 20 of the 100 bytes it declares


def test_gunicorns_gthread_lets_a_partial_body_hold_its_thread(tmp_path):
    """Check the bad case: with gunicorn's own worker, a form POST whose body
    stops short holds the one thread while the site reads the body (the
    input guard reads every form), so nobody else is answered for 8 s."""
    with gunicorn(tmp_path, env=ONE_THREAD, config=STOCK_GTHREAD, app=PROBE_APP) as base:
        assert request_behind(PARTIAL_BODY, base, wait=8) == (None, False)


def test_a_body_that_stops_short_is_cut_after_the_body_timeout(tmp_path):
    """Check that the project's worker reads a declared body before the
    application runs, closes the connection once the body is
    GUNICORN_REQUEST_BODY_TIMEOUT (2 s here) late, never runs the
    application on part of it, answers the request behind it, and logs why."""
    with gunicorn(tmp_path, env=ONE_THREAD, app=PROBE_APP) as base:
        assert request_behind(PARTIAL_BODY, base, wait=8) == (200, True)
    log = (tmp_path / "error.log").read_text()
    assert "no whole request body after 2 s (GUNICORN_REQUEST_BODY_TIMEOUT)" in log
    assert "POST /" not in (tmp_path / "access.log").read_text()  # the application never answered it


def probe_post(port, pieces, expect_continue=False):
    """POST `pieces` (sent 0.5 s apart) to the probe; (status, the body the application read)."""
    body = b"".join(pieces)
    head = (b"POST /__deploy_probe__ HTTP/1.1\r\nHost: slow.example\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n" % len(body) + (b"Expect: 100-continue\r\n" if expect_continue else b"")
            + b"\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(head)
        if expect_continue:  # the body only goes once the server asked for it
            assert read_exactly(client, len(CONTINUE)) == CONTINUE
        for number, piece in enumerate(pieces):
            if number:
                time.sleep(0.5)
            client.sendall(piece)
        response = http.client.HTTPResponse(client)
        response.begin()
        return response.status, json.loads(response.read())["body"]


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def read_exactly(sock, size):
    received = b""
    while len(received) < size and (chunk := sock.recv(size - len(received))):
        received += chunk
    return received


def test_a_body_sent_in_pieces_within_the_timeout_reaches_the_application_whole(tmp_path):
    """Check the good case: a body that arrives in three pieces over a second
    (within the 2 s body timeout), and one sent after `100 Continue` as such
    clients do, reach the application whole."""
    with gunicorn(tmp_path, env=ONE_THREAD, app=PROBE_APP) as base:
        port = int(base.rsplit(":", 1)[1])
        assert probe_post(port, [b"first,", b"second,", b"third"]) == (200, "first,second,third")
        assert probe_post(port, [b"after-continue"], expect_continue=True) == (200, "after-continue")
    assert "GUNICORN_REQUEST_BODY_TIMEOUT" not in (tmp_path / "error.log").read_text()


def test_a_get_that_declares_a_body_is_answered_without_waiting_for_it(tmp_path):
    """Check that only bodies the site reads are waited for: a GET (a cache
    hit, say) declaring 100 bytes and sending 4 is answered at once, not
    held until its body comes or the 2 s body timeout cuts it."""
    with gunicorn(tmp_path, env=ONE_THREAD, app=PROBE_APP) as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=1) as client:
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\npart")
            response = http.client.HTTPResponse(client)
            response.begin()  # within the socket's 1 s, or TimeoutError
            assert response.status == 200
