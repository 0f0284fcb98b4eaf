"""The README is a front page, and every relative link in it and in docs/
leads to a file that exists and, with a #fragment, to a heading there."""
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.fixtures import docs
from tests.fixtures.cluster import REPO

# Pages other branches add (failover, HTTP, hostile input, the bench harness):
# linked already, allowed to be missing until they land. Once a page exists
# its links and anchors are checked like any other.
PAGES_ON_THEIR_WAY = {"docs/failover.md", "docs/http.md", "docs/hostile-input.md", "docs/benchmarks.md"}
MAX_README_LINES = 300


def relative_targets(path):
    """(file the link leads to, its #fragment) for each relative link in `path`."""
    for target in docs.links(path):
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not (parts.path or parts.fragment):
            continue  # http(s):, mailto:, //host
        leads_to = (path.parent / unquote(parts.path)).resolve() if parts.path else path
        yield target, leads_to, unquote(parts.fragment)


def broken_links(path):
    """Each link of `path` that leads nowhere, with why."""
    broken = []
    for target, leads_to, fragment in relative_targets(Path(path)):
        name = _repo_name(leads_to)
        if not leads_to.exists():
            if name not in PAGES_ON_THEIR_WAY:
                broken.append(f"{target}: no such file")
        elif fragment and leads_to.suffix == ".md" and fragment not in docs.anchors(leads_to):
            broken.append(f"{target}: no heading #{fragment} in {name}")
    return broken


def _repo_name(path):
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def test_the_link_check_catches_a_missing_file_and_a_missing_heading(tmp_path):
    """Check that a link to an absent file, and one to an absent heading of a
    present page, are reported, while good ones are not (so a pass means something)."""
    (tmp_path / "other.md").write_text("# Other\n\n## Runbook: the primary is lost\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\nSee [other](other.md#runbook-the-primary-is-lost), [top](#page),\n"
        "[gone](gone.md), [wrong](other.md#no-such-heading), [web](https://example.com/x.md)\n"
        "and <img src=\"missing.png\" alt=\"\">.\n")
    assert broken_links(page) == [
        "gone.md: no such file",
        "other.md#no-such-heading: no heading #no-such-heading in " + str(tmp_path / "other.md"),
        "missing.png: no such file",
    ]


@pytest.mark.parametrize("path", docs.documentation_files(), ids=lambda p: _repo_name(p))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(path):
    """Check that the page's relative links (Markdown and HTML, images too)
    point at files of the repository and, with an anchor, at a heading there."""
    assert broken_links(path) == []


def test_the_readme_is_a_front_page():
    """Check that README.md stays a front page: at most 300 lines, with the
    two commands, the layout, the path of a request and the docs index."""
    text = docs.README.read_text()
    assert len(text.splitlines()) <= MAX_README_LINES
    for must in ("make run", "make test", "## Layout", "## The path of one request", "docs/README.md"):
        assert must in text
