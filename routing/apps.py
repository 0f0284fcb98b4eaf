"""App config: registers the system check and the wrapper that runs the
primary's autocommit statements in transactions (routing/writes.py); forgets
what the fast path caches of the settings when a test changes them."""
from django.apps import AppConfig
from django.core.signals import setting_changed
from django.db.backends.signals import connection_created


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        from . import checks, conf, signed, writes  # noqa: F401  (registers the check)

        connection_created.connect(writes.install, dispatch_uid="routing.writes")
        setting_changed.connect(signed.forget_keys, dispatch_uid="routing.signed_keys")
        setting_changed.connect(conf.forget_cached_settings, dispatch_uid="routing.conf")
