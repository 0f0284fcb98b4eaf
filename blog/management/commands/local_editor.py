"""Creates (or resets) the local stack's `editor` account. Local only: the
local stack calls it; docker-compose and production never do.

The account is staff (it can log in to the admin) but not a superuser: its
rights are exactly the "Editors" group's (blog/migrations/0002_editors_group.py).
"""
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

EDITORS_GROUP = "Editors"


class Command(BaseCommand):
    help = "Create the local `editor` account with the password read from a file."

    def add_arguments(self, parser):
        parser.add_argument("--password-file", required=True)

    def handle(self, *args, password_file, **options):
        password = Path(password_file).read_text().strip()
        user, _ = get_user_model().objects.get_or_create(username="editor")
        user.is_staff = True
        user.is_superuser = False
        user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=EDITORS_GROUP))
