"""The harness's plumbing: wrk's figures, the ratios kept, the client's cookie jar."""
import pytest

from bench import summary
from bench.conf import FULL
from bench.http_client import HttpClient, comment_form, comment_ids
from bench.wrk import parse

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


def test_ratios_pair_runs_of_the_same_repetition():
    """Check that a ratio is the median of per-repetition ratios, not a ratio of medians."""
    def runs(*values):
        return [{"throughput": v, "p50_ms": 1, "p99_ms": 2, "bytes_per_response": 10, "render_share": 0}
                for v in values]
    classes = FULL.worker_classes
    figures = {config: {c: runs(100, 100, 100) for c in classes} for config in summary.CONFIGS}
    figures["ceiling-hot"] = {c: runs(1000, 500, 2000) for c in classes}
    figures["project-hot"] = {c: runs(900, 500, 1000) for c in classes}
    found = summary.peers(figures, FULL)
    assert found["ratios"]["hot_vs_ceiling"]["gthread"]["per_rep"] == [0.9, 1.0, 0.5]
    assert found["ratios"]["hot_vs_ceiling"]["gthread"]["median"] == 0.9
    assert found["targets"]["hot_vs_ceiling"]["gthread"] is True


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


@pytest.mark.parametrize("url", ["http://10.0.0.1:80/", "http://example.com/"])
def test_wrk_refuses_anything_but_loopback(url):
    """Check that no load can be aimed anywhere but 127.0.0.1."""
    from bench.wrk import run_wrk

    with pytest.raises(ValueError):
        run_wrk(url, 1)
