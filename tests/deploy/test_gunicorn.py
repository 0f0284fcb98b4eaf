"""deploy/gunicorn.conf.py, run for real: the access log line, connections
and pollers across fork(), the proxies trusted for X-Forwarded-Proto, and the
image's healthcheck script against production settings."""
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.deploy.gunicorn_server import get, gunicorn
from tests.fixtures.cluster import REPO, wait_until

PROBE_APP = "tests.deploy.gunicorn_probe_app:application"
WITHOUT_PRE_FORK = REPO / "tests" / "deploy" / "gunicorn_without_pre_fork.conf.py"
PRODUCTION = {
    "DEBUG": "off", "HTTPS": "on", "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "blog.example.test",
}


def probe(base, headers=None):
    status, _, body = get(f"{base}/__deploy_probe__", headers)
    assert status == 200, body
    return json.loads(body)


def test_access_log_records_request_id_cache_outcome_and_time(tmp_path):
    """Check that each access log line carries the response's X-Request-ID,
    its X-Cache outcome and the response time in milliseconds."""
    with gunicorn(tmp_path, app=PROBE_APP) as base:
        status, headers, _ = get(f"{base}/healthz")
        request_id, outcome = headers["X-Request-ID"], headers["X-Cache"]
        assert status == 200 and request_id and outcome
        log = tmp_path / "access.log"
        line = wait_until(lambda: [x for x in log.read_text().splitlines() if request_id in x],
                          timeout=10, message="the request's access log line")[0]
    pattern = rf'"GET /healthz HTTP/1.1" 200 \d+ \d+ms rid={request_id} cache={outcome} '
    assert re.search(pattern, line), line


def test_workers_do_not_share_the_database_connection_the_master_preloaded(tmp_path):
    """Check that a connection opened while preloading is closed before fork,
    so a worker opens its own: without the pre_fork hook, the worker talks
    to the database over the master's very socket."""
    # Sync: requests run on the thread that inherited the connection. One
    # worker: two sharing one socket would also steal each other's answers.
    sync = {"GUNICORN_WORKER_CLASS": "sync", "WEB_CONCURRENCY": "1"}
    with gunicorn(tmp_path, env=sync, config=WITHOUT_PRE_FORK, app=PROBE_APP) as base:
        shared = probe(base)
    assert shared["backend_pid"] == shared["master_backend_pid"]

    with gunicorn(tmp_path, env=sync, app=PROBE_APP) as base:
        own = probe(base)
    assert own["worker_pid"] != own["master_pid"]
    assert own["backend_pid"] != own["master_backend_pid"]


def test_each_worker_starts_its_own_health_poller_after_fork(tmp_path):
    """Check that post_fork starts the replica health poller in the worker,
    and that the master, which preloaded the app, did not start one."""
    with gunicorn(tmp_path, app=PROBE_APP) as base:
        report = probe(base)
    assert report["poller_started_in"] == [report["worker_pid"]]


def probe_every_worker(base, workers):
    """The probe's report from each of the server's workers (new
    connections land on whichever worker takes them)."""
    reports = {}

    def all_answered():
        report = probe(base)
        reports[report["worker_pid"]] = report
        return set(reports) >= workers and {pid: reports[pid] for pid in workers}

    return wait_until(all_answered, timeout=30, message=f"an answer from each of the workers {workers}")


