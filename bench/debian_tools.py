"""Debian programs the bench runs (wrk, valgrind): found on the PATH,
installed from Debian's packages when we are root, the way the stack
installs its servers (deploy/stack/system.py), named otherwise."""
import shutil
import sys

from deploy.stack.system import apt_install, can_install


def debian_tool(binary, package=None):
    """`binary`'s path, installing `package` (default: the same name) when
    it is missing and we may; otherwise stop and say what to install."""
    package = package or binary
    found = shutil.which(binary)
    if found:
        return found
    if not can_install():
        raise SystemExit(f"[bench] {binary} is missing: install Debian's package (sudo apt-get install -y {package})")
    print(f"[bench] {binary} is missing: installing {package} with apt-get", file=sys.stderr, flush=True)
    apt_install([package])
    return shutil.which(binary)
