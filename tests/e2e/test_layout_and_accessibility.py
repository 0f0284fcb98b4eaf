"""Journey 5: the main pages on a phone (390 px) and on a desktop, in the
light and the dark theme: no sideways scrolling, readable text, no wrapped
line starting with a stray "·", navigation that works by touch, click and
keyboard, code that keeps its layout and scrolls by keyboard, and no serious
or critical accessibility violation found by axe-core."""
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from blog.models import Post
from tests.fixtures.factories import AuthorFactory, CommentFactory, PostFactory

from .browser import PageProblems
from .page_checks import STRAY_DOTS_FUNCTION, axe_violations, layout_problems, stray_separators, with_axe

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, databases="__all__")]

SCREENS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
MISSING_PAGE = "/posts/no-such-post/"
# What changes with the theme: colours. The other rules run in the light one.
THEME_RULES = ["color-contrast", "link-in-text-block"]


@pytest.fixture
def main_pages(site):
    """The seed command's demo content (long titles, code, images, comments),
    and one page of each kind, the richest post first."""
    call_command("seed", posts=24, verbosity=0)
    post = (Post.objects.published().filter(comment_count__gt=0, body__contains="```")
            .order_by("-comment_count").first() or Post.objects.published().first())
    tag = post.tags.first()
    site.settle()
    return {
        "home": "/", "post": post.get_absolute_url(), "tag": tag.get_absolute_url(),
        "author": f"/authors/{post.author.username}/",
        "month": f"/archive/{post.published_at:%Y}/{post.published_at:%m}/",
        "year": f"/archive/{post.published_at:%Y}/",
        "search": f"/search/?q={post.title.split()[-1]}",
        "not found": MISSING_PAGE,
    }


def settle_transitions(page):
    """Let colour transitions (the theme just changed) end before measuring contrast."""
    page.evaluate("() => Promise.all(document.getAnimations().map(animation => animation.finished))")


@pytest.mark.parametrize("screen", SCREENS, ids=list(SCREENS))
def test_main_pages_fit_the_screen_read_well_and_pass_axe_in_both_themes(main_pages, open_context, screen):
    """Check every main page for sideways scrolling, small text and serious
    accessibility violations, in the light theme and then the dark one."""
    context = with_axe(open_context(**SCREENS[screen]))
    problems = PageProblems.watch(context)
    problems.expect_status(MISSING_PAGE, 404)
    page = context.new_page()
    found = {}
    for name, path in main_pages.items():
        page.emulate_media(color_scheme="light")
        page.goto(path)
        found[f"{name} (layout)"] = layout_problems(page)
        found[f"{name} (light)"] = axe_violations(page)
        page.emulate_media(color_scheme="dark")
        settle_transitions(page)
        found[f"{name} (dark)"] = axe_violations(page, only=THEME_RULES)
    assert {page_name: lines for page_name, lines in found.items() if lines} == {}
    assert problems.found == []


@pytest.mark.parametrize("screen", SCREENS, ids=list(SCREENS))
def test_navigation_works_by_touch_click_and_keyboard(main_pages, open_context, screen):
    """Check that the header's links and search, a post's link, pagination and
    the skip link all work at this width."""
    context = open_context(**SCREENS[screen])
    problems = PageProblems.watch(context)
    page = context.new_page()
    tap = (lambda locator: locator.tap()) if screen == "phone" else (lambda locator: locator.click())

    page.goto(main_pages["post"])
    tap(page.get_by_role("navigation", name="Main").get_by_role("link", name="Latest"))
    expect(page).to_have_url(re.compile(r"/$"))
    tap(page.get_by_role("link", name="Older posts →"))
    expect(page).to_have_url(re.compile(r"/\?page=2$"))
    tap(page.get_by_role("link", name="← Newer posts"))
    expect(page).to_have_url(re.compile(r"/\?page=1$|/$"))

    first_post = page.locator(".card-title a").first
    title = first_post.inner_text()
    tap(first_post)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)

    search = page.get_by_role("searchbox", name="Search the blog")
    tap(search)
    search.fill(title.split()[-1])
    tap(page.get_by_role("search").get_by_role("button", name="Search"))
    expect(page.get_by_role("region", name="Results").get_by_role("link").first).to_be_visible()

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0, "the focused skip link stays off screen"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    assert problems.found == []


