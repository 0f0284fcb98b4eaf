"""Creates (or resets) the local stack's `editor` account. Local only: the
local stack calls it; docker-compose and production never do."""
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the local `editor` account with the password read from a file."

    def add_arguments(self, parser):
        parser.add_argument("--password-file", required=True)

    def handle(self, *args, password_file, **options):
        password = Path(password_file).read_text().strip()
        user, _ = get_user_model().objects.get_or_create(username="editor")
        user.is_staff = True
        user.set_password(password)
        user.save()
