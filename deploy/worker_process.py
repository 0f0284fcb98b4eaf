"""What every one of the project's gunicorn workers installs in its own
process after the fork, before it serves (deploy/gthread_worker.py,
deploy/sync_worker.py; bench/touch.py measures a request the same way):
gunicorn's per-response work done once (deploy/http_response.py), its
per-request environ work done once (deploy/wsgi_environ.py), its
trusted-proxy check remembered (deploy/proxy_trust.py), its requests
timed only for an access log (deploy/request_clock.py)."""
from deploy import http_response, proxy_trust, request_clock, wsgi_environ


def install(cfg, log):
    request_clock.install(log)
    http_response.install(cfg)
    wsgi_environ.install(cfg)
    proxy_trust.install()
