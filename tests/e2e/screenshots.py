"""Retake the README's screenshots (docs/screenshots/*.png) from a running
site that has the demo content (`make up`, or `deploy/localstack.py up --web`
on any stack):

    .venv/bin/python -m tests.e2e.screenshots http://127.0.0.1:8000 /posts/<slug>/

The framing of the first ones: the home page as the viewport shows it at
1280×900 and on a 390×844 phone; a post (pick one with a diagram, code and
comments) 1280 px wide cut at 2000 px, and on the phone cut at 2400 px.
Light theme, Debian's Chromium (tests/e2e/browser.py), page fully loaded.
"""
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.browser import launch

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
# (file, screen, page, height to cut a full-page shot at; None: the viewport)
SHOTS = (
    ("home-1280.png", DESKTOP, "home", None),
    ("home-390.png", PHONE, "home", None),
    ("post-1280.png", DESKTOP, "post", 2000),
    ("post-390.png", PHONE, "post", 2400),
)


def take(browser, base_url, paths):
    for name, screen, page_name, cut_at in SHOTS:
        context = browser.new_context(base_url=base_url, color_scheme="light", device_scale_factor=1, **screen)
        page = context.new_page()
        page.goto(paths[page_name], wait_until="networkidle")
        width = screen["viewport"]["width"]
        if cut_at is None:
            page.screenshot(path=str(FOLDER / name))
        else:
            page.screenshot(path=str(FOLDER / name), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": cut_at})
        context.close()
        print(f"{FOLDER / name}")


def main(base_url, post_path):
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            take(browser, base_url, {"home": "/", "post": post_path})
        finally:
            browser.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
