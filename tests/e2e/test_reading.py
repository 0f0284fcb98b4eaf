"""Journey 1: a reader finds their way around the blog by following links,
as a person would, and every page renders without a console error or a
failed request."""
import re

import pytest
from playwright.sync_api import expect

from tests.fixtures.factories import AuthorFactory, PostFactory, TagFactory

from .browser import PageProblems

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December"]


@pytest.fixture
def blog(site):
    """A small blog: an author with two posts on replication, others beside."""
    tag = TagFactory(name="Replication", slug="replication")
    author = AuthorFactory(username="ada", first_name="Ada", last_name="Lindqvist", profile__display_name="")
    older = PostFactory(title="Streaming replicas in practice", author=author, tags=[tag])
    post = PostFactory(title="Why read replicas lag behind", author=author, tags=[tag, TagFactory()],
                       body="Replicas **lag** because WAL is *replayed*, not shared.\n\n"
                            "```sql\nSELECT pg_last_wal_replay_lsn();\n```\n")
    PostFactory.create_batch(3)
    site.settle()
    return {"post": post, "older": older, "tag": tag, "author": author}


def test_a_reader_follows_links_to_every_kind_of_page_without_errors(blog, open_context):
    """Check that home, post, tag, author, archives, search and feed render, reached
    by clicking links and searching, with no console error and no failed request."""
    post = blog["post"]
    context = open_context()
    problems = PageProblems.watch(context)
    page = context.new_page()

    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Field Notes")
    page.get_by_role("link", name=post.title).click()
    expect(page).to_have_url(re.compile(rf"/posts/{post.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(post.title)
    expect(page.locator(".prose strong")).to_have_text("lag")
    expect(page.locator(".prose pre")).to_contain_text("pg_last_wal_replay_lsn")

    page.get_by_role("list", name="Tags").get_by_role("link", name="Replication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Posts tagged “Replication”")
    expect(page.get_by_role("link", name=blog["older"].title)).to_be_visible()

    page.get_by_role("link", name=post.title).click()
    page.locator(".post-header .meta .author").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ada Lindqvist")
    expect(page.get_by_role("link", name=post.title)).to_be_visible()

    month = f"{MONTHS[post.published_at.month - 1]} {post.published_at.year}"
    page.get_by_role("link", name=post.title).click()
    page.locator(".post-header .meta time").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Archive: {month}")
    page.goto(f"/archive/{post.published_at.year}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Archive: {post.published_at.year}")
    page.get_by_role("navigation", name=re.compile("Months of")).get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Archive: ")

    page.get_by_role("searchbox", name="Search the blog").fill("replicas lag")
    page.get_by_role("searchbox", name="Search the blog").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=replicas"))
    results = page.get_by_role("region", name="Results")
    expect(results.get_by_role("link", name=post.title)).to_be_visible()
    expect(results.locator("mark").first).to_be_visible()

    with page.expect_response(re.compile(r"/feed/$")) as feed:
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Feed").click()
    assert feed.value.status == 200
    assert "atom" in feed.value.headers["content-type"]
    assert post.title in feed.value.text()

    page.wait_for_load_state("networkidle")
    assert problems.found == []
