"""Changes made outside the admin (the shell, a script, Django's own user
admin) invalidate the pages showing what changed, as the admin's do."""
import pytest
from django.contrib.auth.models import update_last_login

from blog.models import AuthorProfile, Tag
from tests.fixtures.factories import AuthorFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_a_tag_added_renamed_or_deleted_anywhere_invalidates_its_pages_and_the_sitemap(invalidated):
    """Check that a tag created, renamed and deleted in the shell invalidates
    tag:<slug> (the old slug and the new) and the sitemap each time."""
    tag = Tag.objects.create(name="Sloe", slug="sloe")
    assert {"tag:sloe", "sitemap"} <= invalidated.tags
    invalidated.clear()
    tag.slug, tag.name = "blackthorn", "Blackthorn"
    tag.save()
    assert {"tag:sloe", "tag:blackthorn", "sitemap"} <= invalidated.tags
    invalidated.clear()
    tag.delete()
    assert {"tag:blackthorn", "sitemap"} <= invalidated.tags


def test_a_user_renamed_anywhere_invalidates_their_pages_the_feed_and_both_addresses(invalidated):
    """Check that a rename of a user's username or names (the user admin, the
    shell) invalidates author:<id>, the feed, and the old and new author addresses."""
    author = AuthorFactory(username="wren")
    invalidated.clear()
    author.username, author.last_name = "jwren", "Wren-Hedges"
    author.save()
    assert {f"author:{author.pk}", "feed", "author-at:wren", "author-at:jwren"} <= invalidated.tags


def test_a_login_or_a_save_that_changes_no_name_invalidates_nothing(invalidated, django_assert_num_queries):
    """Check that the last_login update of every login neither invalidates nor
    reads the names back, and that a save changing nothing visible invalidates nothing."""
    author = AuthorFactory(username="wren")
    invalidated.clear()
    with django_assert_num_queries(1):
        update_last_login(None, author)
    author.email = "new@example.com"
    author.save()
    assert not invalidated.tags


def test_an_author_profile_changed_anywhere_invalidates_their_pages_and_the_feed(invalidated):
    """Check that a display name changed in the shell invalidates author:<id> and the feed."""
    author = AuthorFactory()
    invalidated.clear()
    profile = AuthorProfile.objects.get(user=author)
    profile.display_name = "J. Wren of the Hedgerow"
    profile.save()
    assert {f"author:{author.pk}", "feed"} <= invalidated.tags
