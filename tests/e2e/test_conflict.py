"""Journey 4: two editors open the same post; the first saves; the second's
save is refused with a clear message, and their text stays in the form."""
import pytest
from playwright.sync_api import expect

from blog.models import Post
from tests.fixtures.factories import PostFactory

from .browser import PageProblems
from .editors import log_in, make_editor, save

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]


@pytest.fixture
def site(own_site):
    """A server of this journey's own (see `own_site`)."""
    return own_site


def test_the_second_of_two_editors_saving_one_post_is_refused_and_keeps_their_text(site, open_context):
    """Check optimistic locking as editors meet it: no silent overwrite, a message
    naming who saved first, and the refused editor's words still in the form."""
    make_editor("alice", "Alice Martin")
    make_editor("bob", "Bob Okafor")
    post = PostFactory(title="Choosing a pin lifetime", body="The first draft.")
    site.settle()
    change_path = f"/admin/blog/post/{post.pk}/change/"
    alice_context, bob_context = open_context(), open_context()
    problems = [PageProblems.watch(alice_context), PageProblems.watch(bob_context)]
    alice, bob = alice_context.new_page(), bob_context.new_page()
    log_in(alice, "alice")
    log_in(bob, "bob")
    alice.goto(change_path)
    bob.goto(change_path)

    alice.get_by_label("Body:").fill("Alice's edit: thirty seconds, well above the lag.")
    save(alice)
    expect(alice.locator(".messagelist .success")).to_contain_text("was changed successfully")

    bobs_words = "Bob's rewrite, an hour of work that must not be lost."
    bob.get_by_label("Title:").fill("Choosing a pin lifetime, carefully")
    bob.get_by_label("Body:").fill(bobs_words)
    save(bob)
    expect(bob.locator(".errornote")).to_be_visible()
    conflict = bob.locator(".errorlist.nonfield")
    expect(conflict).to_contain_text("alice saved this post")
    expect(conflict).to_contain_text("your changes were NOT saved")
    expect(bob.get_by_label("Body:")).to_have_value(bobs_words)
    expect(bob.get_by_label("Title:")).to_have_value("Choosing a pin lifetime, carefully")

    stored = Post.objects.using("default").get(pk=post.pk)
    assert stored.body == "Alice's edit: thirty seconds, well above the lag."
    assert stored.title == "Choosing a pin lifetime"
    assert [found for watch in problems for found in watch.found] == []
