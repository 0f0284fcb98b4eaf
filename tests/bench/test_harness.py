"""The harness's plumbing: wrk's figures, the ratios kept, the client's cookie
jar, pausing a server, the helpers it shares with the suite."""
import gzip
import os
import pickle
import subprocess
import sys
import time
import urllib.request

import pytest

from bench import summary
from bench.conf import FULL
from bench.growth import deepest_page
from bench.http_client import HttpClient, comment_ids
from bench.servers import GunicornServer
from bench.stack import on_database
from bench.wrk import parse
from tests.deploy.gunicorn_server import free_port
from tests.fixtures.cluster import REPO, wait_until
from tests.fixtures.html_forms import comment_form, find_form
from tests.fixtures.sentry_endpoint import SentryEndpoint

WRK_OUTPUT = """Running 5s test @ http://127.0.0.1:26340/
  2 threads and 32 connections
BENCH_JSON {"requests": 10000, "duration_us": 5000000, "bytes": 104000000, "errors": {"connect": 0, "read": 0, "write": 0, "status": 3, "timeout": 0}, "latency_us": {"p50": 2500, "p90": 4000, "p99": 12000, "max": 30000, "mean": 2700.0}}
"""


def test_wrk_figures_are_read_from_the_done_line():
    """Check that throughput, latencies and bytes per response come from report.lua's JSON."""
    found = parse(WRK_OUTPUT)
    assert (found.throughput, found.p50_ms, found.p99_ms) == (2000.0, 2.5, 12.0)
    assert found.bytes_per_response == 10400.0
    assert found.errors["status"] == 3


def runs(*values):
    return [{"throughput": v, "p50_ms": 1, "p99_ms": 2, "bytes_per_response": 10, "render_share": 0}
            for v in values]


def test_ratios_pair_runs_of_the_same_repetition():
    """Check that a ratio is the median of per-repetition ratios, not a ratio of medians."""
    classes = FULL.worker_classes
    figures = {config: {c: runs(100, 100, 100) for c in classes} for config in summary.CONFIGS}
    figures["headers-hot"] = {c: runs(1000, 500, 2000) for c in classes}
    figures["project-hot"] = {c: runs(900, 500, 1900) for c in classes}
    found = summary.peers(figures, FULL)
    assert found["ratios"]["hot_vs_headers"]["gthread"]["per_rep"] == [0.9, 1.0, 0.95]
    assert found["ratios"]["hot_vs_headers"]["gthread"]["median"] == 0.95
    assert found["targets"]["hot_vs_headers"]["gthread"] is True


def test_one_collapsed_repetition_fails_a_target_its_median_meets():
    """Check that a targeted ratio whose median is fine but one repetition
    fell below 0.75 (a bimodal collapse) is reported as missed, with that
    repetition's ratio as its minimum."""
    classes = FULL.worker_classes
    figures = {config: {c: runs(100, 100, 100) for c in classes} for config in summary.CONFIGS}
    figures["headers-hot"] = {c: runs(1000, 1000, 1000) for c in classes}
    figures["project-hot"] = {c: runs(950, 320, 960) for c in classes}
    found = summary.peers(figures, FULL)
    assert found["ratios"]["hot_vs_headers"]["sync"]["median"] == 0.95
    assert found["ratios"]["hot_vs_headers"]["sync"]["min"] == 0.32
    assert found["targets"]["hot_vs_headers"]["sync"] is False


def test_the_p99_ratio_is_shown_beside_the_bare_servers_own():
    """Check that gthread's p99 over sync's is paired by repetition for the
    site, and that the bare ceiling's same ratio is given beside it (the
    worker classes' own tail), without changing the verdict."""
    classes = FULL.worker_classes
    figures = {config: {c: runs(100, 100, 100) for c in classes} for config in summary.CONFIGS}
    for config, gthread_p99 in (("project-hot", (4, 6, 3)), ("bare-hot", (5, 4, 4))):
        for run, p99 in zip(figures[config]["gthread"], gthread_p99):
            run["p99_ms"] = p99
    found = summary.peers(figures, FULL)["p99_gthread_over_sync"]
    assert (found["per_rep"], found["median"], found["met"]) == ([2.0, 3.0, 1.5], 2.0, False)
    assert found["bare"] == 2.0


def test_each_targeted_ratio_compares_neighbours_in_time():
    """Check that the site's hot page runs right next to the `headers`
    ceiling and to itself without its log, and its Zipf mix right after
    that mix's `headers` ceiling: a disturbance of the machine then falls
    on both sides of those ratios."""
    order = summary.CONFIGS.index
    for top, bottom in (("project-hot", "headers-hot"), ("project-hot", "quiet-hot"),
                        ("project-zipf", "headers-zipf")):
        assert abs(order(top) - order(bottom)) == 1, (top, bottom)


