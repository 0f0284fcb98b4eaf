"""Every change an editor (or a reader, or the scheduler) can make reaches
every cached page that shows it: each model and admin action below is made
the way the site makes it, after the pages that show it were cached (in
Redis and in this process's memory tier), and each of those pages must then
be served fresh, within bound B, never as a stale HIT of the old copy.

Through the real WSGI application (readers) and the real admin (editors),
against the real cluster and Redis. Not covered: deleting a user, which the
site refuses while they have posts (Post.author is PROTECT) and which,
once they have none, changes no page (signals.py invalidates it anyway).
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import timezone

from blog.models import AuthorProfile, Comment, Post
from tests.fixtures.html_forms import comment_form
from tests.blog.test_admin import change_form_data
from tests.cache.conftest import page_keys
from tests.fixtures import cluster
from tests.fixtures.factories import AuthorFactory, CommentFactory, PostFactory, TagFactory, UserFactory
from tests.fixtures.wsgi import application_on, request

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

# Within bound B (L + 1 s) with replicas caught up; a missed invalidation
# leaves the old copy for PAGE_CACHE_TTL (300 s).
FRESH_WITHIN_SECONDS = 5
PUBLISHED_AT = datetime(2021, 6, 15, 9, 30, tzinfo=dt_timezone.utc)
HOME, POST, TAG, AUTHOR = "/", "/posts/marmalade-notes/", "/tags/rowan/", "/authors/wren/"
YEAR, MONTH, FEED = "/archive/2021/", "/archive/2021/06/", "/feed/"
SEARCH, POSTS_SITEMAP, TAGS_SITEMAP = "/search/?q=marmalade", "/sitemap-posts.xml", "/sitemap-tags.xml"
LISTS = (HOME, TAG, AUTHOR, YEAR, MONTH, SEARCH)


@dataclass
class World:
    """What the pages show: one author, one tag, one published post."""
    author: object
    tag: object
    post: object
    editor: Client = field(default=None)


@pytest.fixture
def world(replicated_db):
    author = AuthorFactory(username="wren", first_name="Jenny", last_name="Wren", profile__display_name="")
    tag = TagFactory(name="Rowan", slug="rowan")
    post = PostFactory(title="Marmalade notes", slug="marmalade-notes", author=author, tags=[tag],
                       published_at=PUBLISHED_AT, body="How marmalade sets, and why it sometimes will not.")
    editor = Client()
    editor.force_login(UserFactory(username="chief", is_staff=True, is_superuser=True))
    cluster.wait_all_replayed()
    return World(author, tag, post, editor)


@pytest.fixture
def site(world, redis_client):
    with override_settings(SEARCH_RATE_LIMIT="off", COMMENT_RATE_LIMIT="off"), \
            application_on("urls") as application:
        yield application


def shows(text):
    return lambda status, body: status == 200 and text in body


def lacks(text):
    return lambda status, body: text not in body


def all_of(*checks):
    return lambda status, body: all(check(status, body) for check in checks)


def gone(status, body):
    return status == 404


def read(site, path):
    response = request(site, path)
    return response.status, response.text, response.headers.get("X-Cache")


def cache(site, paths):
    """Read each page twice: rendered and stored, then copied into the memory tier."""
    for path in paths:
        read(site, path)
        read(site, path)


def assert_fresh(site, expectations):
    """Each page, read again and again, comes to satisfy its expectation within
    bound B, and keeps satisfying it (no old copy served after the fresh one)."""
    for path, expected in expectations.items():
        cluster.wait_until(lambda: expected(*read(site, path)[:2]), timeout=FRESH_WITHIN_SECONDS,
                           interval=0.05, message=f"{path} to show the change")
        for _ in range(3):
            status, body, outcome = read(site, path)
            assert expected(status, body), f"{path} went back to an old copy ({outcome})"


def run_case(site, world, change, expectations, before=None):
    """Cache the pages, check they show the old state, change, check they follow."""
    cache(site, expectations)
    for path, expected in (before or {}).items():
        assert expected(*read(site, path)[:2]), f"{path} before the change"
    change(world)
    cluster.wait_all_replayed()
    assert_fresh(site, expectations)


def admin_action(world, model, action, *objects):
    response = world.editor.post(f"/admin/blog/{model}/", {
        "action": action, "_selected_action": [obj.pk for obj in objects]})
    assert response.status_code == 302, response.content[:500]


def admin_save(world, url, data):
    response = world.editor.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]


def admin_delete(world, url):
    assert world.editor.post(url, {"post": "yes"}).status_code == 302


# --- posts --------------------------------------------------------------------

def test_publishing_a_draft_shows_it_everywhere(site, world):
    """Check publish (admin action): a new author's first post and a year with
    nothing yet appear on every list, the feed, the sitemap and their own pages."""
    newcomer = AuthorFactory(username="finch", first_name="Ada", last_name="Finch", profile__display_name="")
    draft = PostFactory(title="Medlar notes", slug="medlar-notes", author=newcomer, tags=[world.tag],
                        status=Post.Status.DRAFT, published_at=None, body="Medlars and marmalade.")
    now = timezone.now()
    year, month = f"/archive/{now:%Y}/", f"/archive/{now:%Y}/{now:%m}/"
    run_case(site, world, lambda w: admin_action(w, "post", "publish_selected", draft), {
        HOME: shows("Medlar notes"), TAG: shows("Medlar notes"), SEARCH: shows("Medlar notes"),
        "/posts/medlar-notes/": shows("Medlar notes"), "/authors/finch/": shows("Medlar notes"),
        year: shows("Medlar notes"), month: shows("Medlar notes"),
        FEED: shows("Medlar notes"), POSTS_SITEMAP: shows("/posts/medlar-notes/"),
    }, before={HOME: lacks("Medlar notes"), "/posts/medlar-notes/": gone, "/authors/finch/": gone})


def test_editing_a_post_title_and_address_updates_every_page(site, world):
    """Check edit (admin change form): the new title everywhere, the new address
    served and the old one gone, the sitemap listing the new address."""
    def edit(w):
        admin_save(w, f"/admin/blog/post/{w.post.pk}/change/",
                   change_form_data(w.editor, w.post, title="Marmalade, revised", slug="marmalade-revised"))

    run_case(site, world, edit, {
        **{path: shows("Marmalade, revised") for path in (*LISTS, FEED)},
        "/posts/marmalade-revised/": shows("Marmalade, revised"), POST: gone,
        POSTS_SITEMAP: shows("/posts/marmalade-revised/"),
    })


@pytest.mark.parametrize("how", ["unpublish", "delete"])
def test_unpublishing_or_deleting_a_post_takes_it_off_every_page(site, world, how):
    """Check unpublish (admin action) and delete (admin): the post leaves every
    list, the feed, the sitemap, and its page is gone."""
    def change(w):
        if how == "unpublish":
            admin_action(w, "post", "unpublish_selected", w.post)
        else:
            admin_delete(w, f"/admin/blog/post/{w.post.pk}/delete/")

    run_case(site, world, change, {
        **{path: lacks("Marmalade notes") for path in (HOME, TAG, YEAR, SEARCH, FEED)},
        POST: gone, AUTHOR: gone, MONTH: gone, POSTS_SITEMAP: lacks(POST),
    })


def test_a_scheduled_post_published_when_due_appears_everywhere(site, world):
    """Check schedule -> publish: the scheduler's publish_due puts a due post on every page."""
    due = PostFactory(title="Quince notes", slug="quince-notes", author=world.author, tags=[world.tag],
                      status=Post.Status.SCHEDULED, published_at=PUBLISHED_AT + timedelta(days=1),
                      body="Quince and marmalade.")
    run_case(site, world, lambda w: call_command("publish_due"), {
        **{path: shows("Quince notes") for path in (*LISTS, FEED)},
        "/posts/quince-notes/": shows("Quince notes"), POSTS_SITEMAP: shows("/posts/quince-notes/"),
    }, before={HOME: lacks("Quince notes")})
    assert Post.objects.get(pk=due.pk).is_published


