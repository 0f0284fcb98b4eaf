"""With production values (HTTPS=on, DEBUG off, a long random SECRET_KEY,
ALLOWED_HOSTS set), Django's deployment checklist reports nothing."""
import os
import secrets
import subprocess
import sys

from tests.fixtures.cluster import REPO

PRODUCTION = {
    "DEBUG": "off", "HTTPS": "on", "SECRET_KEY": secrets.token_urlsafe(64),
    "ALLOWED_HOSTS": "blog.example.test",
}


def check_deploy(env):
    """`manage.py check --deploy`, failing on warnings too, in a clean process."""
    base = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "HTTPS", "SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={**base, **env}, cwd=REPO, capture_output=True, text=True, timeout=120,
    )


def test_check_deploy_reports_nothing_with_production_values():
    """Check that `check --deploy` is clean with HTTPS=on and production values."""
    result = check_deploy(PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_catches_plain_http_settings():
    """Check that the same check does flag an HTTP-only configuration (HSTS,
    SSL redirect, insecure cookies), so a clean run above means something."""
    result = check_deploy({**PRODUCTION, "HTTPS": "off"})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stdout + result.stderr
