"""Journey 3: an editor writes a post in the admin, previews it, publishes
it and edits it, and sees each change at once while readers see it within
SPEC's bound B; a scheduled post goes out by itself, published by the real
scheduler process."""
import time
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.fixtures.cluster import wait_until
from tests.fixtures.server import run_scheduler

from .browser import PageProblems
from .conftest import BOUND_B
from .editors import log_in, make_editor, post_id_from, save

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]


SCHEDULER_INTERVAL = 1
# One publish_due run of the scheduler (a query and a transaction per post).
SCHEDULER_RUN_ALLOWANCE = 1.0
SCHEDULE_AHEAD = timedelta(seconds=6)


@pytest.fixture
def site(own_site):
    """A server of this journey's own (see `own_site`)."""
    return own_site


def shows_text(page, path, text):
    """Load `path` afresh and tell whether its main content has `text` (no waiting)."""
    page.goto(path)
    return text in page.locator("main").inner_text()


def within_bound_b(page, path, text, since):
    """Wait until a reader sees `text` at `path`, failing past B after `since`."""
    wait_until(lambda: shows_text(page, path, text), timeout=since + BOUND_B - time.monotonic(),
               interval=0.05, message=f"{text!r} at {path} within B = {BOUND_B}s")


def write_draft(page, title, body):
    page.goto("/admin/blog/post/add/")
    page.get_by_label("Title:").fill(title)
    page.get_by_label("Excerpt:").fill("Three signs your replicas fall behind, and what to do.")
    page.get_by_label("Body:").fill(body)


@pytest.fixture
def editor(site):
    make_editor("edith", "Edith Moreau")
    site.settle()
    return "edith"


def test_an_editor_previews_publishes_and_edits_while_readers_follow_within_bound_b(editor, open_context):
    """Check the editor's whole workflow in the admin, and what readers see after each save."""
    editor_context, reader_context = open_context(), open_context()
    problems = [PageProblems.watch(editor_context), PageProblems.watch(reader_context)]
    page, reader = editor_context.new_page(), reader_context.new_page()
    log_in(page, editor)

    title = "Replica lag, seen from the reader's chair"
    write_draft(page, title, "Lag is **invisible** until it is not.\n\n- a comment\n- a publish\n")
    expect(page.get_by_label("Slug:")).to_have_value("replica-lag-seen-from-the-readers-chair")
    save(page, "Save and continue editing")
    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    post_id, post_path = post_id_from(page), "/posts/replica-lag-seen-from-the-readers-chair/"

    page.get_by_role("link", name="Preview").click()
    expect(page.get_by_role("status")).to_contain_text("Preview of a draft post")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".prose strong")).to_have_text("invisible")
    problems[1].expect_status(post_path, 404)
    assert reader.goto(post_path).status == 404, "a draft is visible to readers"

    page.goto(f"/admin/blog/post/{post_id}/change/")
    page.get_by_label("Status:").select_option("published")
    published_at = time.monotonic()
    save(page)
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert shows_text(page, "/", title), "the editor's home page lacks the post just published"
    assert shows_text(page, post_path, "invisible"), "the editor cannot read the post just published"
    within_bound_b(reader, "/", title, since=published_at)
    within_bound_b(reader, post_path, "invisible", since=published_at)

    revised = f"{title} (revised)"
    page.goto(f"/admin/blog/post/{post_id}/change/")
    page.get_by_label("Title:").fill(revised)
    page.get_by_label("Body:").fill("Lag is **measurable**: watch pg_last_wal_replay_lsn().")
    edited_at = time.monotonic()
    save(page)
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")
    assert shows_text(page, post_path, "measurable"), "the editor does not see their own edit"
    assert shows_text(page, "/", revised), "the editor's home page shows the old title"
    within_bound_b(reader, post_path, "measurable", since=edited_at)
    within_bound_b(reader, "/", revised, since=edited_at)
    assert [found for watch in problems for found in watch.found] == []


def test_a_scheduled_post_goes_out_by_itself(editor, open_context):
    """Check that a post scheduled in the admin appears on the home page at its
    time, published by the scheduler process, with nobody acting."""
    editor_context, reader_context = open_context(), open_context()
    problems = [PageProblems.watch(editor_context), PageProblems.watch(reader_context)]
    page, reader = editor_context.new_page(), reader_context.new_page()
    with run_scheduler(interval=SCHEDULER_INTERVAL, env={"INTEGRITY_CHECK_MINUTES": "0"}):
        log_in(page, editor)
        title = "Scheduled: keyset pagination on deep pages"
        write_draft(page, title, "Offsets get slow; keys do not.")
        when = (datetime.now(timezone.utc) + SCHEDULE_AHEAD).replace(microsecond=0)
        page.get_by_label("Status:").select_option("scheduled")
        page.locator("#id_published_at_0").fill(when.strftime("%Y-%m-%d"))
        page.locator("#id_published_at_1").fill(when.strftime("%H:%M:%S"))
        save(page)
        expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
        due = time.monotonic() + (when - datetime.now(timezone.utc)).total_seconds()

        if time.monotonic() < due:  # still before its time: nobody may see it yet
            assert not shows_text(reader, "/", title), "a scheduled post went out early"
        wait_until(lambda: shows_text(reader, "/", title),
                   timeout=due + SCHEDULER_INTERVAL + SCHEDULER_RUN_ALLOWANCE + BOUND_B - time.monotonic(),
                   interval=0.1, message="the scheduled post to appear on the home page")
    assert shows_text(page, "/", title)
    assert [found for watch in problems for found in watch.found] == []
