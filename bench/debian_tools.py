"""Debian programs the bench runs (wrk, valgrind): found on the PATH,
installed from Debian's packages when we are root (as the stack installs
its servers: deploy/stack/system.py), named otherwise."""
import os
import shutil
import subprocess
import sys


def debian_tool(binary, package=None):
    """`binary`'s path, installing `package` (default: the same name) when
    it is missing and we may; otherwise stop and say what to install."""
    package = package or binary
    found = shutil.which(binary)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(f"[bench] {binary} is missing: install Debian's package (sudo apt-get install -y {package})")
    print(f"[bench] {binary} is missing: installing {package} with apt-get", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env)
    return shutil.which(binary)
