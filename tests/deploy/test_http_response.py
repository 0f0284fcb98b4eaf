"""deploy/http_response.py: byte for byte the response gunicorn's own
Response sends, and the same refusals, whether a header is new to the
process or remembered from an earlier response."""
import socket
from unittest import mock

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi as gunicorn_wsgi
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy import http_response

NOW = 1_795_000_000.25  # a fixed clock: both Responses then write the same Date
SITE_HEADERS = [  # what a cached hit of the site sends
    ("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache"),
    ("Content-Security-Policy", "default-src 'self'; img-src 'self' data:"),
    ("X-Content-Type-Options", "nosniff"), ("ETag", '"e68e9911e4ae69d62a59b7b7"'),
    ("Vary", "Accept-Encoding"), ("Content-Length", "5"), ("X-Cache", "HIT"),
    ("X-Request-ID", "581df2a9309033c400009b7c"), ("Server-Timing", 'cache;dur=0.11;desc="memory"'),
]
HOP_BY_HOP = [("Connection", "close"), ("Connection", "Upgrade"), ("Upgrade", "websocket"),
              ("Keep-Alive", "timeout=5"), ("Transfer-Encoding", "chunked")]
TOKEN = st.text(alphabet="!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
                min_size=1, max_size=12)
VALUE = st.text(alphabet=st.characters(max_codepoint=0x110, blacklist_categories=("Cs",)), max_size=16)
NAME = st.one_of(TOKEN, st.sampled_from(["Content-Length", "content-length", "Bad Name", "X:Y", "", "Ünï",
                                         "X-Request-ID", "Server-Timing", "Content-Type", "Connection", "Upgrade"]))
PAIR = st.one_of(
    st.sampled_from(SITE_HEADERS + HOP_BY_HOP),
    st.tuples(NAME, st.one_of(VALUE, st.sampled_from(["5", " 5 ", "0", "x", " padded\t"]))),
    st.sampled_from([(b"Bytes", "name"), ("Bytes", b"value"), ("List", ["value"]), ("Int", 5),
                     ("Content-Type",), ("Content-Type", "text/plain", "extra"), ["Content-Type", "text/plain"]]),
)
REQUEST = st.tuples(st.sampled_from(["GET", "HEAD"]), st.sampled_from([(1, 0), (1, 1)]), st.booleans())
STATUS = st.sampled_from(["200 OK", "204 No Content", "304 Not Modified", "404 Not Found"])
BODY = st.lists(st.binary(max_size=8), max_size=3)


class Request:
    """What a Response reads of gunicorn's request."""

    def __init__(self, method, version, close):
        self.method, self.version, self.close = method, version, close

    def should_close(self):
        return self.close


def on_the_wire(response_class, request, status, headers, body):
    """What `response_class` sends for one response, or the refusal it raises."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        response = response_class(Request(*request), ours, Config())
        try:
            response.start_response(status, list(headers))
            for chunk in body:
                response.write(chunk)
            response.close()
        except Exception as error:  # gunicorn's refusals: TypeError, ValueError, its own
            return "refused", type(error)
        ours.shutdown(socket.SHUT_WR)
        sent = b"".join(iter(lambda: theirs.recv(65536), b""))
        return sent, response.sent, response.should_close(), response.response_length


def prepared_on_the_wire(request, status, headers, extra, body):
    """What send_prepared sends, as on_the_wire reports it; None when it
    declines (the Response is then asked the usual way, and must still
    take the answer: nothing of the declined attempt may stick)."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        response = http_response.Response(Request(*request), ours, Config())
        try:
            rest = response.send_prepared(status, headers, extra, body)
            if rest is None:
                response.start_response(status, [*headers, *extra])
                rest = [body]
                declined = True
            else:
                declined = False
            for chunk in rest:
                response.write(chunk)
            response.close()
        except Exception as error:
            return ("refused", type(error)), None
        ours.shutdown(socket.SHUT_WR)
        sent = b"".join(iter(lambda: theirs.recv(65536), b""))
        return (sent, response.sent, response.should_close(), response.response_length), declined


