"""App config of ops: its management command (check_integrity) and templates-free views."""
from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
