"""The touch part's reading of callgrind's dumps (bench/touch.py): counts
per request, the eviction's own taken off, the site beside the ceiling.
The measuring process itself runs in `make bench`."""
import threading
from datetime import timedelta

import pytest

from bench import touch
from bench.report_targets import touch_rows
from bench.touch import MemorySocket, per_request, summarize
from deploy.access_log import AccessLogger

EVENTS = "Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw"


def dump(folder, number, trigger, ir, lines):
    """A callgrind dump as `callgrind_control -d` writes it: `lines` last-level
    misses split over instruction reads, data reads and data writes."""
    third = lines // 3
    (folder / f"callgrind.out.4242.{number}").write_text(
        f"# callgrind format\nversion: 1\ndesc: Trigger: {trigger}\n\nevents: {EVENTS}\n"
        f"summary: {ir} 0 0 0 0 0 {third} {third} {lines - 2 * third}\n\nfn=(1) main\n")


def test_dumps_are_read_per_application_and_round_per_request(tmp_path, monkeypatch):
    """Check that each dump's totals land under its trigger's application
    and round, divided by the requests made, and the end-of-program dump is left out."""
    monkeypatch.setattr(touch, "REQUESTS", 100)
    dump(tmp_path, 1, "dump site0", ir=30_000_000, lines=540_000)
    dump(tmp_path, 2, "dump evict_only0", ir=10_000_000, lines=500_000)
    dump(tmp_path, 3, "Program termination", ir=1, lines=3)
    counts = per_request(tmp_path)
    assert set(counts) == {("site", 0), ("evict_only", 0)}
    assert counts[("site", 0)]["Ir"] == 300_000
    assert sum(counts[("site", 0)][name] for name in touch.MISSED_LINES) == 5_400


def test_the_eviction_is_taken_off_and_the_site_compared_with_the_ceiling():
    """Check that what the evicting copy costs alone is subtracted round by
    round, and the extra lines and ratios are the site's over the ceiling's."""
    def events(ir, lines):
        return {"Ir": ir, "ILmr": 0, "DLmr": lines, "DLmw": 0}

    counts = {("ceiling", 0): events(400, 60), ("site", 0): events(420, 66), ("site_logged", 0): events(428, 67),
              ("evict_only", 0): events(100, 10),
              ("ceiling", 1): events(402, 62), ("site", 1): events(422, 68), ("site_logged", 1): events(430, 69),
              ("evict_only", 1): events(102, 12)}
    result = summarize(counts)
    assert result["ceiling"] == {"instructions": 300, "lines_missed": 50}
    assert result["site"] == {"instructions": 320, "lines_missed": 56}
    assert result["extra_lines_per_hit"] == 6
    assert result["site_over_ceiling"] == {"instructions": 1.067, "lines_missed": 1.12}


def test_the_access_log_is_what_a_logged_hit_adds_to_the_same_hit_unlogged():
    """Check that the log's cost is the logged hit's count less the unlogged
    one's, and its share is of the logged hit (the whole a worker pays)."""
    def events(ir, lines):
        return {"Ir": ir, "ILmr": 0, "DLmr": lines, "DLmw": 0}

    counts = {(app, r): events(ir, lines) for r in range(2)
              for app, ir, lines in (("ceiling", 400, 60), ("site", 420, 66), ("site_logged", 428, 67),
                                     ("evict_only", 100, 10))}
    result = summarize(counts)
    assert result["access_log"] == {"instructions": 8, "lines_missed": 1}
    assert result["access_log_share"] == {"instructions": round(8 / 328, 4), "lines_missed": round(1 / 57, 4)}


def test_the_measured_access_logger_writes_whole_lines_without_a_flusher_thread(tmp_path):
    """Check that the logger the measurement uses is the project's, writing
    to the given file, and that logging starts no thread (the measurement
    flushes it itself, so a thread's work is not counted with the requests')."""
    logger = touch.access_logger(AccessLogger, tmp_path / "access.log")
    assert isinstance(logger, AccessLogger)
    threads = threading.active_count()

    class Response:
        status, sent = "200 OK", 12
        headers = [("Server-Timing", "cache;dur=0.05"), ("X-Request-ID", "r1"), ("X-Cache", "HIT")]

    environ = {"REMOTE_ADDR": "127.0.0.1", "REQUEST_METHOD": "GET", "RAW_URI": "/", "SERVER_PROTOCOL": "HTTP/1.1",
               "HTTP_USER_AGENT": "wrk"}
    for _ in range(3):
        logger.access(Response(), None, environ, timedelta(microseconds=300))
    assert threading.active_count() == threads
    logger.flush()
    touch.check_logged(tmp_path / "access.log", 3)


def test_a_missing_or_missed_line_fails_the_measurement(tmp_path):
    """Check that the log check refuses a log with a line too few or a line that is not a hit's."""
    log = tmp_path / "access.log"
    log.write_text('127.0.0.1 "GET / HTTP/1.1" 200 12 0ms rid=r1 cache=HIT "wrk"\n' * 2)
    touch.check_logged(log, 2)
    with pytest.raises(SystemExit):
        touch.check_logged(log, 3)
    log.write_text('127.0.0.1 "GET / HTTP/1.1" 200 12 0ms rid=r1 cache=MISS "wrk"\n' * 2)
    with pytest.raises(SystemExit):
        touch.check_logged(log, 2)


def test_the_memory_socket_gives_its_request_once_and_takes_every_write():
    """Check that the in-memory socket behaves as a client that sent one
    request: read once, then end of stream; every byte written counted."""
    sock = MemorySocket(b"GET / HTTP/1.1\r\n\r\n")
    buffer = bytearray(8)
    assert sock.recv_into(buffer) == 8 and bytes(buffer) == b"GET / HT"
    assert sock.recv(100) == b"TP/1.1\r\n\r\n" and sock.recv(100) == b""
    assert sock.sendmsg((b"head", b"body!")) == 9
    sock.sendall(b"12")
    assert sock.sent == 11


def test_the_recording_socket_keeps_what_is_written():
    """Check that the socket the answer is checked on keeps every byte, in order."""
    sock = touch.RecordingSocket(b"")
    sock.sendmsg((b"HTTP/1.1 200 OK\r\n", b"body"))
    sock.sendall(memoryview(b"!"))
    assert sock.written == b"HTTP/1.1 200 OK\r\nbody!" and sock.sent == 22


def test_the_access_log_target_is_judged_on_the_larger_of_its_two_shares():
    """Check that the targets table meets the 3 % target only when both the
    instructions and the lines from memory stay within it."""
    [row] = touch_rows({"access_log_share": {"instructions": 0.021, "lines_missed": 0.004}})
    assert row[2] == "2.1%, 0.4%" and row[3] == "met"
    [row] = touch_rows({"access_log_share": {"instructions": 0.021, "lines_missed": 0.035}})
    assert row[3] == "**missed**"
    assert touch_rows(None) == [] and touch_rows({"site": {}}) == []
