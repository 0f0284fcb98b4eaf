"""Publishing: manual and scheduled publish, unpublish, edit and delete keep
each tag's and author's latest-post reference true and invalidate every page
that showed (or will show) the post."""
from datetime import datetime, timedelta, timezone as dt_timezone

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from blog import publishing
from blog.models import AuthorProfile, EditConflict, Post, Tag
from tests.fixtures import cluster
from tests.fixtures.factories import AuthorFactory, PostFactory, TagFactory

pytestmark = pytest.mark.django_db


def latest_of(tag=None, author=None):
    if tag is not None:
        return Tag.objects.get(pk=tag.pk).latest_post_id
    return AuthorProfile.objects.get(user=author).latest_post_id


def everything_showing(post, when):
    return {f"post:{post.pk}", "home", "feed", "sitemap", "search", f"author:{post.author_id}",
            f"archive:{when.year}", f"archive:{when.year}-{when.month:02d}"}


def test_publishing_moves_latest_references_and_invalidates_every_list(invalidated):
    """Check that publishing a draft makes it its tag's and author's latest post and invalidates its lists."""
    tag, author = TagFactory(slug="sql"), AuthorFactory()
    older = PostFactory(tags=[tag], author=author)
    draft = PostFactory(tags=[tag], author=author, status=Post.Status.DRAFT, published_at=None)
    assert latest_of(tag=tag) == older.pk and latest_of(author=author) == older.pk
    invalidated.clear()
    published = publishing.publish(draft)
    assert published.status == Post.Status.PUBLISHED and published.published_at is not None
    assert latest_of(tag=tag) == draft.pk and latest_of(author=author) == draft.pk
    assert everything_showing(draft, published.published_at) | {"tag:sql"} <= invalidated.tags


def test_unpublishing_the_latest_post_falls_back_to_the_previous_one(invalidated):
    """Check that unpublishing a tag's latest post points the tag back at the previous one."""
    tag = TagFactory()
    older = PostFactory(tags=[tag])
    newest = PostFactory(tags=[tag], published_at=timezone.now())
    assert latest_of(tag=tag) == newest.pk
    when = newest.published_at
    invalidated.clear()
    publishing.unpublish(newest)
    assert latest_of(tag=tag) == older.pk
    assert latest_of(author=newest.author) is None
    assert everything_showing(newest, when) <= invalidated.tags
    assert Post.objects.get(pk=newest.pk).status == Post.Status.DRAFT


def test_editing_tags_of_a_published_post_updates_both_tags(invalidated):
    """Check that moving a published post from one tag to another fixes both tags' latest post."""
    old_tag, new_tag = TagFactory(slug="old"), TagFactory(slug="new")
    post = PostFactory(tags=[old_tag])
    before = publishing.state_of(post)
    post.tags.set([new_tag])
    invalidated.clear()
    publishing.post_changed(before, publishing.state_of(post))
    assert latest_of(tag=old_tag) is None and latest_of(tag=new_tag) == post.pk
    assert {"tag:old", "tag:new", f"post:{post.pk}"} <= invalidated.tags


def test_deleting_a_post_by_any_path_fixes_latest_references(invalidated):
    """Check that deleting the latest post (even with QuerySet.delete) re-points its tag and author."""
    tag, author = TagFactory(slug="ops"), AuthorFactory()
    older = PostFactory(tags=[tag], author=author)
    newest = PostFactory(tags=[tag], author=author, published_at=timezone.now())
    invalidated.clear()
    Post.objects.filter(pk=newest.pk).delete()
    assert latest_of(tag=tag) == older.pk and latest_of(author=author) == older.pk
    assert {f"post:{newest.pk}", "tag:ops", "home"} <= invalidated.tags


def test_changing_a_draft_invalidates_nothing(invalidated):
    """Check that readers' pages are left alone when a post they cannot see changes."""
    draft = PostFactory(status=Post.Status.DRAFT, published_at=None)
    invalidated.clear()
    publishing.post_changed(publishing.state_of(draft), publishing.state_of(draft))
    assert invalidated.tags == set()


def test_an_edit_from_a_stale_copy_is_refused_by_the_update_itself():
    """Check that saving a copy read before someone else's save raises EditConflict and writes nothing."""
    post = PostFactory(title="Original")
    mine, theirs = Post.objects.get(pk=post.pk), Post.objects.get(pk=post.pk)
    theirs.title = "Their title"
    theirs.save()
    mine.title = "My title"
    with pytest.raises(EditConflict), transaction.atomic():
        mine.save()
    assert Post.objects.get(pk=post.pk).title == "Their title"


def test_an_editors_save_never_writes_back_a_stale_comment_count():
    """Check that saving a post keeps comment_count as the F() updates left it."""
    post = PostFactory()
    copy = Post.objects.get(pk=post.pk)
    Post.objects.filter(pk=post.pk).update(comment_count=7)
    copy.title = "Edited"
    copy.save()
    assert Post.objects.get(pk=post.pk).comment_count == 7


def test_publish_due_publishes_only_posts_whose_time_has_come(invalidated):
    """Check that publish_due publishes a due scheduled post at its scheduled time, and leaves future ones."""
    tag = TagFactory(slug="due")
    due_at = datetime(2026, 1, 5, 9, 30, tzinfo=dt_timezone.utc)
    due = PostFactory(tags=[tag], status=Post.Status.SCHEDULED, published_at=due_at)
    future = PostFactory(status=Post.Status.SCHEDULED, published_at=timezone.now() + timedelta(days=1))
    invalidated.clear()
    call_command("publish_due", verbosity=0)
    due.refresh_from_db()
    future.refresh_from_db()
    assert due.status == Post.Status.PUBLISHED and due.published_at == due_at
    assert future.status == Post.Status.SCHEDULED
    assert latest_of(tag=tag) == due.pk
    assert everything_showing(due, due_at) | {"tag:due"} <= invalidated.tags


def test_a_scheduled_post_appears_on_time(client):
    """Check that a post scheduled a moment ahead is not public before its time and is right after."""
    post = PostFactory(status=Post.Status.SCHEDULED, published_at=timezone.now() + timedelta(seconds=1))
    call_command("publish_due", verbosity=0)
    assert client.get(f"/posts/{post.slug}/").status_code == 404

    def published_by_the_scheduler():
        call_command("publish_due", verbosity=0)
        return Post.objects.get(pk=post.pk).status == Post.Status.PUBLISHED

    cluster.wait_until(published_by_the_scheduler, timeout=10, interval=0.1, message="the scheduled post")
    assert timezone.now() >= post.published_at
    assert client.get(f"/posts/{post.slug}/").status_code == 200


def test_seed_creates_realistic_content_in_bulk(client):
    """Check that seed makes posts with code, images and comments, exact counts and latest references."""
    call_command("seed", posts=60, verbosity=0)
    published = Post.objects.published()
    assert Post.objects.count() == 60 and published.count() > 40
    assert published.filter(body_html__contains='class="codehilite"').exists()
    assert published.filter(body_html__contains='src="/static/blog/demo/').exists()
    for post in published.exclude(comment_count=0)[:10]:
        assert post.comment_count == post.comments.visible().count()
    assert not Tag.objects.filter(posts__status="published", latest_post=None).exists()
    assert client.get("/").status_code == 200