LONG_CODE_LINE = ("    return connection.execute(\"SELECT now() - pg_last_xact_replay_timestamp() "
                  "AS replay_lag\").scalar()  # seconds behind the primary")
CODE_POST = f"""Measure it:

```python
def replay_lag(connection):
{LONG_CODE_LINE}
```
"""
# The meta line as it was: each "·" its own flex item, so free to start a line.
OLD_META_MARKUP = """meta => {
  const author = meta.querySelector('.author').outerHTML;
  const date = meta.querySelector('time').closest('a').outerHTML;
  meta.innerHTML = `${author} <span aria-hidden="true">·</span> ${date} <span aria-hidden="true">·</span> <span>1 min read</span>`;
  const room = meta.querySelector('.author').getBoundingClientRect().width + parseFloat(getComputedStyle(meta).columnGap);
  meta.style.width = `${room + 1}px`;  // the name fits on the first line, the dot after it does not
}"""
# Every width of the meta line from 120 to 390 px: where a "·" would start a line.
SWEEP_WIDTHS = """meta => {
  %s
  const found = [];
  for (let width = 120; width <= 390; width += 2) {
    meta.style.width = `${width}px`;
    strayDots().forEach(dot => found.push(`${width}px: ${dot}`));
  }
  meta.style.width = '';
  return found;
}""" % STRAY_DOTS_FUNCTION


@pytest.fixture
def post_with_code_and_a_long_author_name(site):
    author = AuthorFactory(profile__display_name="Maximiliane Oberhauser-Lindqvist")
    post = PostFactory(author=author, body=CODE_POST)
    CommentFactory.create_batch(2, post=post)
    Post.objects.filter(pk=post.pk).update(comment_count=2)
    site.settle()
    return post


def test_a_wrapped_meta_line_never_starts_with_a_separator(post_with_code_and_a_long_author_name, open_context):
    """Check the hazard first: the meta line as it was (each "·" a flex item of
    its own) starts its second line with a "·" when the name just fits; then
    that the meta line as it is starts no line with one at any width from
    120 to 390 px, on a phone."""
    page = open_context(**SCREENS["phone"]).new_page()
    page.goto(post_with_code_and_a_long_author_name.get_absolute_url())
    meta = page.locator(".post-header .meta")
    assert stray_separators(page) == []
    assert meta.evaluate(SWEEP_WIDTHS) == []
    meta.evaluate(OLD_META_MARKUP)
    assert len(stray_separators(page)) == 1


def test_code_keeps_its_layout_and_scrolls_inside_its_block_by_keyboard(
        post_with_code_and_a_long_author_name, open_context):
    """Check on a phone that a long code line stays one line (no wrap to column
    0), that the block scrolls sideways and the page does not, that Tab reaches
    the block and the arrow keys scroll it, and that axe's
    scrollable-region-focusable passes only thanks to the block's tab stop."""
    context = with_axe(open_context(**SCREENS["phone"]))
    page = context.new_page()
    page.goto(post_with_code_and_a_long_author_name.get_absolute_url())
    block = page.locator(".prose pre")
    layout = block.evaluate("""pre => ({
        whiteSpace: getComputedStyle(pre).whiteSpace,
        lines: Math.round(pre.querySelector('code').getBoundingClientRect().height / parseFloat(getComputedStyle(pre).lineHeight)),
        scrollsBy: pre.scrollWidth - pre.clientWidth,
        pageScrollsBy: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    })""")
    assert layout["whiteSpace"] == "pre" and layout["lines"] == 2
    assert layout["scrollsBy"] > 0 and layout["pageScrollsBy"] <= 0

    for _ in range(60):  # Tab through the page's links until the block has focus
        page.keyboard.press("Tab")
        if block.evaluate("pre => document.activeElement === pre"):
            break
    expect(block).to_be_focused()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.prose pre').scrollLeft > 0", timeout=5000)

    assert axe_violations(page, only=["scrollable-region-focusable"]) == []
    block.evaluate("pre => pre.removeAttribute('tabindex')")
    assert axe_violations(page, only=["scrollable-region-focusable"]) != []