# --- comments -----------------------------------------------------------------

def test_a_readers_comment_shows_on_the_post_and_counts_on_the_lists(site, world):
    """Check comment add (the readers' form): the comment on the post page, its count on the lists."""
    def comment(w):
        action, fields = comment_form(read(site, POST)[1])
        fields.update(name="Bea", body="Lemon helps it set.")
        response = request(site, action, method="POST", data=urlencode(fields).encode(), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1",
            "Referer": f"http://127.0.0.1{POST}"})
        assert response.status == 303

    run_case(site, world, comment, {POST: shows("Lemon helps it set."),
                                    **{path: shows("1 comment") for path in LISTS}})


@pytest.mark.parametrize("action, status, visible_after", [
    ("approve", Comment.Status.HELD, True),
    ("hide", Comment.Status.VISIBLE, False),
    ("delete", Comment.Status.VISIBLE, False),
])
def test_moderating_a_comment_updates_the_post_and_the_counts(site, world, action, status, visible_after):
    """Check comment approve, hide and delete (admin): the comment and the counts follow."""
    comment = CommentFactory(post=world.post, name="Bea", body="Lemon helps it set.", status=status)
    if status == Comment.Status.VISIBLE:
        Post.objects.filter(pk=world.post.pk).update(comment_count=1)

    def moderate(w):
        if action == "delete":
            admin_delete(w, f"/admin/blog/comment/{comment.pk}/delete/")
        else:
            admin_action(w, "comment", action, comment)

    check = shows if visible_after else lacks
    run_case(site, world, moderate, {POST: check("Lemon helps it set."),
                                     **{path: check("1 comment") for path in LISTS}})


