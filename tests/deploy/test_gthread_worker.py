"""deploy/gthread_worker.py, run for real: a gthread worker whose threads are
all busy leaves a new connection to a worker that can serve it, and a burst
of keep-alive connections ends up spread evenly over the workers."""
import collections
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time

from tests.deploy.gunicorn_server import get, gunicorn
from tests.fixtures.cluster import REPO, wait_until

PROBE_APP = "tests.deploy.gunicorn_probe_app:application"
STOCK_GTHREAD = REPO / "tests" / "deploy" / "gunicorn_stock_gthread.conf.py"
# Two workers of one thread each: one slow request makes a worker busy.
ONE_THREAD_EACH = {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "1", "WEB_CONCURRENCY": "2"}
SLOW = 4  # seconds the first request holds its worker's thread


def ss(*args):
    return subprocess.run(["ss", "-tnpH", *args], capture_output=True, text=True, timeout=10).stdout


def waiting_or_taken(port, busy_pid):
    """The second connection is either queued on the listening socket (no
    worker took it) or already taken by the busy worker."""
    queued = any(line.split()[1] == "1" for line in ss("-l", f"( sport = :{port} )").splitlines())
    taken = ss("state", "established", f"( sport = :{port} )").count(f"pid={busy_pid},") >= 2
    return queued or taken


def second_request_while_first_is_busy(base):
    """Worker A serves a SLOW-second request on its only thread; worker B is
    stopped (SIGSTOP) while a second connection arrives, then resumed:
    (pid that served the slow request, pid that served the second one,
    whether the second was answered while the slow one still slept)."""
    port = int(base.rsplit(":", 1)[1])
    wait_until(lambda: len(base.ready_worker_pids()) == 2, timeout=60, message="both workers to be ready")
    answers, started = {}, time.monotonic()

    def ask(name, query=""):
        answers[name] = get(f"{base}/__deploy_probe__{query}")
        answers[f"{name} at"] = time.monotonic()

    slow = threading.Thread(target=ask, args=("slow", f"?sleep={SLOW}"))
    slow.start()
    busy = wait_until(lambda: re.search(r"pid=(\d+),", ss("state", "established", f"( sport = :{port} )")),
                      timeout=10, message="a worker to take the slow request")
    busy_pid = int(busy.group(1))
    [idle_pid] = base.worker_pids() - {busy_pid}
    os.kill(idle_pid, signal.SIGSTOP)
    try:
        second = threading.Thread(target=ask, args=("second",))
        second.start()
        wait_until(lambda: waiting_or_taken(port, busy_pid), timeout=10, message="the second connection")
    finally:
        os.kill(idle_pid, signal.SIGCONT)
    for thread in (second, slow):
        thread.join(timeout=30)
    pid = {name: json.loads(answers[name][2])["worker_pid"] for name in ("slow", "second")}
    # The slow request was sent at `started` and sleeps SLOW seconds on the server.
    return pid["slow"], pid["second"], answers["second at"] - started < SLOW


def test_gunicorns_gthread_queues_a_connection_behind_a_busy_thread(tmp_path):
    """Check the bad case: gunicorn's own gthread worker, its only thread
    busy, still takes a new connection, which then waits for that thread
    although another worker is free (with keep-alive, every later request
    on that connection would queue there too)."""
    with gunicorn(tmp_path, env=ONE_THREAD_EACH, config=STOCK_GTHREAD, app=PROBE_APP) as base:
        slow_pid, second_pid, answered_meanwhile = second_request_while_first_is_busy(base)
    assert second_pid == slow_pid and not answered_meanwhile


def test_a_busy_worker_leaves_a_new_connection_to_a_free_one(tmp_path):
    """Check that the project's gthread worker, its only thread busy, leaves
    the new connection in the socket's queue, where the other worker takes
    it and answers at once."""
    with gunicorn(tmp_path, env=ONE_THREAD_EACH, app=PROBE_APP) as base:
        slow_pid, second_pid, answered_meanwhile = second_request_while_first_is_busy(base)
    assert second_pid != slow_pid and answered_meanwhile


def test_a_paused_worker_takes_connections_again_once_a_thread_is_free(tmp_path):
    """Check that a worker that stopped accepting while busy accepts again:
    with one worker of one thread, requests after a slow one are served."""
    env = {**ONE_THREAD_EACH, "WEB_CONCURRENCY": "1"}
    with gunicorn(tmp_path, env=env, app=PROBE_APP) as base:
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(get(f"{base}/__deploy_probe__?sleep=0.2")[0]))
                   for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert answers == [200] * 5


