"""The "Editors" group, with exactly what an editor needs: write, publish and
delete posts; manage tags and authors' profiles; moderate comments. Nothing
on users, groups or sessions (that stays with superusers)."""
from django.db import migrations

EDITORS = "Editors"
EDITOR_PERMISSIONS = [
    ("post", ["add_post", "change_post", "delete_post", "view_post", "publish_post"]),
    ("tag", ["add_tag", "change_tag", "delete_tag", "view_tag"]),
    ("comment", ["view_comment", "change_comment", "delete_comment"]),
    ("authorprofile", ["view_authorprofile", "change_authorprofile"]),
]


def create_editors_group(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; make them now.
    blog_config = apps.get_app_config("blog")
    blog_config.models_module = True
    create_permissions(blog_config, apps=apps, verbosity=0, using=schema_editor.connection.alias)
    blog_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=EDITORS)
    codenames = [codename for _, codenames in EDITOR_PERMISSIONS for codename in codenames]
    permissions = Permission.objects.filter(content_type__app_label="blog", codename__in=codenames)
    assert permissions.count() == len(codenames), "a blog permission is missing"
    group.permissions.set(permissions)


def remove_editors_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=EDITORS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("blog", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_editors_group, remove_editors_group)]
