"""deploy/access_log.py: one line per request in the project's format, no
line forged by what a client sends, no line lost when a worker stops
(SIGTERM, a recycle, a graceful reload), no lines mixed when several
workers share one stdout. The format and the escaping are checked on the
logger itself; everything else with the real gunicorn."""
import http.client
import re
import signal
import threading
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from gunicorn import glogging
from hypothesis import example, given, settings
from hypothesis import strategies as st
from gunicorn.config import Config

from deploy import access_log
from deploy.access_log import PIPE_BUF, AccessLogger, careful_line, encoded_line, response_ids
from tests.deploy.gunicorn_server import gunicorn
from tests.fixtures.cluster import REPO, wait_until

PROBE_APP = "tests.deploy.gunicorn_probe_app:application"
WITHOUT_EXIT_FLUSH = REPO / "tests" / "deploy" / "access_log_without_exit_flush.conf.py"
# A line as ops tools read it: quoted fields may hold escaped quotes, the
# others hold no space.
QUOTED = r'"((?:[^"\\]|\\.)*)"'
LINE = re.compile(rf'^(\S+) {QUOTED} (\d{{3}}|-) (\d+|-) (\d+)ms rid=(\S+) cache=(\S+) {QUOTED}$')
OLD_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s cache=%({x-cache}o)s "%(a)s"'
FORGERY = 'curl/8" 200 1 1ms rid=x cache=HIT "-\n203.0.113.9 "GET /admin/ HTTP/1.1" 200 99 1ms rid=forged cache=HIT "x'


def request_of(agent="curl/8.5", uri="/posts/hello/", request_id="a1b2c3d4e5f6", cache="HIT"):
    """(resp, environ) as gunicorn hands them to the logger."""
    resp = SimpleNamespace(status="200 OK", sent=1234, headers=[
        ("Content-Type", "text/html"), ("Content-Length", "1234"), ("X-Cache", cache),
        ("X-Request-ID", request_id)])
    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "RAW_URI": uri,
               "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_USER_AGENT": agent}
    return resp, environ


def format_line(resp, environ, request_time):
    """The line the logger writes, as text."""
    return encoded_line(resp, environ, request_time).decode("ascii")


def test_a_line_holds_the_projects_fields():
    """Check that a line is client, request line, status, bytes, time in ms,
    request id, cache outcome and user agent, as gunicorn's format had them."""
    resp, environ = request_of()
    line = format_line(resp, environ, timedelta(milliseconds=12, microseconds=900))
    assert line == '127.0.0.1 "GET /posts/hello/ HTTP/1.1" 200 1234 12ms rid=a1b2c3d4e5f6 cache=HIT "curl/8.5"\n'


def test_the_time_is_read_in_seconds_as_the_projects_workers_give_it():
    """Check that a request's time given as a float of seconds (the
    project's workers: deploy/request_clock.py) is logged in whole
    milliseconds, as gunicorn's timedelta is."""
    resp, environ = request_of()
    assert " 12ms " in format_line(resp, environ, 0.0129)
    assert " 0ms " in format_line(resp, environ, 0.0)


def test_gunicorns_own_format_lets_a_client_forge_a_line(tmp_path):
    """Check the bad case: gunicorn's access log, in the project's old format,
    writes a user agent's newline as is, so one request reads as two."""
    config = Config()
    config.set("accesslog", str(tmp_path / "stock.log"))
    config.set("access_log_format", OLD_FORMAT)
    stock = glogging.Logger(config)
    resp, environ = request_of(agent=FORGERY)
    try:
        stock.access(resp, {}, environ, timedelta(milliseconds=1))
    finally:
        for handler in list(stock.access_log.handlers):
            stock.access_log.removeHandler(handler)
            handler.close()
    assert len((tmp_path / "stock.log").read_text().splitlines()) == 2


