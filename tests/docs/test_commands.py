"""Every command the README and docs/ show in code (`make <target>`,
`localstack.py <verb>`, `manage.py <command>`) exists: a renamed target,
verb or command fails here rather than in a reader's terminal. (The ops
sequence itself is run for real: tests/deploy/test_documented_commands.py.)"""
import re
import subprocess
import sys

import pytest
from django.core.management import get_commands

from tests.fixtures import docs
from tests.fixtures.cluster import REPO

COMMAND = re.compile(r"\b(make|localstack\.py|manage\.py)\s+([a-z][\w-]*)")


def code_in(path):
    """The text of every code block and code span of a page."""
    for token in docs.tokens(path):
        if token.type in ("fence", "code_block"):
            yield token.content
        for child in token.children or ():
            if child.type == "code_inline":
                yield child.content


def commands_shown(path):
    return {match.groups() for code in code_in(path) for match in COMMAND.finditer(code)}


def make_targets():
    return set(re.findall(r"^([A-Za-z][\w-]*):", (REPO / "Makefile").read_text(), re.M))


def stack_tool_verbs():
    usage = subprocess.run([sys.executable, "deploy/localstack.py", "--help"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout
    return set(re.search(r"\{([a-z,]+)\}", usage).group(1).split(","))


@pytest.fixture(scope="module")
def known():
    return {"make": make_targets(), "localstack.py": stack_tool_verbs(), "manage.py": set(get_commands())}


def unknown_commands(path, known):
    return sorted(f"{tool} {name}" for tool, name in commands_shown(path) if name not in known[tool])


def test_the_check_catches_a_command_that_does_not_exist(tmp_path, known):
    """Check that made-up targets, verbs and commands are reported and real ones are not."""
    page = tmp_path / "page.md"
    page.write_text("Run `make up`, then `make deploy`.\n\n```sh\npython deploy/localstack.py pause replica1\n"
                    "python deploy/localstack.py frobnicate\npython manage.py seed --posts 3\n"
                    "python manage.py reticulate\n```\n")
    assert unknown_commands(page, known) == ["localstack.py frobnicate", "make deploy", "manage.py reticulate"]


@pytest.mark.parametrize("path", docs.documentation_files(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_command_the_page_shows_exists(path, known):
    """Check that each make target, stack-tool verb and manage.py command in the page's code exists."""
    assert unknown_commands(path, known) == []
