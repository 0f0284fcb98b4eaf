"""Settings come from the environment, with safe local defaults."""
import os
import subprocess
import sys

from tests.fixtures.cluster import REPO


def settings_in_subprocess(env, expression):
    """Import the settings module in a clean process and evaluate an expression."""
    code = f"import import_path; import_path.use(); import settings; print({expression})"
    base = {k: v for k, v in os.environ.items() if k not in {"REPLICA_URLS", "DEBUG", "SECRET_KEY"}}
    return subprocess.run([sys.executable, "-c", code], env={**base, **env}, cwd=REPO,
                          capture_output=True, text=True)


def test_zero_replicas_is_a_valid_configuration():
    """Check that REPLICA_URLS set but empty leaves only the primary."""
    result = settings_in_subprocess({"REPLICA_URLS": "", "SECRET_KEY": "x"}, "sorted(settings.DATABASES)")
    assert result.stdout.strip() == "['default']", result.stderr


def test_any_number_of_replicas_gets_one_alias_each():
    """Check that three replica URLs give three aliases, each mirroring default in tests."""
    urls = ",".join(f"postgres://u@h{n}:5432/blog" for n in range(3))
    result = settings_in_subprocess(
        {"REPLICA_URLS": urls, "SECRET_KEY": "x"},
        "[(a, d['HOST'], d['TEST'], d['OPTIONS']['application_name']) "
        "for a, d in settings.DATABASES.items() if a != 'default']",
    )
    assert result.stdout.strip() == str([
        (f"replica{n + 1}", f"h{n}", {"MIRROR": "default"}, f"blog:replica{n + 1}") for n in range(3)
    ]), result.stderr


def test_secret_key_is_required_when_debug_is_off():
    """Check that the settings refuse to load without SECRET_KEY unless DEBUG is on."""
    refused = settings_in_subprocess({"DEBUG": "off"}, "1")
    assert refused.returncode != 0
    assert "SECRET_KEY is required" in refused.stderr
    allowed = settings_in_subprocess({"DEBUG": "on"}, "settings.DEBUG")
    assert allowed.stdout.strip() == "True", allowed.stderr
