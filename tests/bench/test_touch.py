"""The touch part's reading of callgrind's dumps (bench/touch.py): counts
per request, the eviction's own taken off, the site beside the ceiling.
The measuring process itself runs in `make bench`."""
from bench import touch
from bench.touch import MemorySocket, per_request, summarize

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

    counts = {("ceiling", 0): events(400, 60), ("site", 0): events(420, 66), ("evict_only", 0): events(100, 10),
              ("ceiling", 1): events(402, 62), ("site", 1): events(422, 68), ("evict_only", 1): events(102, 12)}
    result = summarize(counts)
    assert result["ceiling"] == {"instructions": 300, "lines_missed": 50}
    assert result["site"] == {"instructions": 320, "lines_missed": 56}
    assert result["extra_lines_per_hit"] == 6
    assert result["site_over_ceiling"] == {"instructions": 1.067, "lines_missed": 1.12}


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
