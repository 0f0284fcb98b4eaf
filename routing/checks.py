"""System check: a pin must outlive the worst lag a replica in rotation can
have, plus how old a process's view of the replicas can be, or an expired
pin could send a writer to a replica behind its write."""
from django.core import checks

from . import conf


@checks.register()
def pin_outlives_lag(app_configs, **kwargs):
    needed = conf.max_lag_seconds() + conf.health_view_age()
    if conf.pin_max_age() <= needed:
        return [checks.Error(
            f"PIN_MAX_AGE ({conf.pin_max_age():g}s) must be above MAX_REPLICA_LAG_SECONDS + "
            f"{1 + 1 / conf.LOOKS_PER_POLL:g} x REPLICA_HEALTH_INTERVAL ({needed:g}s): a process's "
            f"view of the replicas can be that old.",
            hint="Raise PIN_MAX_AGE or lower MAX_REPLICA_LAG_SECONDS.",
            id="routing.E001",
        )]
    return []