@pytest.fixture(autouse=True)
def fresh_memory():
    http_response._prepared_blocks.clear()
    http_response._known_pairs.clear()
    http_response._plain_names.clear()
    http_response._known_bytes = 0
    http_response._date = (0, "")


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=REQUEST, status=STATUS, headers=st.lists(PAIR, max_size=8), body=BODY)
def test_the_wire_is_gunicorns_whether_a_header_is_new_or_remembered(request, status, headers, body):
    """Check that for generated header lists (the site's own, hop-by-hop
    ones, padded values, invalid names and values, wrong types) the
    Response sends exactly gunicorn's bytes or refuses with gunicorn's
    exception, the first time and again once it remembers the headers."""
    with mock.patch("time.time", return_value=NOW):
        expected = on_the_wire(gunicorn_wsgi.Response, request, status, headers, body)
        first = on_the_wire(http_response.Response, request, status, headers, body)
        again = on_the_wire(http_response.Response, request, status, headers, body)
    assert first == expected
    assert again == expected


def test_a_remembered_content_length_still_bounds_the_body():
    """Check that Content-Length taken from memory still stops a body that
    runs longer than it says, as gunicorn does."""
    headers = [("Content-Type", "text/plain"), ("Content-Length", "5")]
    sends = [on_the_wire(http_response.Response, ("GET", (1, 1), False), "200 OK", headers, [b"12345678"])
             for _ in range(2)]
    assert all(sent[0].endswith(b"\r\n\r\n12345") and sent[1] == 5 for sent in sends)
    assert ("Content-Length", "5") in http_response._known_pairs


def test_headers_new_on_every_response_are_not_remembered():
    """Check that a request id or Server-Timing value, new each time, never
    fills the memory, while the page's own headers are remembered (and
    the names seen, whose next values only need their value checked)."""
    for number in range(50):
        headers = [("Content-Type", "text/html"), ("X-Request-ID", f"id{number:08d}"),
                   ("Server-Timing", f"app;dur={number}")]
        on_the_wire(http_response.Response, ("GET", (1, 1), False), "200 OK", headers, [b"x"])
    assert list(http_response._known_pairs) == [("Content-Type", "text/html")]
    assert http_response._plain_names == {"Content-Type", "X-Request-ID", "Server-Timing"}


def test_the_memory_of_headers_stays_bounded(monkeypatch):
    """Check that past KNOWN_PAIRS_LIMIT distinct headers the memory starts
    afresh instead of growing with every page a process has served."""
    monkeypatch.setattr(http_response, "KNOWN_PAIRS_LIMIT", 10)
    for number in range(25):
        on_the_wire(http_response.Response, ("GET", (1, 1), False), "200 OK", [("ETag", f'"{number}"')], [])
        assert len(http_response._known_pairs) <= 10


def test_long_headers_a_client_varies_cannot_grow_the_memory_past_its_bytes():
    """Check that redirects whose Location carries a client's 4,000-byte
    path, each different, keep the remembered lines within
    KNOWN_BYTES_LIMIT."""
    http_response._known_bytes = 0
    for number in range(600):
        location = f"/{number:04d}" + "a" * 4000
        on_the_wire(http_response.Response, ("GET", (1, 1), False), "301 Moved Permanently",
                    [("Location", location)], [])
        lines = sum(len(line) for line, _ in http_response._known_pairs.values())
        assert lines <= http_response.KNOWN_BYTES_LIMIT
    assert 0 < len(http_response._known_pairs) < 600


def test_the_date_is_formatted_once_a_second_and_is_gunicorns():
    """Check that Date has gunicorn's format for the current second and
    moves on with the clock."""
    from gunicorn import util

    with mock.patch("time.time", return_value=NOW):
        assert http_response.http_date() == util.http_date() == "Wed, 18 Nov 2026 11:06:40 GMT"
    with mock.patch("time.time", return_value=NOW + 1):
        assert http_response.http_date() == "Wed, 18 Nov 2026 11:06:41 GMT"


