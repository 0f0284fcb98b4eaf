"""App config: registers the system check and the wrapper that runs the
primary's autocommit statements in transactions (routing/writes.py)."""
from django.apps import AppConfig
from django.db.backends.signals import connection_created


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        from . import checks, writes  # noqa: F401  (registers the check)

        connection_created.connect(writes.install, dispatch_uid="routing.writes")
