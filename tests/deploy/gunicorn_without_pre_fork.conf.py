"""deploy/gunicorn.conf.py minus its pre_fork hook: the counterfactual that
shows what the hook prevents (tests/deploy/test_gunicorn.py)."""
from pathlib import Path

__file__ = str(Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py")
exec(compile(Path(__file__).read_text(), __file__, "exec"))


def pre_fork(server, worker):
    """Leaves the master's connections open across fork()."""