def test_one_worker_polls_the_databases_for_all_and_another_takes_over_when_it_dies(tmp_path):
    """Check that of a server's workers exactly one polls the databases'
    health and writes what it saw to the directory the master made, the
    others adopting it; that when that worker is killed another takes over;
    and that the master removes the directory when it stops."""
    def settled(base, workers):
        """Every worker's report, once one polls and the others adopt (a worker
        that starts before anything was written polls once for itself)."""
        reports = probe_every_worker(base, workers)
        polls = [pid for pid, report in reports.items() if report["health_poll"]["leading"]]
        adopting = [pid for pid, report in reports.items() if report["health_poll"]["adopting"]]
        return len(polls) == 1 and len(adopting) == len(workers) - 1 and (reports, polls)

    with gunicorn(tmp_path, env={"WEB_CONCURRENCY": "3"}, app=PROBE_APP) as base:
        workers = wait_until(lambda: len(base.ready_worker_pids()) == 3 and base.ready_worker_pids(), 30)
        reports, polls = wait_until(lambda: settled(base, workers), 30,
                                    message="one worker polling, the others adopting its view")
        directory = Path(reports[polls[0]]["health_poll"]["directory"])
        view = directory / "view.json"
        assert json.loads(view.read_text())["pid"] == polls[0]

        os.kill(polls[0], signal.SIGKILL)
        wait_until(lambda: json.loads(view.read_text())["pid"] not in (polls[0],)
                   and json.loads(view.read_text())["pid"] in base.worker_pids(), 30,
                   message="another worker to poll for all")
    assert not directory.exists()


def test_with_the_shared_poll_off_every_worker_polls_for_itself(tmp_path):
    """Check the counterfactual: GUNICORN_SHARE_HEALTH_POLL=off."""
    env = {"WEB_CONCURRENCY": "2", "GUNICORN_SHARE_HEALTH_POLL": "off"}
    with gunicorn(tmp_path, env=env, app=PROBE_APP) as base:
        workers = wait_until(lambda: len(base.ready_worker_pids()) == 2 and base.ready_worker_pids(), 30)
        reports = probe_every_worker(base, workers)
    assert all(r["health_poll"] == {"leading": True, "adopting": False, "directory": None}
               for r in reports.values())


def test_both_worker_classes_answer_with_the_projects_response(tmp_path):
    """Check that sync and gthread workers alike build their responses with
    deploy/http_response.py's Response (which checks a header once), and
    offer the application its send_prepared (a cache hit sent whole)."""
    for worker_class in ("sync", "gthread"):
        env = {"GUNICORN_WORKER_CLASS": worker_class, "WEB_CONCURRENCY": "1"}
        with gunicorn(tmp_path, env=env, app=PROBE_APP) as base:
            report = probe(base)
            status, headers, body = get(f"{base}/healthz")
        assert report["response_class"] == "deploy.http_response.Response", worker_class
        assert report["send_prepared_offered"], worker_class
        assert status == 200 and headers["Date"].endswith(" GMT") and body


def test_only_configured_proxies_may_say_the_client_used_https(tmp_path):
    """Check that with HTTPS=on, X-Forwarded-Proto: https from a trusted proxy
    (127.0.0.1 by default) gets the secure response, while the same header
    from an address not in FORWARDED_ALLOW_IPS gets the redirect to https."""
    host = {"Host": "blog.example.test", "X-Forwarded-Proto": "https"}
    with gunicorn(tmp_path, env=PRODUCTION, app=PROBE_APP) as base:
        assert probe(base, host)["url_scheme"] == "https"
        status, headers, _ = get(f"{base}/admin/login/", host)
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Secure" in headers["Set-Cookie"]

    untrusted = {**PRODUCTION, "FORWARDED_ALLOW_IPS": "192.0.2.10"}
    with gunicorn(tmp_path, env=untrusted, app=PROBE_APP) as base:
        assert probe(base, host)["url_scheme"] == "http"
        status, headers, _ = get(f"{base}/admin/login/", host)
    assert status == 301
    assert headers["Location"] == "https://blog.example.test/admin/login/"


def test_image_healthcheck_passes_on_a_production_configured_site(tmp_path):
    """Check that deploy/healthcheck.py (the image's HEALTHCHECK) exits 0
    against the real application with production settings (HTTPS=on, a host
    list without the container's address), and 1 once the site is gone."""
    def healthcheck(base):
        return subprocess.run([sys.executable, "deploy/healthcheck.py", f"{base}/healthz"], cwd=REPO,
                              env={"ALLOWED_HOSTS": PRODUCTION["ALLOWED_HOSTS"]},
                              capture_output=True, text=True, timeout=30)

    with gunicorn(tmp_path, env=PRODUCTION) as base:
        assert healthcheck(base).returncode == 0
    gone = healthcheck(base)
    assert gone.returncode == 1
    assert "healthcheck:" in gone.stderr


