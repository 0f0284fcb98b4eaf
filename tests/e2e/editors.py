"""Editors in the browser: accounts, logging in through the admin's own form,
and the post form's fields as an editor fills them."""
import re
from importlib import import_module

from django.contrib.auth.models import Group, Permission

from tests.fixtures.factories import AuthorProfileFactory, UserFactory

PASSWORD = "a-long-editor-password"
# The group as the data migration defines it: the flush between transactional
# tests empties auth_group, so each journey makes it again from that list.
EDITOR_PERMISSIONS = import_module("blog.migrations.0002_editors_group").EDITOR_PERMISSIONS


def editors_group():
    group, _ = Group.objects.get_or_create(name="Editors")
    codenames = [codename for _, names in EDITOR_PERMISSIONS for codename in names]
    group.permissions.set(Permission.objects.filter(content_type__app_label="blog", codename__in=codenames))
    return group


def make_editor(username, display_name):
    """A staff account in the Editors group (not a superuser), with a profile."""
    first, _, last = display_name.partition(" ")
    user = UserFactory(username=username, first_name=first, last_name=last, is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(editors_group())
    AuthorProfileFactory(user=user, display_name=display_name)
    return user


def log_in(page, username):
    """Log in through /admin/login/ as a person would; ends on the admin index."""
    page.goto("/admin/login/?next=/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def post_id_from(page):
    """The post's id in a change form's URL (/admin/blog/post/<id>/change/)."""
    return int(re.search(r"/admin/blog/post/(\d+)/change/", page.url).group(1))


def save(page, button="Save"):
    """Press one of the admin form's save buttons and wait for the answer."""
    with page.expect_navigation():
        page.locator(f'input[type="submit"][value="{button}"]').click()
