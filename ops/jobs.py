"""Scheduled jobs: a Sentry Crons monitor around each run, and running a
management command every N minutes from the scheduler process.

    with monitored("check-integrity", every_minutes=60):
        ...                           # check-ins: in_progress, then ok or error

    integrity = PeriodicCommand(["check_integrity", "--repair"], every_minutes=60)
    while True:                       # deploy/scheduler.py's loop
        integrity.start_if_due()

The monitor's schedule is sent with every check-in, so Sentry creates the
monitor itself and raises an issue when a run fails, runs too long, or does
not come at all.
"""
import subprocess
import sys
import time
from pathlib import Path

import sentry_sdk

MANAGE_PY = Path(__file__).resolve().parents[1] / "manage.py"
# Minutes a run may start late before Sentry calls it missed, and the least
# it may take before Sentry calls it timed out (a run may take its whole interval).
CHECKIN_MARGIN_MINUTES = 5
MIN_MAX_RUNTIME_MINUTES = 30


def monitor_config(every_minutes):
    minutes = max(1, round(every_minutes))
    return {
        "schedule": {"type": "interval", "value": minutes, "unit": "minute"},
        "checkin_margin": CHECKIN_MARGIN_MINUTES,
        "max_runtime": max(MIN_MAX_RUNTIME_MINUTES, minutes),
        "failure_issue_threshold": 1,
        "recovery_threshold": 1,
    }


def monitored(slug, every_minutes):
    """Context manager: Sentry Crons check-ins around one run of a job."""
    return sentry_sdk.monitor(monitor_slug=slug, monitor_config=monitor_config(every_minutes))


class PeriodicCommand:
    """Runs `manage.py <args>` in a child process every `every_minutes`
    (0: never), one run at a time, so a long run never delays the caller's
    own loop (the scheduler publishes due posts every few seconds)."""

    def __init__(self, args, every_minutes):
        self.args = list(args)
        self.every_seconds = float(every_minutes) * 60
        self.next_start = time.monotonic()
        self.process = None

    def start_if_due(self):
        if self.every_seconds <= 0 or self._still_running() or time.monotonic() < self.next_start:
            return False
        self.next_start = time.monotonic() + self.every_seconds
        self.process = subprocess.Popen([sys.executable, str(MANAGE_PY), *self.args], stdin=subprocess.DEVNULL)
        return True

    def _still_running(self):
        if self.process is None:
            return False
        if self.process.poll() is None:
            return True
        if self.process.returncode:
            # The command has printed its report and told Sentry; the log says which run.
            print(f"scheduler: {' '.join(self.args)} exited with {self.process.returncode}",
                  file=sys.stderr, flush=True)
        self.process = None
        return False
