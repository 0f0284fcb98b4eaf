"""`python manage.py check_integrity [--repair]`: verify the denormalised data
(blog/integrity.py says which facts), print a report, tell Sentry.

Exit status 0 when the data is consistent (after repairing, with --repair),
1 when drift remains. Each kind of drift found is one Sentry event (grouped
per kind), repaired or not; every run is a Sentry Crons check-in
(`check-integrity`: in_progress, then ok or error). The scheduler process
runs it with --repair every INTEGRITY_CHECK_MINUTES (README "Operating it").
"""
import sentry_sdk
from django.core.management.base import BaseCommand, CommandError

from blog import integrity
from ops import conf as ops_conf
from ops.jobs import monitored
from routing import use_primary

MONITOR_SLUG = "check-integrity"
SAMPLE_IDS = 10


class Command(BaseCommand):
    help = ("Verify comment counts, latest-post references, search vectors and orphaned rows; "
            "--repair fixes drift in small batches on the primary. Exits 1 while drift remains.")

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="fix what drifted (in batches, on the primary)")
        parser.add_argument("--batch-size", type=positive_int, default=integrity.BATCH_SIZE,
                            help=f"rows per repair transaction (default {integrity.BATCH_SIZE})")

    def handle(self, *args, repair=False, batch_size=integrity.BATCH_SIZE, **options):
        with monitored(MONITOR_SLUG, ops_conf.integrity_check_minutes()), use_primary():
            findings = integrity.run(repair=repair, batch_size=batch_size)
            self.print_report(findings, repair)
            for finding in findings:
                if finding.ids:
                    report_to_sentry(finding, repair)
            remaining = [f for f in findings if f.remaining]
            if remaining:
                raise CommandError(f"integrity drift remains in {len(remaining)} check(s): "
                                   + ", ".join(f.check.name for f in remaining), returncode=1)

    def print_report(self, findings, repair):
        self.stdout.write(f"Integrity check on the primary ({'repairing' if repair else 'read-only'}):")
        width = max(len(f.check.title) for f in findings) + 2
        for finding in findings:
            self.stdout.write(f"  {finding.check.title:<{width}}{describe(finding, repair)}")
        drifted = [f for f in findings if f.ids]
        if not drifted:
            self.stdout.write(self.style.SUCCESS("No drift."))
        elif any(f.remaining for f in findings):
            hint = "" if repair else " Run with --repair to fix it."
            self.stdout.write(self.style.ERROR(f"Drift found in {len(drifted)} check(s).{hint}"))
        else:
            self.stdout.write(self.style.WARNING(f"Drift found in {len(drifted)} check(s), all repaired."))


def positive_int(text):
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def describe(finding, repair):
    if not finding.ids:
        return "ok"
    check = finding.check
    text = f"DRIFT: {plural(len(finding.ids), check.unit)} ({sample(finding.ids)})"
    if repair and not check.repairable:
        return text + "; not repaired automatically: needs a person"
    if repair:
        text += f"; repaired {finding.repaired}"
        if finding.remaining:
            text += f", {len(finding.remaining)} still wrong ({sample(finding.remaining)})"
    return text


def plural(count, unit):
    return f"{count} {unit}{'' if count == 1 else 's'}"


def sample(ids):
    """`id 7` or `ids 3, 9, …` (the first few)."""
    shown = ", ".join(str(pk) for pk in ids[:SAMPLE_IDS])
    return f"id{'s' if len(ids) > 1 else ''} {shown}" + (", …" if len(ids) > SAMPLE_IDS else "")


def report_to_sentry(finding, repair):
    """One event per kind of drift, grouped per kind: something wrote behind
    the application's back, or a code path forgets to keep the fact true."""
    check = finding.check
    fixed = bool(repair and not finding.remaining)
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = ["integrity-drift", check.name]
        scope.set_tag("integrity.check", check.name)
        scope.set_tag("integrity.repaired", "yes" if fixed else "no")
        scope.set_context("integrity", {
            "check": check.name, "found": len(finding.ids), "sample_ids": finding.ids[:SAMPLE_IDS],
            "repaired": finding.repaired, "still_wrong": len(finding.remaining),
        })
        state = "repaired" if fixed else "not repaired"
        sentry_sdk.capture_message(f"Integrity drift in {check.title.lower()}: "
                                   f"{plural(len(finding.ids), check.unit)} ({state})",
                                   level="warning" if fixed else "error")