def test_settled_settings_read_as_plain_attributes_with_the_same_values():
    """Check that a settled Config answers each setting as before, from its
    own attributes, except those Config computes (its properties, such as
    worker_class), which it still computes."""
    config = Config()
    config.set("keepalive", 7)
    expected = {name: getattr(config, name) for name in config.settings}
    http_response.settle_config(config)
    assert {name: getattr(config, name) for name in config.settings} == expected
    assert vars(config)["keepalive"] == 7
    assert "worker_class" not in vars(config) and config.worker_class.__name__ == "SyncWorker"


@given(value=st.one_of(st.text(alphabet=st.characters(max_codepoint=0x110, blacklist_categories=("Cs",))),
                       st.text(alphabet=" \t\x00\x7f\xff!~ab"), st.binary(max_size=4), st.none()))
def test_a_value_is_taken_as_is_exactly_when_gunicorn_would_keep_it(value):
    """Check the quick test of a header value against gunicorn's own
    process_headers: kept unchanged exactly when gunicorn neither refuses
    nor strips it."""
    response = gunicorn_wsgi.Response(Request("GET", (1, 1), False), None, Config())
    try:
        response.process_headers([("X-Value", value)])
        gunicorn_keeps = response.headers == [("X-Value", value)]
    except Exception:
        gunicorn_keeps = False
    assert http_response._kept_as_is(value) == gunicorn_keeps


def test_a_hop_by_hop_name_kept_once_is_checked_again_with_another_value():
    """Check that `Upgrade: websocket`, which gunicorn keeps, does not make
    `Upgrade` a name whose other values pass unchecked: gunicorn drops
    `Upgrade: h2c`, and so must the Response."""
    request = ("GET", (1, 1), False)
    with mock.patch("time.time", return_value=NOW):
        on_the_wire(http_response.Response, request, "200 OK", [("Upgrade", "websocket")], [])
        headers = [("Upgrade", "h2c"), ("Content-Length", "0")]
        assert (on_the_wire(http_response.Response, request, "200 OK", headers, [])
                == on_the_wire(gunicorn_wsgi.Response, request, "200 OK", headers, []))


PREPARED_STATUS = st.sampled_from(["200 OK", "404 Not Found", "412 Precondition Failed", "304 Not Modified",
                                   "204 No Content", "200 Fine Thanks", "999", "20 OK"])
OWN_HEADERS = st.one_of(st.lists(st.sampled_from(SITE_HEADERS[-3:]), max_size=3),
                        st.lists(st.one_of(st.sampled_from(SITE_HEADERS[-3:]), PAIR), max_size=3))
# Mostly lists a page could store (so that most answers are taken), else anything.
STORED = st.one_of(st.lists(st.sampled_from(SITE_HEADERS[:5]), max_size=5), st.lists(PAIR, max_size=8))


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=REQUEST, status=PREPARED_STATUS, headers=STORED, extra=OWN_HEADERS,
       body=st.binary(max_size=12), length=st.one_of(st.none(), st.integers(0, 14)))
def test_a_prepared_response_is_gunicorns_answer_in_one_write_or_declined(request, status, headers, extra,
                                                                         body, length):
    """Check that for generated statuses, header lists (with and without a
    Content-Length, which may be shorter or longer than the body), this
    response's own headers and bodies, send_prepared sends exactly what
    gunicorn sends for the same answer given to start_response, or declines
    and leaves the Response as it found it; and that a list it has seen
    before is sent the same way again from memory."""
    if length is not None:
        headers = [*headers, ("Content-Length", str(length))]
    whole = [*headers, *extra]
    with mock.patch("time.time", return_value=NOW):
        expected = on_the_wire(gunicorn_wsgi.Response, request, status, whole, [body])
        first, declined = prepared_on_the_wire(request, status, headers, extra, body)
        again, _ = prepared_on_the_wire(request, status, headers, extra, body)
    assert first == expected
    assert again == expected
    if declined is False:  # taken: only answers whose length is declared, never a 204 or 304
        assert status[:3] not in ("204", "304") and first[3] is not None


class RecordingSocket(socket.socket):
    """A socket that notes each send call it is given."""

    def __init__(self, fileno):
        super().__init__(fileno=fileno)
        self.calls = []

    def sendmsg(self, buffers, *args):
        self.calls.append(("sendmsg", b"".join(buffers)))
        return super().sendmsg(buffers, *args)

    def sendall(self, data, *args):
        self.calls.append(("sendall", bytes(data)))
        return super().sendall(data, *args)


