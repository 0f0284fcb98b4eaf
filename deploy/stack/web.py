"""The site itself on the local stack: migrate, editor account, demo content,
gunicorn and the scheduler, all in the background with pid files.
"""
import os
import secrets
import subprocess
import sys
import urllib.request

from . import system
from .config import REPO
from .system import say

SEED_POSTS = 300


def python():
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def environment(config):
    """What the site's processes (manage.py, gunicorn, the scheduler) run with."""
    return {**os.environ, **shell_environment(config)}


def shell_environment(config):
    """The variables `localstack.py env` exports: the stack's addresses and
    the settings the site runs with on it, so that a manage.py command in a
    shell that ran `eval "$(python deploy/localstack.py env)"` talks to the
    stack exactly as the site does (SECRET_KEY above all: settings refuse to
    start without one while DEBUG is off)."""
    return {**config.environment(), **site_settings(config)}


def site_settings(config):
    """The stack's own secret, hosts and version, unless the environment sets them."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secret_key(config),
        "ALLOWED_HOSTS": os.environ.get("ALLOWED_HOSTS") or "127.0.0.1,localhost",
        "APP_VERSION": os.environ.get("APP_VERSION") or app_version(),
    }


def secret_key(config):
    """A per-stack key kept in the state folder, so sessions survive restarts."""
    path = config.path("secret_key")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)  # `env` may run before the first `up`
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def app_version():
    result = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                            capture_output=True, text=True)
    return result.stdout.strip() or "dev"


def manage(config, *args, check=True):
    return subprocess.run([python(), str(REPO / "manage.py"), *args], env=environment(config),
                          check=check, cwd=REPO)


def prepare(config):
    """Migrate on the primary, create the editor account, seed demo content once."""
    manage(config, "migrate", "--noinput", "-v", "0")
    manage(config, "collectstatic", "--noinput", "-v", "0")
    password_file = config.path("editor_password")
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(12))
        password_file.chmod(0o600)
    manage(config, "local_editor", "--password-file", str(password_file))
    seeded = config.path("seeded")
    if not seeded.exists():
        manage(config, "seed", "--posts", str(SEED_POSTS))
        seeded.write_text("yes\n")


def gunicorn_pidfile(config):
    return config.path("gunicorn.pid")


def scheduler_pidfile(config):
    return config.path("scheduler.pid")


def web_running(config):
    return system.pid_alive(system.read_pid(gunicorn_pidfile(config)), "gunicorn")


def start(config):
    if not web_running(config):
        say(f"gunicorn on http://127.0.0.1:{config.web_port}")
        served = start_gunicorn(config)
    else:
        served = None
    if not system.pid_alive(system.read_pid(scheduler_pidfile(config)), "scheduler"):
        log = open(config.path("logs", "scheduler.log"), "a")
        process = subprocess.Popen(
            [python(), str(REPO / "deploy" / "scheduler.py")], env=environment(config),
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=REPO, start_new_session=True,
        )
        scheduler_pidfile(config).write_text(f"{process.pid}\n")
    gone = (lambda: served.poll() is not None) if served else (lambda: False)
    if not system.wait_until(lambda: answers(config) or gone(), 30, interval=0.1) or gone():
        raise SystemExit(f"[stack] the site did not answer on :{config.web_port} "
                         f"(see {config.path('logs', 'web.log')})")


def start_gunicorn(config):
    """gunicorn as production runs it: in the foreground of its own
    process (no --daemon), left running when `up` returns, stopped by its
    pid file. In a process group of its own, so that whatever stops the
    command that ran `up` (its process group) leaves the site running; but
    in the caller's session: Linux's scheduler groups each session's
    processes (autogroup) and shares the CPU between the groups, and a
    daemonized server (gunicorn's --daemon calls setsid) was measured
    15-20 % slower against a load generator run from the developer's own
    session than the same server in that session (docs/benchmarks.md)."""
    log = open(config.path("logs", "web.log"), "a")
    return subprocess.Popen(
        [python(), "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
         "--bind", f"127.0.0.1:{config.web_port}",
         "--pid", str(gunicorn_pidfile(config)),
         "--access-logfile", str(config.path("logs", "access.log")),
         "--error-logfile", str(config.path("logs", "web.log")), "wsgi:application"],
        env=environment(config), cwd=REPO, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        process_group=0,
    )


def answers(config):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{config.web_port}/healthz", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def stop(config):
    stopped = system.stop_pid(system.read_pid(scheduler_pidfile(config)), "scheduler")
    return system.stop_pid(system.read_pid(gunicorn_pidfile(config)), "gunicorn") or stopped
