"""Journey 2: a reader comments, with JavaScript off and on, while both
replicas lag. The commenter sees the comment on the page they land on, at
once, and on every reload; a stranger sees it within SPEC's bound B after
the POST, and on every reload from then on."""
import re
import time

import pytest

from tests.fixtures.cluster import wait_until
from tests.fixtures.factories import PostFactory

from .browser import PageProblems
from .conftest import BOUND_B

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]

RELOADS = 3


def comment_text(page, comment_id):
    """The comment's text in the page as it is now (no waiting), or None."""
    return page.evaluate("id => document.getElementById(`comment-${id}`)?.innerText ?? null", comment_id)


@pytest.mark.parametrize("javascript", [False, True], ids=["javascript-off", "javascript-on"])
def test_a_comment_shows_at_once_to_its_writer_and_within_bound_b_to_others(site, open_context, javascript):
    """Check read-your-writes and bounded staleness from a browser, over lagging replicas."""
    post = PostFactory(title="Questions about replica lag")
    site.settle()
    post_path = f"/posts/{post.slug}/"
    words = f"Does the pin survive a failover? (JavaScript {'on' if javascript else 'off'})"

    stranger_context = open_context()
    writer_context = open_context(java_script_enabled=javascript)
    problems = [PageProblems.watch(stranger_context), PageProblems.watch(writer_context)]
    stranger, writer = stranger_context.new_page(), writer_context.new_page()
    stranger.goto(post_path)  # the page is cached now, without the comment

    writer.goto(post_path)
    writer.get_by_role("textbox", name="Name", exact=True).fill("Mira")
    writer.get_by_role("textbox", name="Comment", exact=True).fill(words)
    posted_at = time.monotonic()
    with writer.expect_navigation(url=re.compile(rf"{re.escape(post_path)}#comment-\d+$")):
        writer.get_by_role("button", name="Post comment").click()
    comment_id = int(writer.url.rsplit("-", 1)[1])

    assert words in (comment_text(writer, comment_id) or ""), "the writer's landing page lacks the comment"
    for _ in range(RELOADS):
        writer.reload()
        assert words in (comment_text(writer, comment_id) or ""), "a reload lost the writer's comment"

    def stranger_sees_it():
        stranger.goto(post_path)
        return words in (comment_text(stranger, comment_id) or "")

    wait_until(stranger_sees_it, timeout=posted_at + BOUND_B - time.monotonic(), interval=0.05,
               message=f"a stranger to see the comment within B = {BOUND_B}s of the POST")
    for _ in range(RELOADS):
        stranger.reload()
        assert words in (comment_text(stranger, comment_id) or ""), "the comment vanished for a stranger"
    assert [found for watch in problems for found in watch.found] == []
