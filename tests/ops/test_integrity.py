"""`manage.py check_integrity [--repair]`: drift planted behind the
application's back (raw SQL on the primary) is found, reported to Sentry,
repaired in batches, and every run is a Sentry Crons check-in."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from blog import comments
from blog.models import AuthorProfile, Comment, Post, Tag
from ops.jobs import PeriodicCommand
from tests.fixtures import cluster
from tests.fixtures.factories import AuthorFactory, AuthorProfileFactory, PostFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")


def behind_the_back(sql, params=None, triggers=True):
    """One statement on the primary, outside Django; with triggers off (as a
    restore with --disable-triggers would run) foreign keys are not enforced."""
    prefix = "" if triggers else "SET session_replication_role = replica; "
    cluster.query("default", prefix + sql, params)


def check_integrity(*args):
    """(exit status, printed report) of one run."""
    out = StringIO()
    try:
        call_command("check_integrity", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


@pytest.fixture
def blog_data():
    """Two authors, a tag on three published posts, visible comments counted."""
    author, other = AuthorFactory(), AuthorFactory()
    tag = TagFactory()
    posts = [PostFactory(author=author, tags=[tag], body=f"Post {n} about **replication lag**.")
             for n in range(2)] + [PostFactory(author=other, tags=[tag])]
    for post in posts[:2]:
        comments.add_comment(post, name="Ada", body="Thanks!", email="ada@example.com")
    return {"author": author, "other": other, "tag": tag, "posts": posts}


def newest(posts):
    return max(posts, key=lambda post: (post.published_at, post.pk))


def plant_comment_count(data):
    post = data["posts"][0]
    behind_the_back("UPDATE blog_post SET comment_count = comment_count + 5 WHERE id = %s", [post.pk])
    return lambda: Post.objects.get(pk=post.pk).comment_count == 1


def plant_tag_latest_post(data):
    tag, oldest = data["tag"], min(data["posts"], key=lambda post: post.published_at)
    behind_the_back("UPDATE blog_tag SET latest_post_id = %s WHERE id = %s", [oldest.pk, tag.pk])
    return lambda: Tag.objects.get(pk=tag.pk).latest_post_id == newest(data["posts"]).pk


def plant_author_latest_post(data):
    author, other = data["author"], data["other"]
    behind_the_back("UPDATE blog_authorprofile SET latest_post_id = NULL WHERE user_id = %s", [author.pk])
    behind_the_back("DELETE FROM blog_authorprofile WHERE user_id = %s", [other.pk])
    return lambda: (AuthorProfile.objects.get(user=author).latest_post_id == newest(data["posts"][:2]).pk
                    and AuthorProfile.objects.get(user=other).latest_post_id == data["posts"][2].pk)


def plant_search_text(data):
    post = data["posts"][1]
    behind_the_back("UPDATE blog_post SET body_text = 'nothing to see', summary = 'nothing' WHERE id = %s",
                    [post.pk])
    assert not Post.objects.search("replication lag").filter(pk=post.pk).exists()
    return lambda: Post.objects.search("replication lag").filter(pk=post.pk).exists()


def plant_orphaned_comments_and_tag_links(data):
    gone = data["posts"][0]
    behind_the_back("DELETE FROM blog_post WHERE id = %s", [gone.pk], triggers=False)
    return lambda: (not Comment.objects.filter(post_id=gone.pk).exists()
                    and not Post.tags.through.objects.filter(post_id=gone.pk).exists()
                    and Tag.objects.get(pk=data["tag"].pk).latest_post_id != gone.pk)


def plant_orphaned_profile(data):
    profile = AuthorProfileFactory(user=UserFactory())
    behind_the_back("DELETE FROM auth_user WHERE id = %s", [profile.user_id], triggers=False)
    return lambda: not AuthorProfile.objects.filter(pk=profile.pk).exists()


PLANTED = [
    ("comment-counts", "Comment counts", plant_comment_count),
    ("tag-latest-posts", "Tags' latest posts", plant_tag_latest_post),
    ("author-latest-posts", "Authors' latest posts", plant_author_latest_post),
    ("search-vectors", "Search vectors and summaries", plant_search_text),
    ("orphaned-comments", "Orphaned comments", plant_orphaned_comments_and_tag_links),
    ("orphaned-author-profiles", "Orphaned author profiles", plant_orphaned_profile),
]


def test_a_consistent_database_passes_and_checks_in_ok(blog_data, sentry):
    """Check that with no drift the command exits 0, says so, and sends in_progress then ok."""
    status, report = check_integrity()
    assert status == 0 and "No drift." in report
    assert report.count(" ok\n") == 8
    assert [c["status"] for c in sentry.check_ins] == ["in_progress", "ok"]
    assert {c["monitor_slug"] for c in sentry.check_ins} == {"check-integrity"}
    assert sentry.check_ins[0]["check_in_id"] == sentry.check_ins[1]["check_in_id"]
    assert sentry.check_ins[0]["monitor_config"]["schedule"] == {"type": "interval", "value": 60, "unit": "minute"}
    assert sentry.messages("Integrity drift") == []


@pytest.mark.parametrize("check, title, plant", PLANTED, ids=[name for name, _, _ in PLANTED])
def test_planted_drift_is_found_reported_and_repaired(blog_data, sentry, check, title, plant):
    """Check that each kind of drift fails the check (exit 1, error check-in, one Sentry
    event for that kind), that --repair fixes it, and that the next run is clean."""
    repaired = plant(blog_data)
    assert not repaired()

    status, report = check_integrity()
    assert status == 1
    assert f"{title}" in report and "DRIFT" in report and "Run with --repair" in report
    assert [c["status"] for c in sentry.check_ins] == ["in_progress", "error"]
    drift = [e for e in sentry.messages("Integrity drift") if e["tags"]["integrity.check"] == check]
    assert len(drift) == 1
    assert drift[0]["fingerprint"] == ["integrity-drift", check] and drift[0]["level"] == "error"

    status, report = check_integrity("--repair", "--batch-size", "1")
    assert status == 0, report
    assert "repaired" in report and "all repaired" in report
    assert repaired()
    assert [c["status"] for c in sentry.check_ins][2:] == ["in_progress", "ok"]

    status, report = check_integrity()
    assert status == 0 and "No drift." in report


def test_posts_whose_author_is_gone_are_reported_but_left_for_a_person(blog_data, sentry):
    """Check that content is never deleted automatically: --repair reports the
    author-less post and still exits 1 (error check-in)."""
    lonely = PostFactory(author=UserFactory())
    behind_the_back("DELETE FROM auth_user WHERE id = %s", [lonely.author_id], triggers=False)
    status, report = check_integrity("--repair")
    assert status == 1
    assert "Posts without an author" in report and "needs a person" in report
    assert Post.objects.filter(pk=lonely.pk).exists()
    assert [c["status"] for c in sentry.check_ins] == ["in_progress", "error"]
    behind_the_back("DELETE FROM blog_post WHERE id = %s", [lonely.pk], triggers=False)


def test_the_scheduler_starts_the_check_every_interval_one_run_at_a_time():
    """Check PeriodicCommand (deploy/scheduler.py's hook): a first run at once, in a child
    process; none while it runs nor before the interval is over; never when the interval is 0."""
    job = PeriodicCommand(["check", "--fail-level", "ERROR"], every_minutes=1)
    assert job.start_if_due() is True
    assert job.start_if_due() is False
    cluster.wait_until(lambda: job.process.poll() is not None, timeout=60, message="the run to end")
    assert job.process.returncode == 0
    assert job.start_if_due() is False  # finished, but the minute is not over
    job.next_start = 0
    assert job.start_if_due() is True
    cluster.wait_until(lambda: job.process.poll() is not None, timeout=60, message="the second run to end")
    assert PeriodicCommand(["check"], every_minutes=0).start_if_due() is False
