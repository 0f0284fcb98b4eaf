#!/usr/bin/env python
"""The scheduler process: runs `publish_due` every few seconds, forever.

The local stack and docker-compose both run it, so scheduled posts appear on
time without anyone acting. SCHEDULER_INTERVAL (seconds, default 5) sets the pace.
It also starts `check_integrity --repair` every INTEGRITY_CHECK_MINUTES (0: never).
"""
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # to find import_path.py
import import_path  # noqa: E402

import_path.use()


def main():
    import django
    from django.core.management import call_command
    from django.db import close_old_connections

    django.setup()
    interval = float(os.environ.get("SCHEDULER_INTERVAL", "5"))
    integrity = integrity_check()
    while True:
        integrity.start_if_due()
        try:
            call_command("publish_due")
        except Exception as error:  # keep the loop alive; Sentry has the traceback
            print(f"scheduler: publish_due failed: {error!r}", file=sys.stderr, flush=True)
        close_old_connections()
        time.sleep(interval)


# --- Ops (README "Operating it"): the integrity check, every INTEGRITY_CHECK_MINUTES
def integrity_check():
    """check_integrity --repair in a child process, so a long check never delays publishing."""
    from django.conf import settings

    from ops.jobs import PeriodicCommand

    return PeriodicCommand(["check_integrity", "--repair"], every_minutes=settings.INTEGRITY_CHECK_MINUTES)


if __name__ == "__main__":
    main()
