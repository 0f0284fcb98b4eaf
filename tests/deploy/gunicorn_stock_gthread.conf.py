"""deploy/gunicorn.conf.py with gunicorn's own gthread worker instead of
deploy/gthread_worker.py: the counterfactual of tests/deploy/test_gthread_worker.py."""
from pathlib import Path

__file__ = str(Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py")
exec(compile(Path(__file__).read_text(), __file__, "exec"))

worker_class = "gthread"