def test_cookie_jar_keeps_pins_and_honours_deletion():
    """Check that the client sends back what the site set, and forgets a deleted cookie."""
    client = HttpClient(1)
    client.remember(["pin=1A2B:xyz:sig; Max-Age=30; HttpOnly; Path=/; SameSite=Lax"])
    assert client.cookie("pin") == "1A2B:xyz:sig"
    assert client.cookie_header() == ("pin=1A2B:xyz:sig", ("pin",))
    client.remember(['pin=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/'])
    assert client.cookie("pin") is None


def test_comment_form_and_ids_are_found_in_a_post_page():
    """Check that the form's hidden inputs and every shown comment id are read from the HTML."""
    page = b"""<li id="comment-12">a</li><li id="comment-40">b</li>
    <form class="comment-form" method="post" action="/posts/x/comments/">
    <input type="hidden" name="form_token" value="tok"><input name="website" value="">
    <input name="name"><textarea name="body"></textarea></form>"""
    action, fields = comment_form(page)
    assert action == "/posts/x/comments/"
    assert fields == {"form_token": "tok", "website": "", "name": "", "body": ""}
    assert comment_ids(page) == frozenset({12, 40})


def test_a_page_without_the_form_says_so():
    """Check that a page without a comment form gives no action to the bench's
    writers (they skip it) and an error to the suite's readers (a test that
    expected a form fails there, not later)."""
    page = "<p>Comments are closed.</p><form action=\"/search/\"><input name=\"q\"></form>"
    assert find_form(page, "/comments/") == (None, {})
    with pytest.raises(ValueError):
        comment_form(page)


def test_sentry_endpoint_counts_what_a_process_sent():
    """Check that envelopes posted over HTTP (gzip as the SDK sends them, or
    plain) are counted by item type, and an unreadable one as unparsed."""
    envelope = b'{"event_id": "1"}\n{"type": "event"}\n{"message": "x"}\n{"type": "check_in"}\n{}\n'
    with SentryEndpoint() as sentry:
        before = sentry.counts()
        for body, encoding in ((gzip.compress(envelope), "gzip"), (envelope, ""), (b"\x00junk", "gzip")):
            request = urllib.request.Request(sentry.dsn.replace("public@", "") + "/envelope/", data=body,
                                             headers={"Content-Encoding": encoding} if encoding else {})
            urllib.request.urlopen(request, timeout=5).read()
        assert sentry.since(before) == {"event": 2, "check_in": 2, "unparsed": 1}
        assert [event["message"] for event in sentry.events] == ["x", "x"]


def test_the_bench_does_not_need_pytest():
    """Check that the harness and the suite's helpers it imports load
    without pytest (the bench runs outside the test runner)."""
    check = "import sys; import bench.run; sys.exit('pytest' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": f"{REPO}:{REPO / 'site'}", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("url", ["http://10.0.0.1:80/", "http://example.com/"])
def test_wrk_refuses_anything_but_loopback(url):
    """Check that no load can be aimed anywhere but 127.0.0.1."""
    from bench.wrk import run_wrk

    with pytest.raises(ValueError):
        run_wrk(url, 1)


def test_site_urls_name_another_database_on_every_member():
    """Check that the site's multi-host URL (deploy/stack/config.py) keeps
    its hosts and options when it is pointed at another database."""
    url = "postgres://postgres@127.0.0.1:30320,127.0.0.1:30321,127.0.0.1:30322/blog?target_session_attrs=read-write"
    assert on_database(url, "blog_growth") == url.replace("/blog?", "/blog_growth?")
    assert on_database("postgres://postgres@127.0.0.1:30321/blog", "x") == "postgres://postgres@127.0.0.1:30321/x"


def test_deepest_page_is_set_beside_page_one():
    """Check that the deepest list page's render time is divided by page 1's
    at the same size, and that a blog too small for it has none."""
    pages = {"home": {"median_ms": 10.0},
             "home_deepest_page": {"path": "/?page=500", "status": 200, "median_ms": 15.0, "p90_ms": 18.0}}
    found = deepest_page({"posts": 100_000, "pages": pages})
    assert (found["over_page_1"], found["median_ms"], found["page_1_ms"]) == (1.5, 15.0, 10.0)
    assert deepest_page({"posts": 1_000, "pages": {"home": {"median_ms": 10.0}}}) is None


