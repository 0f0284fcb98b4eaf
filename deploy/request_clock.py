"""How long a request took, measured only when something reads it, and
cheaply: the project's workers call `install` after the fork
(deploy/worker_process.py).

gunicorn's workers time every request with `datetime.now()` before and
after, and hand the difference to the logger's `access()`. That is two
readings of the wall clock, each turned into a local date and time, and a
timedelta: about 5,000 instructions a request, nearly 2 % of a cached hit
(callgrind, stop 35), paid even with the access log off. The project's
logger (deploy/access_log.py) is the only reader of that difference and
needs only its milliseconds.

So gunicorn's worker modules get, in place of their `datetime`,
- `MonotonicClock` while the access log is written: `now()` is
  `time.perf_counter`, the difference a float of seconds. It is monotonic
  as well: setting the system clock back mid-request gave gunicorn's a
  negative time;
- `NoClock` while it is off: `now()` is 0.0 and nothing reads it.

Under any other logger class (gunicorn's own reads a timedelta's fields)
gunicorn's `datetime` stays.
"""
import time

from gunicorn.workers import gthread, sync

from deploy.access_log import AccessLogger

GUNICORNS = gthread.datetime
TIMED_MODULES = (gthread, sync)  # each reads `datetime.now()` around a request, and nothing else of it


class MonotonicClock:
    """`datetime` for gunicorn's workers: `now()` in seconds, monotonic."""
    now = staticmethod(time.perf_counter)


class NoClock:
    """`datetime` for gunicorn's workers when no access log is written."""

    @staticmethod
    def now():
        return 0.0


def clock_for(log):
    if not isinstance(log, AccessLogger):
        return GUNICORNS
    return MonotonicClock if log.writes_lines else NoClock


def install(log):
    """Time this process's requests as `log` needs (call again when the
    worker's logger changes)."""
    for module in TIMED_MODULES:
        module.datetime = clock_for(log)
