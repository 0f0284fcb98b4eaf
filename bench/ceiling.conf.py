"""deploy/gunicorn.conf.py for the ceilings (bench/ceiling_app.py): every
setting the same (workers, threads, keep-alive, recycling, the access
logger), without the project's fork hooks, which start the site's pollers
(replica health, the memory tier's sync) in every worker, and the master's
hooks that make and remove the directory the health poll is shared
through: a cost of the project, not of the server."""
from pathlib import Path

__file__ = str(Path(__file__).resolve().parents[1] / "deploy" / "gunicorn.conf.py")
exec(compile(Path(__file__).read_text(), __file__, "exec"))
del pre_fork, post_fork, on_starting, on_exit  # noqa: F821 (defined by the exec'd configuration)