def test_cpu_ratios_read_like_throughput_ratios():
    """Check that a config costing more CPU per request than its divisor gets
    a CPU ratio below 1 (the divisor's µs over its own), per repetition."""
    classes = FULL.worker_classes
    figures = {config: {c: runs(100, 100) for c in classes} for config in summary.CONFIGS}
    for config, cost in (("headers-hot", (300, 200)), ("project-hot", (400, 250))):
        for c in classes:
            for run, us in zip(figures[config][c], cost):
                run["server_cpu_us"] = us
    found = summary.peers(figures, FULL)
    assert found["cpu_ratios"]["hot_vs_headers"]["sync"]["per_rep"] == [0.75, 0.8]
    assert found["cpu_ratios"]["hot_vs_bare"]["sync"]["median"] is None  # bare's CPU was not measured


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_a_paused_server_comes_back_with_the_same_workers(tmp_path, worker_class):
    """Check the bench's pause (bench/servers.py): a server paused for longer
    than gunicorn's worker timeout (4 s here, against a 6 s pause) answers
    again once resumed, with the same workers: its master did not take the
    pause for hung workers and kill them (it did before the workers were
    woken: an idle sync worker sleeps in a select of half the timeout)."""
    pages = tmp_path / "pages.pickle"
    pages.write_bytes(pickle.dumps({"/": ("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")],
                                          b"ok")}))
    port = free_port()
    env = {**os.environ, "GUNICORN_TIMEOUT": "4", "WEB_CONCURRENCY": "2", "BENCH_CEILING_PAGES": str(pages)}
    server = GunicornServer("bare", port, worker_class, env, tmp_path).start().wait_ready()
    try:
        # The first worker ready answers alone; both must beat before the pause.
        wait_until(lambda: server.error_log.read_text().count("Worker ready") == 2, timeout=30)
        workers = set(server.workers())
        server.pause()
        time.sleep(6)
        server.resume()
        time.sleep(3)  # two of the master's looks at the heartbeats
        assert server.answers() and set(server.workers()) == workers
    finally:
        server.stop()
    assert "WORKER TIMEOUT" not in server.error_log.read_text()


def test_two_parts_servers_of_one_kind_keep_their_own_logs(tmp_path):
    """Check that a label gives a server its own log files, so a later part's
    server of the same kind (the synchronous-replication pair after the
    faults part's site) does not empty the earlier one's logs on start."""
    site = GunicornServer("project", 1, "gthread", {}, tmp_path, label="site-gthread")
    pair = GunicornServer("project", 2, "gthread", {}, tmp_path, label="sync-on-gthread")
    plain = GunicornServer("project", 3, "gthread", {}, tmp_path)
    logs = {server.error_log for server in (site, pair, plain)} | {server.access_log for server in (site, pair, plain)}
    assert len(logs) == 6
    assert site.error_log.name == "web-site-gthread.log" and plain.error_log.name == "web-project-gthread.log"


def test_a_machine_paused_during_the_failover_is_told_apart_from_a_slow_failover():
    """Check that the faults part reports how far the wall clock (which the
    requests' times use) ran ahead of the monotonic one during the loss:
    the full run of 2026-12-02 showed writes back after 31 s of wall clock
    while the drill's own probe took 22.8 s of running time."""
    import time

    from bench.failover import LostLeader
    from bench.faults import clock_jump

    paused = LostLeader("primary", "replica2", time.time() - 31.0, 22.77)
    running = LostLeader("primary", "replica2", time.time() - 20.0, 20.0)
    assert 8.1 <= clock_jump(paused) <= 8.4
    assert clock_jump(running) < 0.1


def test_a_missing_bench_program_is_installed_as_root_and_named_otherwise(monkeypatch):
    """Check that a Debian program the bench needs is installed with the
    stack's own apt-get step when it may be, and named (with its package)
    when it may not: never a traceback."""
    from bench import debian_tools

    installed = []
    monkeypatch.setattr(debian_tools.shutil, "which", lambda name: f"/usr/bin/{name}" if installed else None)
    monkeypatch.setattr(debian_tools, "apt_install", installed.extend)
    monkeypatch.setattr(debian_tools, "can_install", lambda: False)
    with pytest.raises(SystemExit, match="apt-get install -y valgrind"):
        debian_tools.debian_tool("valgrind")
    assert installed == []
    monkeypatch.setattr(debian_tools, "can_install", lambda: True)
    assert debian_tools.debian_tool("callgrind_control", "valgrind") == "/usr/bin/callgrind_control"
    assert installed == ["valgrind"]