# --- tags ---------------------------------------------------------------------

def test_adding_a_tag_serves_its_page(site, world):
    """Check tag add (admin): the new tag's page, a 404 before, is served."""
    run_case(site, world, lambda w: admin_save(w, "/admin/blog/tag/add/", {
        "name": "Sloe", "slug": "sloe", "description": "Sloes, gin and patience."}),
        {"/tags/sloe/": shows("Sloes, gin and patience.")}, before={"/tags/sloe/": gone})


def test_renaming_a_tag_updates_its_pages_the_posts_and_the_sitemap(site, world):
    """Check tag rename (admin): the new name on the post and the lists, the
    new address served and the old one gone, the sitemap listing the new one."""
    run_case(site, world, lambda w: admin_save(w, f"/admin/blog/tag/{w.tag.pk}/change/", {
        "name": "Hawthorn", "slug": "hawthorn", "description": ""}), {
        **{path: shows("Hawthorn") for path in (POST, HOME, AUTHOR, YEAR, MONTH, SEARCH)},
        "/tags/hawthorn/": shows("Hawthorn"), TAG: gone, TAGS_SITEMAP: shows("/tags/hawthorn/"),
    })


def test_deleting_a_tag_takes_it_off_the_posts_and_the_sitemap(site, world):
    """Check tag delete (admin): gone from the post and the lists, its page a 404."""
    run_case(site, world, lambda w: admin_delete(w, f"/admin/blog/tag/{w.tag.pk}/delete/"), {
        **{path: lacks(">Rowan<") for path in (POST, HOME, AUTHOR, YEAR, MONTH, SEARCH)},
        TAG: gone, TAGS_SITEMAP: lacks("/tags/rowan/"),
    }, before={POST: shows(">Rowan<")})


# --- authors and users ----------------------------------------------------------

def test_changing_an_authors_display_name_updates_every_page_with_it(site, world):
    """Check author profile change (admin): the new name on the post, the lists and the feed."""
    profile = AuthorProfile.objects.get(user=world.author)
    run_case(site, world, lambda w: admin_save(w, f"/admin/blog/authorprofile/{profile.pk}/change/", {
        "user": w.author.pk, "display_name": "J. Wren of the Hedgerow", "bio": "Jams."}),
        {path: shows("J. Wren of the Hedgerow") for path in (POST, *LISTS, FEED)},
        before={POST: shows("Jenny Wren")})


def test_renaming_a_user_in_the_user_admin_updates_names_and_author_addresses(site, world):
    """Check user rename (Django's user admin): the new full name on the post,
    the lists and the feed; the new author address served, the old one gone,
    and the post page linking to the new one."""
    def rename(w):
        admin_save(w, f"/admin/auth/user/{w.author.pk}/change/", {
            "username": "jwren", "first_name": "Jennifer", "last_name": "Wren-Hedges",
            "email": "wren@example.com", "is_active": "on", "is_staff": "on",
            "date_joined_0": "2021-01-01", "date_joined_1": "00:00:00"})

    run_case(site, world, rename, {
        **{path: shows("Jennifer Wren-Hedges") for path in (HOME, TAG, YEAR, MONTH, SEARCH, FEED)},
        POST: all_of(shows("Jennifer Wren-Hedges"), shows('href="/authors/jwren/"')),
        "/authors/jwren/": shows("Jennifer Wren-Hedges"), AUTHOR: gone,
    }, before={POST: shows("Jenny Wren")})


# --- 404s -----------------------------------------------------------------------

def test_a_404_rendered_from_before_a_publish_is_never_stored_after_it(site, world, redis_client):
    """Check that the 404s a publish ends (the post's page, its new author's
    page, its year's archive), rendered from a replica that has not replayed
    the publish yet, are not stored once the publish is recorded: they carry
    the tags of what they would show, and the store refuses a snapshot older
    than the newest invalidation of those tags. (Stored, such a 404 would be
    replayed as a HIT after the publish, past bound B for a slow render.)"""
    newcomer = AuthorFactory(username="finch", profile__display_name="")
    draft = PostFactory(title="Medlar notes", slug="medlar-notes", author=newcomer, tags=[world.tag],
                        status=Post.Status.DRAFT, published_at=None)
    cluster.wait_all_replayed()
    now = timezone.now()
    ended = ("/posts/medlar-notes/", "/authors/finch/", f"/archive/{now:%Y}/{now:%m}/")
    with cluster.replay_paused("replica1"), cluster.replay_paused("replica2"):
        from blog import publishing

        publishing.publish(draft)
        for path in ended:
            first, again = request(site, path), request(site, path)
            assert first.status == again.status == 404, path  # the replicas have not seen it yet
            assert again.headers["X-Cache"] != "HIT", path
    stored = " ".join(page_keys(redis_client))
    assert not any(path in stored for path in ended), stored
