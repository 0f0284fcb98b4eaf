"""gunicorn's sync worker, answering with deploy/http_response.py's Response.

    GUNICORN_WORKER_CLASS=sync    # deploy/gunicorn.conf.py then uses this class
"""
from gunicorn.workers import sync

from deploy import http_response


class SyncWorker(sync.SyncWorker):
    def init_process(self):
        http_response.install(self.cfg)
        super().init_process()