def test_the_site_hits_headers_go_out_prepared_in_one_write():
    """Check that a hit of the site (its stored headers with a
    Content-Length, then its own three) is taken by send_prepared, headers
    and body in a single system call, and remembered by its list."""
    headers = [pair for pair in SITE_HEADERS[:-3]]
    ours, theirs = socket.socketpair()
    recording = RecordingSocket(ours.detach())
    with recording, theirs, mock.patch("time.time", return_value=NOW):
        response = http_response.Response(Request("GET", (1, 1), False), recording, Config())
        assert response.send_prepared("200 OK", headers, SITE_HEADERS[-3:], b"hello") == ()
        response.close()
    assert len(recording.calls) == 1 and recording.calls[0][1].endswith(b"\r\n\r\nhello")
    assert response.sent == 5 and response.headers == SITE_HEADERS and response.status == "200 OK"
    assert http_response._prepared_blocks[id(headers)][0] is headers


def test_the_memory_of_prepared_header_lists_stays_bounded(monkeypatch):
    """Check that past PREPARED_LISTS_LIMIT lists (one per cached page a
    worker served) the memory starts afresh instead of growing."""
    monkeypatch.setattr(http_response, "PREPARED_LISTS_LIMIT", 10)
    lists = [[("ETag", f'"{number}"'), ("Content-Length", "0")] for number in range(25)]
    for headers in lists:
        prepared_on_the_wire(("GET", (1, 1), False), "200 OK", headers, [], b"")
        assert len(http_response._prepared_blocks) <= 10


def test_the_worker_offers_send_prepared_only_for_its_own_response():
    """Check that the environ gets send_prepared when start_response is the
    project's Response's, and not for any other server's start_response."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        response = http_response.Response(Request("GET", (1, 1), False), ours, Config())
        environ, other = {}, {}
        http_response.offer_prepared(environ, response.start_response)
        http_response.offer_prepared(other, gunicorn_wsgi.Response(Request("GET", (1, 1), False), ours,
                                                                   Config()).start_response)
        http_response.offer_prepared(other, lambda status, headers: None)
    assert environ[http_response.SEND_PREPARED] == response.send_prepared
    assert other == {}


def test_the_cache_looks_for_send_prepared_where_the_workers_offer_it():
    """Check that cache/wsgi.py and the workers name the same environ key."""
    from cache import wsgi as cache_wsgi

    assert cache_wsgi.SEND_PREPARED == http_response.SEND_PREPARED


class TakesPartOfASendmsg:
    """A socket whose sendmsg takes only the first `taken` bytes (what a
    full send buffer does); sendall takes everything. It keeps what went out."""

    def __init__(self, taken):
        self.taken, self.wire = taken, b""

    def sendmsg(self, buffers):
        self.wire += b"".join(bytes(buffer) for buffer in buffers)[:self.taken]
        return min(self.taken, sum(len(buffer) for buffer in buffers))

    def sendall(self, data):
        self.wire += bytes(data)


class HasNoSendmsg(TakesPartOfASendmsg):
    def sendmsg(self, buffers):
        raise NotImplementedError("sendmsg not allowed on instances of SSLSocket")


@pytest.mark.parametrize("taken", [0, 1, 17, 18, 19, 30, 1000])
def test_head_and_body_arrive_whole_and_in_order_whatever_part_a_sendmsg_took(taken):
    """Check that write_whole sends what the kernel did not take, in order,
    whether the first call stopped inside the head, at its end, inside the
    body or took everything."""
    head, body = b"HTTP/1.1 200 OK\r\n\r\n", b"a body of some length"
    socket_ = TakesPartOfASendmsg(taken)
    http_response.write_whole(socket_, head, body)
    assert socket_.wire == head + body


def test_a_socket_without_sendmsg_gets_head_and_body_joined():
    """Check that a TLS socket (no sendmsg) still gets the whole answer."""
    socket_ = HasNoSendmsg(0)
    http_response.write_whole(socket_, b"head\r\n\r\n", b"body")
    assert socket_.wire == b"head\r\n\r\nbody"