@pytest.mark.parametrize("field", ["agent", "uri", "request_id", "cache"])
def test_nothing_a_request_carries_forges_a_line(field):
    """Check that newlines, quotes, backslashes, spaces and bytes outside
    printable ASCII in the request line, the user agent or the response's
    ids are escaped: one request is one line, and each field parses whole."""
    value = {"agent": FORGERY, "uri": "/a\r\n\x1b[31m\xe9\\\"b", "request_id": "id with\nspace",
             "cache": "HIT\x00 x"}[field]
    resp, environ = request_of(**{field: value})
    line = format_line(resp, environ, timedelta(milliseconds=1))
    assert line.endswith("\n") and line.count("\n") == 1 and line.isascii() and line[:-1].isprintable()
    client, request, status, _, _, request_id, cache, agent = LINE.match(line[:-1]).groups()
    assert (client, status) == ("127.0.0.1", "200")
    found = {"agent": agent, "uri": request, "request_id": request_id, "cache": cache}[field]
    assert "\\x0a" in found or "\\x00" in found or "\\x0d" in found


@pytest.mark.parametrize("field", ["request_id", "cache"])
def test_the_sites_own_header_order_is_escaped_the_same(field):
    """Check the shortcut for the site's order (X-Cache, X-Request-ID,
    Server-Timing last): its ids are escaped as any others."""
    resp, environ = request_of(**{field: "x\n1.2.3.4 \"forged"})
    resp.headers.append(("Server-Timing", "app;dur=0.01"))
    line = format_line(resp, environ, timedelta(milliseconds=1))
    assert line.count("\n") == 1 and "\\x0a" in line and LINE.match(line[:-1])


@pytest.mark.parametrize("headers", [
    [("X-Cache", "HIT"), ("X-Request-ID", "r1"), ("Server-Timing", "t")],   # the site's hit
    [("X-Request-ID", "r1"), ("X-Cache", "HIT"), ("Server-Timing", "t")],   # the site's render
    [("x-cache", "HIT"), ("x-request-id", "r1"), ("Server-Timing", "t")],   # another app's case
    [("X-Cache", "HIT"), ("Content-Type", "text/plain"), ("X-Request-ID", "r1")],
])
def test_the_ids_are_found_whatever_the_order_and_case(headers):
    assert response_ids([("Content-Type", "text/html"), *headers]) == ("r1", "HIT")


def test_the_ids_of_a_response_without_them_are_dashes():
    assert response_ids([("Content-Type", "text/html"), ("Server-Timing", "t"), ("Vary", "Cookie")]) == ("-", "-")


# What a client or an application could put in a field: plain text with
# spaces, quotes, backslashes, control and non-ASCII characters among it,
# any character at all, or a long run (a line past WHOLE).
FIELD = (st.text(alphabet=' ab/-."\\\x00\x7f\n\té', max_size=20) | st.text(st.characters(max_codepoint=0x3000), max_size=20)
         | st.builds(str.__mul__, st.sampled_from(["a", "/b ", 'é"']), st.integers(0, 900)))
FIELDS = {"client": "REMOTE_ADDR", "method": "REQUEST_METHOD", "uri": "RAW_URI", "protocol": "SERVER_PROTOCOL",
          "agent": "HTTP_USER_AGENT"}


@settings(max_examples=400)
@example(field="client", value="a b", other="curl/8.5", missing=set(), status="200 OK", sent=1, microseconds=1, in_seconds=False)
@example(field="request_id", value="a b", other="curl/8.5", missing=set(), status="200 OK", sent=1, microseconds=1, in_seconds=False)
@example(field="cache", value="a b", other="curl/8.5", missing=set(), status="200 OK", sent=1, microseconds=1, in_seconds=False)
@example(field="uri", value="/" * 760, other="curl/8.5", missing=set(), status="200 OK", sent=1, microseconds=1, in_seconds=False)
@given(field=st.sampled_from([*FIELDS, "request_id", "cache"]), value=FIELD, other=st.just("curl/8.5") | FIELD,
       missing=st.sets(st.sampled_from(["REMOTE_ADDR", "HTTP_USER_AGENT", "RAW_URI"])),
       status=st.sampled_from(["200 OK", "304 Not Modified", "", None]),
       sent=st.integers(0, 10**9), microseconds=st.integers(-10**7, 10**10), in_seconds=st.booleans())
