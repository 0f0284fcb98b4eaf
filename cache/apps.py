"""App config: registers the system check; forgets per-process caches when
tests change the settings they depend on; starts the cache afresh on a new
primary timeline."""
from django.apps import AppConfig
from django.core.signals import setting_changed


def _settings_changed(setting, **kwargs):
    from . import connection, keys, memory

    if setting in ("ROOT_URLCONF", "ALLOWED_HOSTS"):
        keys.forget()
    if setting == "REDIS_URL":
        connection.reset()
    memory.clear()


class CacheConfig(AppConfig):
    name = "cache"
    label = "page_cache"

    def ready(self):
        from routing import primary_changed

        from . import checks  # noqa: F401  (registers the check)
        from .timeline import on_new_timeline

        setting_changed.connect(_settings_changed, dispatch_uid="cache.settings_changed")
        primary_changed.connect(on_new_timeline, dispatch_uid="cache.new_timeline")
