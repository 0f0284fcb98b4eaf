"""deploy/gunicorn.conf.py with an access logger that only writes when more
than MAX_PENDING lines wait: no flusher thread, no flush at exit. The
counterfactual that shows what those prevent (tests/deploy/test_access_log.py)."""
from pathlib import Path

__file__ = str(Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py")
exec(compile(Path(__file__).read_text(), __file__, "exec"))

logger_class = "tests.deploy.access_log_without_exit_flush.AccessLoggerWithoutExitFlush"
