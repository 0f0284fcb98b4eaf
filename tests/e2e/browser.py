"""Debian's Chromium driven by Playwright, kept off the network, and what a
journey watches in it: console errors, page errors, failed requests.

    browser = launch(playwright)                  # /usr/bin/chromium, headless
    problems = PageProblems.watch(context)        # every page of the context
    ...
    assert problems.found == []

Playwright's own browser download fails on these machines (and CI), so it is
never used: `make test` installs Debian's `chromium` (tests/e2e/prepare.py).
"""
import re
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
# Without these Chromium phones home at start (updates, sync, field trials,
# QUIC probes); on a closed network that is noise, and elsewhere a leak.
OFFLINE_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def launch(playwright):
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make test` as root, or "
                           "`sudo apt-get install -y chromium` (Debian's package)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=OFFLINE_FLAGS)


class PageProblems:
    """Everything that went wrong in a context's pages, as readable lines:
    console errors (CSP violations included), uncaught script errors,
    requests that failed, and answers of 400 or more."""

    def __init__(self):
        self.found = []
        # path -> status a journey asks for on purpose.
        self.expected_statuses = {}

    @classmethod
    def watch(cls, context):
        problems = cls()
        context.on("page", problems.attach)
        for page in context.pages:
            problems.attach(page)
        return problems

    def expect_status(self, path, status):
        """`path` answering `status` is part of the journey (a draft's 404)."""
        self.expected_statuses[path] = status

    def attach(self, page):
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.found.append(f"{page.url}: script error: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)

    def _console(self, page, message):
        if message.type != "error":
            return
        # An expected status still logs "Failed to load resource" for its URL.
        if (message.text.startswith("Failed to load resource")
                and path_of(message.location.get("url", "")) in self.expected_statuses):
            return
        self.found.append(f"{page.url}: console error: {message.text}")

    def _request_failed(self, request):
        if request.failure == "net::ERR_ABORTED":
            return  # cancelled by the browser: the journey moved on before it finished
        self.found.append(f"{request.method} {request.url}: failed ({request.failure})")

    def _response(self, response):
        if response.status >= 400 and self.expected_statuses.get(path_of(response.url)) != response.status:
            self.found.append(f"{response.request.method} {response.url}: {response.status}")


def path_of(url):
    """`/path?query` of an absolute URL."""
    return re.sub(r"^https?://[^/]+", "", url)


def save_artifacts(contexts, name):
    """A screenshot and the HTML of every open page, under artifacts/<name>/."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", name)
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for c, context in enumerate(contexts):
        for p, page in enumerate(context.pages):
            stem = folder / f"context{c}-page{p}"
            try:
                page.screenshot(path=f"{stem}.png", full_page=True)
                Path(f"{stem}.html").write_text(f"<!-- {page.url} -->\n{page.content()}")
                saved.append(str(stem))
            except Exception as error:  # a crashed page must not hide the test's own failure
                Path(f"{stem}.txt").write_text(f"{page.url}: could not save: {error!r}\n")
    return saved
