"""Demo content (placeholder until the blog issue lands)."""
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--posts", type=int, default=100)

    def handle(self, *args, **options):
        self.stdout.write("nothing to seed yet")
