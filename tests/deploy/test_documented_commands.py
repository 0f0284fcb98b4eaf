"""The ops commands docs/operations.md shows work exactly as written.

The block is read from the page itself (the fenced block under the HTML
comment naming this file), so the test fails when the docs drift. It runs
as a newcomer would run it: in a fresh shell (no variable of the suite's,
no venv on the PATH), in the clone, each line in turn, stopping at the first
failure. Only its first line, `make up`, is stood in for: `make up` is the
stack tool's `up --web` on the `dev` stack's ports, which the suite must not
touch, so the test runs that same `up --web` on the test stack, and the
rest of the block talks to the test stack through `localstack.py env`.
"""
import json
import os
import shlex
import subprocess
import sys

import pytest

from tests.fixtures import docs
from tests.fixtures.cluster import REPO

OPERATIONS = docs.DOCS / "operations.md"
VENV_BIN = REPO / ".venv" / "bin"
STAND_IN_FOR_MAKE_UP = [sys.executable, "deploy/localstack.py", "up", "--web"]
TIMEOUT = 300


def documented_commands():
    return docs.fenced_block_after(OPERATIONS, "tests/deploy/test_documented_commands.py").splitlines()


def fresh_shell():
    """The environment of a new login shell on this machine, pointed at the
    suite's test stack: its name and port base, and nothing else of the suite's."""
    stack = os.environ.get("STACK_NAME", "dev")
    assert not stack.startswith("dev"), "run through `make test`: this test starts the site on its stack"
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != str(VENV_BIN))
    env = {"PATH": path, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8", "STACK_NAME": stack}
    if os.environ.get("STACK_PORT_BASE"):
        env["STACK_PORT_BASE"] = os.environ["STACK_PORT_BASE"]
    return env


def run_shell(script, env=None):
    """`script` as a shell that stops at the first failing line runs it."""
    return subprocess.run(["bash", "-e", "-c", script], cwd=REPO, env=env or fresh_shell(),
                          capture_output=True, text=True, timeout=TIMEOUT)


def stack_tool_python(code):
    """Run `code` with deploy/stack importable (as `config` and `web`) in a fresh shell; its stdout."""
    prelude = "import sys; sys.path.insert(0, 'deploy'); from stack import config, web; stack = config.load()\n"
    result = subprocess.run([sys.executable, "-c", prelude + code], cwd=REPO, env=fresh_shell(),
                            capture_output=True, text=True, timeout=TIMEOUT, check=True)
    return result.stdout


@pytest.fixture(scope="module")
def made_up():
    """The test stack as `make up` leaves a stack: servers up, the site
    migrated, seeded and served with its scheduler; stopped afterwards."""
    # Two workers: the machine's cores are shared with the rest of the suite.
    env = {**fresh_shell(), "WEB_CONCURRENCY": "2"}
    subprocess.run(STAND_IN_FOR_MAKE_UP, cwd=REPO, env=env, check=True, timeout=TIMEOUT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    yield
    stack_tool_python("web.stop(stack)")


def test_the_documented_sequence_starts_with_make_up():
    """Check that the block begins with `make up`, the one line the test stands in for."""
    assert documented_commands()[0].split("#")[0].split() == ["make", "up"]


def test_without_the_stacks_secret_manage_py_stops_at_once(made_up):
    """Check the bad case first: with only the stack's addresses in the shell
    (what `env` exported before issue 14), the documented check_integrity
    stops with the SECRET_KEY error."""
    lines = [line.replace("python deploy/localstack.py env)",
                          "python deploy/localstack.py env | grep -v '^export SECRET_KEY=')")
             for line in documented_commands()[1:]]
    assert lines != documented_commands()[1:], "the block no longer runs `localstack.py env`"
    result = run_shell("\n".join(lines))
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr


def test_the_documented_ops_commands_work_as_written(made_up):
    """Check that every line after `make up` succeeds, as written, in a fresh shell,
    and that check_integrity found the stack's database consistent."""
    result = run_shell("\n".join(documented_commands()[1:]))
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "No drift." in result.stdout


def test_the_site_runs_in_the_session_that_started_it_in_a_group_of_its_own(made_up):
    """Check that `up --web` leaves gunicorn in its caller's session rather
    than one of its own (gunicorn's --daemon calls setsid): Linux's scheduler
    shares the CPU between sessions, which cost a daemonized site 15-20 %
    of its throughput against a load generator run from the developer's
    own session (docs/benchmarks.md). Its own process group keeps it out
    of reach of whatever stops the command that ran `up`."""
    master = int(stack_tool_python("print(web.gunicorn_pidfile(stack).read_text().strip())"))
    assert os.getsid(master) == os.getsid(0)
    assert os.getpgid(master) == master != os.getpgid(0)


def test_env_exports_everything_the_stack_tool_gives_the_site(made_up):
    """Check that `localstack.py env` exports, with the same values, every
    variable the stack tool sets for the site's own processes (manage.py,
    gunicorn, the scheduler) beyond a fresh shell's environment."""
    site = json.loads(stack_tool_python("import json; print(json.dumps(web.environment(stack)))"))
    shell = fresh_shell()
    added = {name: value for name, value in site.items() if shell.get(name) != value}
    exported = exported_by_env()
    assert {"SECRET_KEY", "DATABASE_URL", "REPLICA_URLS", "REDIS_URL", "ALLOWED_HOSTS", "APP_VERSION"} <= set(added)
    assert {name: exported.get(name) for name in added} == added


def exported_by_env():
    result = run_shell(f"{shlex.quote(sys.executable)} deploy/localstack.py env")
    assert result.returncode == 0, result.stderr
    exported = {}
    for line in result.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        exported[name] = shlex.split(value)[0] if value else ""
    return exported