def test_the_quick_line_is_the_careful_one_whenever_it_is_taken(field, value, other, missing, status, sent,
                                                                microseconds, in_seconds):
    """Check that the one-f-string line and its check in C give exactly the
    bytes of the careful line (every field cut and escaped) whatever one
    field holds, beside a plain request or a second odd field (the user
    agent), the time given in seconds or as a timedelta: the quick path is
    taken only where escaping would change nothing."""
    resp, environ = request_of(agent=other)
    resp.status, resp.sent = status, sent
    for name in missing:
        environ.pop(name)
    if field in FIELDS:
        environ[FIELDS[field]] = value
    else:
        resp.headers = [(name, value if name.lower() == "x-" + field.replace("_", "-") else header)
                        for name, header in resp.headers]
    took = microseconds / 1e6 if in_seconds else timedelta(microseconds=microseconds)  # the project's workers, gunicorn's
    assert encoded_line(resp, environ, took) == careful_line(resp, environ, took).encode("ascii", "backslashreplace")


def test_the_common_line_takes_the_quick_path(monkeypatch):
    """Check that a plain request's line is not the careful one's work (the
    property above would hold if every line took the careful path)."""
    monkeypatch.setattr(access_log, "careful_line", None)
    resp, environ = request_of()
    assert encoded_line(resp, environ, timedelta(milliseconds=3)).startswith(b'127.0.0.1 "GET /posts/hello/ ')


def test_a_huge_request_still_makes_one_line_under_pipe_buf():
    """Check that a request line and a user agent of several kilobytes, all
    of it escaped, still give one line shorter than PIPE_BUF."""
    resp, environ = request_of(agent="\x01" * 8000, uri="/" + "\xff" * 8000)
    line = format_line(resp, environ, timedelta(milliseconds=1))
    assert len(line.encode()) < PIPE_BUF and line.count("\n") == 1
    assert LINE.match(line[:-1]).group(8).endswith("...")


@pytest.mark.parametrize("level", ["info", "debug"])
def test_a_debug_line_reaches_the_error_log_only_at_debug_level(tmp_path, level):
    """Check that gunicorn's per-request debug line is written at debug
    level, and below it never even handed to logging."""
    config = Config()
    config.set("loglevel", level)
    config.set("errorlog", str(tmp_path / "error.log"))
    logger = AccessLogger(config)
    handed = []
    logger.error_log.debug = lambda msg, *args, **kwargs: handed.append(msg % args)
    logger.debug("%s %s", "GET", "/posts/hello/")
    assert handed == (["GET /posts/hello/"] if level == "debug" else [])


def logger_without_flusher(path):
    """An AccessLogger writing to `path` whose flusher thread never starts:
    it writes on flush() (and past MAX_PENDING) only."""
    config = Config()
    config.set("accesslog", str(path))
    logger = AccessLogger(config)
    logger._flusher = "not in this test"
    return logger


def test_lines_wait_in_the_queue_until_a_flush_writes_them_whole(tmp_path, monkeypatch):
    """Check that a request only queues its line, and that a flush writes
    them all, in writes of whole lines of at most PIPE_BUF bytes."""
    logger = logger_without_flusher(tmp_path / "access.log")
    writes = []
    write = logger._write
    monkeypatch.setattr(logger, "_write", lambda data: (writes.append(data), write(data)))
    resp, environ = request_of()
    for _ in range(100):
        logger.access(resp, {}, environ, timedelta(milliseconds=1))
    assert (tmp_path / "access.log").read_bytes() == b""
    logger.flush()
    assert len((tmp_path / "access.log").read_bytes().splitlines()) == 100
    assert len(writes) > 1 and all(len(data) <= PIPE_BUF and data.endswith(b"\n") for data in writes)