def probe_through_proxy_protocol(base, client="203.0.113.7"):
    """The probe, asked through a PROXY protocol v1 line naming `client`."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(f"PROXY TCP4 {client} 127.0.0.1 40000 {port}\r\n"
                     f"GET /__deploy_probe__ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_a_trusted_load_balancer_can_pass_the_clients_address(tmp_path):
    """Check that with GUNICORN_PROXY_PROTOCOL on, the address a trusted proxy
    sends becomes REMOTE_ADDR (the comment rate limit's key), and that a proxy
    not in FORWARDED_ALLOW_IPS cannot do so."""
    with gunicorn(tmp_path, env={"GUNICORN_PROXY_PROTOCOL": "v1"}, app=PROBE_APP) as base:
        status, body = probe_through_proxy_protocol(base)
        assert status == 200
        assert json.loads(body)["remote_addr"] == "203.0.113.7"
        assert probe(base)["remote_addr"] == "127.0.0.1"  # PROXY header optional: 'v1' allows plain
    untrusted = {"GUNICORN_PROXY_PROTOCOL": "v1", "FORWARDED_ALLOW_IPS": "192.0.2.10"}
    with gunicorn(tmp_path, env=untrusted, app=PROBE_APP) as base:
        status, body = probe_through_proxy_protocol(base)
    assert status != 200 or json.loads(body)["remote_addr"] != "203.0.113.7"


def test_a_tls_proxy_at_an_address_not_trusted_sends_readers_round_in_a_redirect_loop(tmp_path):
    """Check the compose hazard and its fix: with HTTPS=on, a proxy on another
    address than 127.0.0.1 (here 127.0.0.2; in compose, a proxy container or
    the Docker gateway) says X-Forwarded-Proto: https in vain and gets a 301
    to the very https URL it was serving (a loop); once its network is in
    FORWARDED_ALLOW_IPS, the page itself."""
    host = {"Host": "blog.example.test", "X-Forwarded-Proto": "https"}
    with gunicorn(tmp_path, env=PRODUCTION, app=PROBE_APP) as base:
        status, headers, _ = get(f"{base}/admin/login/", host, source="127.0.0.2")
    assert status == 301 and headers["Location"] == "https://blog.example.test/admin/login/"

    proxy_network_trusted = {**PRODUCTION, "FORWARDED_ALLOW_IPS": "127.0.0.1,127.0.0.0/8"}
    with gunicorn(tmp_path, env=proxy_network_trusted, app=PROBE_APP) as base:
        assert probe(base, host)["url_scheme"] == "https"
        status, _, _ = get(f"{base}/admin/login/", host, source="127.0.0.2")
    assert status == 200


def test_the_compose_environment_trusts_a_proxy_in_dockers_address_pools():
    """Check that .env.example's FORWARDED_ALLOW_IPS, read by gunicorn's own
    config and by the site, covers the addresses Docker gives a proxy
    container or the gateway (172.16.0.0/12, 192.168.0.0/16), and not the world."""
    from django.test import RequestFactory, override_settings
    from gunicorn.config import Config

    from blog.ratelimit import client_address
    from tests.deploy import compose_file

    value = compose_file.env_file_assignments(compose_file.ENV_EXAMPLE)["FORWARDED_ALLOW_IPS"]
    config = Config()
    config.set("forwarded_allow_ips", value)
    networks = config.forwarded_allow_networks()
    for proxy in ("172.17.0.1", "172.18.0.5", "192.168.16.3", "127.0.0.1"):
        assert any(ipaddress.ip_address(proxy) in network for network in networks), proxy
        with override_settings(FORWARDED_ALLOW_IPS=value.split(",")):
            seen = RequestFactory().get("/", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
            assert client_address(seen) == "203.0.113.9"
    assert not any(ipaddress.ip_address("203.0.113.9") in network for network in networks)
