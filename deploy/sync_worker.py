"""gunicorn's sync worker, answering with deploy/http_response.py's Response
(offered to the application as `send_prepared`), its trusted-proxy check
remembered (deploy/proxy_trust.py), what never changes in a request's
environ made once (deploy/wsgi_environ.py).

    GUNICORN_WORKER_CLASS=sync    # deploy/gunicorn.conf.py then uses this class
"""
from gunicorn.workers import sync

from deploy import http_response, worker_process


class SyncWorker(sync.SyncWorker):
    def init_process(self):
        worker_process.install(self.cfg, self.log)
        super().init_process()

    def load_wsgi(self):
        super().load_wsgi()
        self.wsgi = http_response.offering_prepared(self.wsgi)
