"""Publishes scheduled posts whose time has come (placeholder)."""
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def handle(self, *args, **options):
        pass
