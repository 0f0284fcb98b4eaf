"""deploy/request_clock.py: the project's workers time a request only for
an access log that is written, on a monotonic clock; the line still says
how long the request took; under another logger gunicorn's own timing stays."""
import inspect
import re
import signal
import time
from datetime import timedelta

import pytest
from gunicorn import glogging
from gunicorn.config import Config
from gunicorn.workers import gthread, sync

from deploy import request_clock
from deploy.access_log import AccessLogger
from tests.deploy.gunicorn_server import get, gunicorn

PROBE_APP = "tests.deploy.gunicorn_probe_app:application"
HELD = 0.3  # seconds the probe holds the timed request


@pytest.fixture(autouse=True)
def gunicorns_own_clock(monkeypatch):
    """gunicorn's worker modules as they were, put back after each test."""
    for module in request_clock.TIMED_MODULES:
        monkeypatch.setattr(module, "datetime", module.datetime)


def logger(kind, tmp_path):
    config = Config()
    if kind != "off":
        config.set("accesslog", str(tmp_path / "access.log"))
    return (glogging.Logger if kind == "gunicorn's" else AccessLogger)(config)


@pytest.mark.parametrize("module", request_clock.TIMED_MODULES, ids=lambda module: module.__name__)
def test_gunicorns_worker_modules_use_datetime_only_to_time_a_request(module):
    """Check what the stand-in relies on, should a gunicorn upgrade change
    it: the worker module reads nothing of `datetime` but `now()`."""
    uses = re.findall(r"\bdatetime\b(\.\w+)?", inspect.getsource(module))
    assert uses and set(uses) <= {"", ".now"}  # "": the import line itself


def test_a_written_access_log_times_requests_on_a_monotonic_clock_in_seconds(tmp_path):
    """Check that with the project's logger writing lines, both of
    gunicorn's worker modules read `time.perf_counter`: a float of seconds
    that a change of the system clock does not move."""
    request_clock.install(logger("on", tmp_path))
    for module in (gthread, sync):
        assert module.datetime.now is time.perf_counter
        before = module.datetime.now()
        time.sleep(0.01)
        assert 0.01 <= module.datetime.now() - before < 1


def test_no_access_log_reads_no_clock(tmp_path):
    """Check that with the access log off, a request's 'time' is a constant:
    nothing reads it, so nothing is measured."""
    request_clock.install(logger("off", tmp_path))
    assert gthread.datetime.now() == sync.datetime.now() == 0.0


def test_gunicorns_own_logger_keeps_gunicorns_timedelta(tmp_path):
    """Check that under gunicorn's own logger (it reads a timedelta's
    fields) the worker modules keep their `datetime`."""
    request_clock.install(logger("gunicorn's", tmp_path))
    assert gthread.datetime is sync.datetime is request_clock.GUNICORNS
    assert isinstance(gthread.datetime.now() - gthread.datetime.now(), timedelta)


@pytest.mark.parametrize("worker_class", ["gthread", "sync"])
def test_the_line_says_how_long_a_request_took(tmp_path, worker_class):
    """Check, with the real gunicorn, that a request the application holds
    for HELD seconds is logged with that time (and not 0: the clock is read)."""
    with gunicorn(tmp_path, env={"GUNICORN_WORKER_CLASS": worker_class}, app=PROBE_APP) as base:
        status, _, _ = get(f"{base}/__deploy_probe__?sleep={HELD}")
        base.process.send_signal(signal.SIGTERM)
        base.process.wait(timeout=30)
    assert status == 200
    line = next(line for line in (tmp_path / "access.log").read_text().splitlines() if "sleep=" in line)
    milliseconds = int(re.search(r" (\d+)ms ", line).group(1))
    assert HELD * 1000 <= milliseconds < HELD * 1000 + 2000
