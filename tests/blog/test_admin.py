"""The editors' workflow in the admin: the Editors group, the local editor
account, optimistic locking (no lost updates), preview, publishing actions
and comment moderation."""
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from blog.models import Comment, Post
from tests.fixtures.factories import CommentFactory, PostFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

EDITOR_PERMISSIONS = {
    "add_post", "change_post", "delete_post", "view_post", "publish_post",
    "add_tag", "change_tag", "delete_tag", "view_tag",
    "view_comment", "change_comment", "delete_comment",
    "view_authorprofile", "change_authorprofile",
}


def editor_client(username):
    user = UserFactory(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


def change_form_data(client, post, **changes):
    """What the change form holds when opened, as the browser would send it back."""
    html = client.get(f"/admin/blog/post/{post.pk}/change/").content.decode()
    version = re.search(r'name="loaded_version" value="(\d+)"', html).group(1)
    data = {
        "title": post.title, "slug": post.slug, "author": post.author_id,
        "tags": [tag.pk for tag in post.tags.all()], "excerpt": post.excerpt, "body": post.body,
        "status": post.status, "published_at_0": post.published_at.strftime("%Y-%m-%d"),
        "published_at_1": post.published_at.strftime("%H:%M:%S"), "loaded_version": version,
    }
    return {**data, **changes}


def test_the_editors_group_has_exactly_what_editors_need():
    """Check that the Editors group's permissions are exactly the blog's editing ones."""
    group = Group.objects.get(name="Editors")
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == EDITOR_PERMISSIONS
    assert set(group.permissions.values_list("content_type__app_label", flat=True)) == {"blog"}


def test_the_local_editor_is_staff_in_the_editors_group_but_not_superuser(tmp_path):
    """Check that local_editor makes `editor` staff, an Editor, not a superuser, and admits it to the admin."""
    password_file = tmp_path / "password"
    password_file.write_text("a-long-local-password\n")
    call_command("local_editor", "--password-file", str(password_file))
    client = Client()
    assert client.login(username="editor", password="a-long-local-password")
    from django.contrib.auth import get_user_model

    editor = get_user_model().objects.get(username="editor")
    assert editor.is_staff and not editor.is_superuser
    assert list(editor.groups.values_list("name", flat=True)) == ["Editors"]
    assert client.get("/admin/blog/post/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403


def test_the_second_of_two_stale_saves_is_refused_and_its_text_kept(invalidated):
    """Check that of two editors who opened the same post, the second save is refused, naming who and when."""
    post = PostFactory(title="Shared post", body="Original text")
    alice, bob = editor_client("alice"), editor_client("bob")
    alice_form = change_form_data(alice, post, body="Alice's careful edit")
    bob_form = change_form_data(bob, post, body="Bob's long rewrite, not to be lost")
    assert alice.post(f"/admin/blog/post/{post.pk}/change/", alice_form).status_code == 302
    refused = bob.post(f"/admin/blog/post/{post.pk}/change/", bob_form)
    html = refused.content.decode()
    assert refused.status_code == 200
    assert "alice saved this post at" in html and "NOT saved" in html
    assert "Bob&#x27;s long rewrite, not to be lost" in html
    stored = Post.objects.get(pk=post.pk)
    assert stored.body == "Alice's careful edit" and stored.version == post.version + 1
    assert f"post:{post.pk}" in invalidated  # Alice's edit of a published post
    again = bob.post(f"/admin/blog/post/{post.pk}/change/", bob_form)  # resending changes nothing
    assert again.status_code == 200 and Post.objects.get(pk=post.pk).body == "Alice's careful edit"


def test_saving_a_fresh_copy_succeeds_and_bumps_the_version():
    """Check that an editor's save of an up-to-date form goes through and increments the version."""
    post = PostFactory(body="Before")
    alice = editor_client("alice")
    response = alice.post(f"/admin/blog/post/{post.pk}/change/", change_form_data(alice, post, body="After"))
    assert response.status_code == 302
    stored = Post.objects.get(pk=post.pk)
    assert stored.body == "After" and stored.version == post.version + 1 and stored.updated_by.username == "alice"


def test_preview_shows_a_draft_to_staff_only_and_is_never_cached(client):
    """Check that /admin/blog/post/<id>/preview/ renders a draft for editors, never cached, and not for others."""
    draft = PostFactory(title="Draft in progress", body="Work *in progress*", status=Post.Status.DRAFT,
                        published_at=None, tags=[TagFactory()])
    url = f"/admin/blog/post/{draft.pk}/preview/"
    assert client.get(url).status_code == 302  # to the login page
    response = editor_client("alice").get(url)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Draft in progress" in html and "<em>in progress</em>" in html and "Preview of a draft post" in html
    assert "no-cache" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert not hasattr(response.wsgi_request, "page_cache_params")
    assert editor_client("bob").get("/admin/blog/post/999999/preview/").status_code == 404


def test_publish_unpublish_and_schedule_actions(invalidated):
    """Check that the changelist actions publish, unpublish and schedule selected posts."""
    alice = editor_client("alice")
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None)
    changelist = "/admin/blog/post/"
    alice.post(changelist, {"action": "publish_selected", "_selected_action": [draft.pk]})
    assert Post.objects.get(pk=draft.pk).status == Post.Status.PUBLISHED
    assert "home" in invalidated
    alice.post(changelist, {"action": "unpublish_selected", "_selected_action": [draft.pk]})
    assert Post.objects.get(pk=draft.pk).status == Post.Status.DRAFT
    asked = alice.post(changelist, {"action": "schedule_selected", "_selected_action": [draft.pk]})
    assert asked.status_code == 200 and "Publish at (UTC)" in asked.content.decode()
    when = (timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    alice.post(changelist, {"action": "schedule_selected", "_selected_action": [draft.pk], "apply": "1",
                            "publish_at": when.strftime("%Y-%m-%dT%H:%M")})
    scheduled = Post.objects.get(pk=draft.pk)
    assert scheduled.status == Post.Status.SCHEDULED and scheduled.published_at == when


def test_a_scheduled_post_needs_a_future_time():
    """Check that the change form refuses to schedule a post in the past."""
    post = PostFactory(status=Post.Status.DRAFT)
    alice = editor_client("alice")
    data = change_form_data(alice, post, status="scheduled",
                            published_at_0="2020-01-01", published_at_1="10:00:00")
    response = alice.post(f"/admin/blog/post/{post.pk}/change/", data)
    assert response.status_code == 200 and "needs a publication time in the future" in response.content.decode()


def test_moderation_approve_hide_and_delete_keep_the_count_exact(invalidated):
    """Check that approving, hiding and deleting comments keep the post's comment_count exact."""
    post = PostFactory()
    held = CommentFactory(post=post, status=Comment.Status.HELD)
    shown = CommentFactory(post=post)
    Post.objects.filter(pk=post.pk).update(comment_count=1)
    alice, changelist = editor_client("alice"), "/admin/blog/comment/"

    def count():
        return Post.objects.get(pk=post.pk).comment_count

    alice.post(changelist, {"action": "approve", "_selected_action": [held.pk]})
    assert count() == 2 and f"post:{post.pk}" in invalidated
    alice.post(changelist, {"action": "hide", "_selected_action": [held.pk, shown.pk]})
    assert count() == 0
    alice.post(changelist, {"action": "approve", "_selected_action": [shown.pk]})
    alice.post(changelist, {"action": "delete_selected", "_selected_action": [shown.pk, held.pk], "post": "yes"})
    assert count() == 0 and not Comment.objects.exists()