def workers_holding(base, connections, rounds=3):
    """Open `connections` keep-alive connections at once, as wrk does (each
    sends its first request as soon as it is connected), `rounds` requests
    on each, all of them held open until every one is done: how many of
    them each worker served."""
    port = int(base.rsplit(":", 1)[1])
    start, done = threading.Barrier(connections), threading.Barrier(connections)
    served = []

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        start.wait(timeout=20)
        pids = set()
        for _ in range(rounds):
            connection.request("GET", "/__deploy_probe__")
            pids.add(json.loads(connection.getresponse().read())["worker_pid"])
        done.wait(timeout=20)
        connection.close()
        served.append(pids)

    clients = [threading.Thread(target=client) for _ in range(connections)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(timeout=60)
    assert len(served) == connections and all(len(pids) == 1 for pids in served)  # kept alive
    return sorted(collections.Counter(pid for pids in served for pid in pids).values())


def connections_one_by_one_land_on(base, connections):
    """How many workers `connections` keep-alive connections, opened one
    after another and each held open, land on. A worker that is forked but
    still booting takes none and does not count yet, so the others share
    the connections (CI once saw a whole first burst go [10, 11, 11]): only
    once this reaches the number of workers is every one of them counting."""
    port = int(base.rsplit(":", 1)[1])
    held, pids = [], set()
    try:
        for _ in range(connections):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            held.append(connection)
            connection.request("GET", "/__deploy_probe__")
            pids.add(json.loads(connection.getresponse().read())["worker_pid"])
    finally:
        for connection in held:
            connection.close()
    return len(pids)


def test_a_burst_of_keep_alive_connections_is_spread_evenly_over_the_workers(tmp_path):
    """Check that 32 connections opened at once over 4 workers of 4 threads
    end up 8 (give or take one) per worker, in each of three bursts:
    gunicorn's own worker leaves them as they land ([25, 5, 1, 1] in the
    bench), and the project's worker alone (a free thread is enough) left
    [18, 6, 4, 4]."""
    env = {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "4", "WEB_CONCURRENCY": "4"}
    with gunicorn(tmp_path, env=env, app=PROBE_APP) as base:
        wait_until(lambda: connections_one_by_one_land_on(base, 4) == 4, timeout=60,
                   message="all four workers to count on the board")
        spreads = [workers_holding(base, 32) for _ in range(3)]
    assert all(len(spread) == 4 and spread[-1] - spread[0] <= 2 for spread in spreads), spreads


def test_a_hung_worker_holds_the_others_back_for_a_moment_only(tmp_path):
    """Check that a worker that stops (SIGSTOP: as hung as a process gets)
    while holding the fewest connections stops counting after STALE_AFTER:
    the other worker takes and serves new connections although it then
    holds more, long before a client gives up (10 s) or its first
    connection's keep-alive ends (30 s here) and evens the count."""
    env = {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "4", "WEB_CONCURRENCY": "2",
           "GUNICORN_KEEPALIVE": "30"}
    with gunicorn(tmp_path, env=env, app=PROBE_APP) as base:
        wait_until(lambda: len(base.ready_worker_pids()) == 2, timeout=60, message="both workers to be ready")
        hung = min(base.worker_pids())
        [running] = base.worker_pids() - {hung}
        os.kill(hung, signal.SIGSTOP)
        try:
            port = int(base.rsplit(":", 1)[1])
            held, pids = [], set()
            for _ in range(3):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("GET", "/__deploy_probe__")
                pids.add(json.loads(connection.getresponse().read())["worker_pid"])
                held.append(connection)
            for connection in held:
                connection.close()
        finally:
            os.kill(hung, signal.SIGCONT)
    assert pids == {running}


def test_a_killed_worker_gives_its_seat_to_its_replacement(tmp_path):
    """Check that a worker killed outright (SIGKILL: no chance to say
    goodbye) is replaced, the master's `child_exit` clearing its seat
    without error (one that raised left the server without a replacement),
    and that once the replacement serves, a burst spreads evenly over both
    again."""
    env = {"GUNICORN_WORKER_CLASS": "gthread", "GUNICORN_THREADS": "4", "WEB_CONCURRENCY": "2"}
    with gunicorn(tmp_path, env=env, app=PROBE_APP) as base:
        wait_until(lambda: len(base.ready_worker_pids()) == 2, timeout=60, message="both workers to be ready")
        killed, survivor = sorted(base.worker_pids())
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: base.worker_pids() - {killed, survivor}, timeout=30, message="a new worker")
        [replacement] = base.worker_pids() - {killed, survivor}
        wait_until(lambda: served_by(base) == replacement, timeout=30, message="the new worker to serve")
        spread = workers_holding(base, 16)
    assert spread in ([8, 8], [7, 9]) and "Traceback" not in (tmp_path / "error.log").read_text()


def served_by(base):
    """The pid of the worker that answered one request on a new connection."""
    return json.loads(get(f"{base}/__deploy_probe__")[2])["worker_pid"]