@settings(max_examples=200)
@given(lengths=st.lists(st.integers(1, PIPE_BUF - 1), max_size=60), overlong=st.booleans())
@example(lengths=[PIPE_BUF - 1, 2], overlong=False)  # one byte past PIPE_BUF: two writes
@example(lengths=[PIPE_BUF - 2, 2], overlong=False)  # exactly PIPE_BUF: one
def test_a_flush_cuts_its_writes_at_line_ends_only(tmp_path_factory, lengths, overlong):
    """Check that whatever the lines' lengths, a flush writes every queued
    line once, in order, in writes that end a line and hold at most
    PIPE_BUF bytes; a line longer than PIPE_BUF (which the logger never
    makes) goes out whole, in a write of its own."""
    logger = logger_without_flusher(tmp_path_factory.mktemp("log") / "access.log")
    lines = [b"x" * (length - 1) + b"\n" for length in lengths]
    if overlong:
        lines.insert(len(lines) // 2, b"y" * (PIPE_BUF + 10) + b"\n")
    writes = []
    logger._write = writes.append
    logger._pending.extend(lines)
    logger.flush()
    assert b"".join(writes) == b"".join(lines) and not logger._pending
    assert all(data.endswith(b"\n") and (len(data) <= PIPE_BUF or data.count(b"\n") == 1) for data in writes)
    assert all(data for data in writes)


def test_a_request_does_not_wait_for_a_write_in_progress(tmp_path):
    """Check that while a write holds the writer's lock (a slow disk), a
    request still logs at once: its line waits in the queue, not the
    request. The logger used to take that lock for every line."""
    logger = logger_without_flusher(tmp_path / "access.log")
    resp, environ = request_of()
    with logger._write_lock:  # a write in progress
        request = threading.Thread(target=lambda: [logger.access(resp, {}, environ, timedelta(milliseconds=1))
                                                   for _ in range(100)])
        request.start()
        request.join(timeout=5)
        assert not request.is_alive()
    logger.flush()
    assert len((tmp_path / "access.log").read_bytes().splitlines()) == 100


def test_a_request_writes_the_queue_itself_once_it_is_too_long(tmp_path, monkeypatch):
    """Check that memory stays bounded when the flusher cannot keep up: the
    request that finds more than MAX_PENDING lines queued writes them."""
    monkeypatch.setattr(access_log, "MAX_PENDING", 10)
    logger = logger_without_flusher(tmp_path / "access.log")
    resp, environ = request_of()
    for _ in range(11):
        logger.access(resp, {}, environ, timedelta(milliseconds=1))
    assert len((tmp_path / "access.log").read_bytes().splitlines()) == 11
    assert not logger._pending


def test_a_log_that_cannot_be_reopened_keeps_the_old_file(tmp_path):
    """Check that when the configured path cannot be opened at a reopen
    (SIGUSR1 after a rotation), lines go on to the file already open."""
    logger = logger_without_flusher(tmp_path / "access.log")
    (tmp_path / "access.log").rename(tmp_path / "access.log.1")
    (tmp_path / "access.log").mkdir()  # a folder where the file was: cannot be opened
    logger.reopen_files()
    resp, environ = request_of()
    logger.access(resp, {}, environ, timedelta(milliseconds=1))
    logger.flush()
    assert len((tmp_path / "access.log.1").read_text().splitlines()) == 1


# --- the real gunicorn -----------------------------------------------------------

def send(base, count, agent="tests"):
    """`count` GETs of /healthz on one keep-alive connection; their request ids."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    ids = []
    for _ in range(count):
        connection.request("GET", "/healthz", headers={"User-Agent": agent})
        response = connection.getresponse()
        response.read()
        assert response.status == 200
        ids.append(response.headers["X-Request-ID"])
        if response.will_close:  # a recycling worker closes its last connection
            connection.close()
    connection.close()
    return ids


def logged_ids(text):
    return [LINE.match(line).group(6) for line in text.splitlines() if LINE.match(line)]


def each_logged_once(text, sent):
    """Every request sent has exactly one line (the startup probe's may be there too)."""
    logged = Counter(logged_ids(text))
    return all(logged[request_id] == 1 for request_id in sent) and max(logged.values()) == 1


def stop(base):
    base.process.send_signal(signal.SIGTERM)
    base.process.wait(timeout=30)


def test_a_stopping_server_writes_every_line_it_buffered(tmp_path):
    """Check that SIGTERM right after a burst of requests loses no line: the
    workers write what they buffered as they exit; without that flush (the
    same logger writing only when its buffer is full) the last lines are lost."""
    log = tmp_path / "access.log"
    with gunicorn(tmp_path, config=WITHOUT_EXIT_FLUSH, app=PROBE_APP) as base:
        sent = send(base, 120)
        stop(base)
    assert not each_logged_once(log.read_text(), sent)

    log.unlink()
    with gunicorn(tmp_path, app=PROBE_APP) as base:
        sent = send(base, 120)
        stop(base)
    assert each_logged_once(log.read_text(), sent)


def test_a_recycled_worker_writes_every_line_before_it_goes(tmp_path):
    """Check that workers recycled after max_requests (here every ~20
    requests) leave no line behind."""
    env = {"GUNICORN_MAX_REQUESTS": "20", "WEB_CONCURRENCY": "1"}
    with gunicorn(tmp_path, env=env, app=PROBE_APP) as base:
        sent = send(base, 100)
        stop(base)
    assert "Autorestarting worker" in (tmp_path / "error.log").read_text()
    assert each_logged_once((tmp_path / "access.log").read_text(), sent)


def test_a_graceful_reload_loses_no_line(tmp_path):
    """Check that SIGHUP (new workers, the old ones stopped gracefully) keeps
    every line of the requests served before and after it."""
    with gunicorn(tmp_path, app=PROBE_APP) as base:
        before = send(base, 60)
        old_workers = base.worker_pids()
        base.process.send_signal(signal.SIGHUP)
        wait_until(lambda: base.worker_pids() and not base.worker_pids() & old_workers, timeout=30,
                   interval=0.1, message="the reload to replace every worker")
        after = send(base, 60)
        stop(base)
    assert each_logged_once((tmp_path / "access.log").read_text(), before + after)


def test_workers_sharing_a_piped_stdout_never_mix_their_lines(tmp_path):
    """Check that four workers under concurrent load, writing long lines to
    one stdout pipe (as under Docker), write whole lines only: every line
    parses, and each request appears exactly once."""
    env = {"GUNICORN_ACCESSLOG": "-", "WEB_CONCURRENCY": "4"}
    agent = "load-test " + "x" * 240  # ~400-byte lines: a write holds about ten
    sent, failures = [], []

    def client():
        try:
            sent.extend(send(base, 150, agent))
        except Exception as error:  # reported below: a thread cannot fail the test itself
            failures.append(error)

    with gunicorn(tmp_path, env=env, app=PROBE_APP, stdout="pipe") as base:
        clients = [threading.Thread(target=client) for _ in range(8)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
        stop(base)
    assert not failures
    lines = base.stdout().decode("ascii").splitlines()
    assert all(LINE.match(line) for line in lines), [line[:120] for line in lines if not LINE.match(line)][:3]
    assert each_logged_once("\n".join(lines), sent)


def test_an_empty_setting_turns_the_access_log_off(tmp_path):
    """Check that GUNICORN_ACCESSLOG='' writes no access line at all (and '-'
    writes them to stdout)."""
    with gunicorn(tmp_path, env={"GUNICORN_ACCESSLOG": "-"}, app=PROBE_APP, stdout="pipe") as base:
        sent = send(base, 5)
        stop(base)
    assert each_logged_once(base.stdout().decode(), sent)

    with gunicorn(tmp_path, env={"GUNICORN_ACCESSLOG": ""}, app=PROBE_APP, stdout="pipe") as base:
        send(base, 5)
        stop(base)
    assert base.stdout() == b""


def test_sigusr1_reopens_the_log_file(tmp_path):
    """Check that after the log file is moved away (log rotation) and the
    master gets SIGUSR1, lines go to a new file at the configured path, and
    none is lost on the way."""
    log, rotated = tmp_path / "access.log", tmp_path / "access.log.1"
    with gunicorn(tmp_path, env={"WEB_CONCURRENCY": "1"}, app=PROBE_APP) as base:
        sent = send(base, 3)
        wait_until(lambda: len(logged_ids(log.read_text())) >= 3, timeout=10, message="the first lines")
        log.rename(rotated)
        base.process.send_signal(signal.SIGUSR1)
        wait_until(lambda: sent.extend(send(base, 1)) or log.exists() and logged_ids(log.read_text()),
                   timeout=20, interval=0.1, message="a line in the new file")
        stop(base)
    assert logged_ids(log.read_text())
    assert each_logged_once(rotated.read_text() + log.read_text(), sent)
