"""deploy/access_log.py's logger minus its flushes by time and at exit (see
access_log_without_exit_flush.conf.py)."""
import atexit

from deploy.access_log import AccessLogger


class AccessLoggerWithoutExitFlush(AccessLogger):
    def __init__(self, cfg):
        super().__init__(cfg)
        atexit.unregister(self.flush)

    def _start_flusher(self):
        self._flusher = "never started"
