"""A WSGI application for tests/deploy/test_gunicorn.py: the site's own
application (`wsgi.application`), plus

- a probe URL reporting what the serving worker sees (its pid, its database
  backend, where the replica health poller was started, whether it polls
  for all the workers, the URL scheme,
  the class gunicorn builds its responses with, whether the worker offered
  the application send_prepared, the request body it read),
  after `?sleep=<seconds>` if asked (a request that holds its thread);
- a database connection opened at import, as code run while gunicorn
  preloads the app might open one, so the tests can see whether the master
  closes it before forking;
- `X-Request-ID` and `X-Cache` filled in on responses that lack them, so the
  access log format can be checked whatever the site sets today.
"""
import json
import os
import time
import uuid

import wsgi  # noqa: I001  (sets up Django)
from django.db import connection
from gunicorn.http import wsgi as gunicorn_wsgi

from routing import health

PROBE_PATH = "/__deploy_probe__"
MASTER_PID = os.getpid()
POLLER_STARTED_IN = []
_start_polling = health.start_polling


def _start_polling_and_record(*args, **kwargs):
    POLLER_STARTED_IN.append(os.getpid())
    return _start_polling(*args, **kwargs)


health.start_polling = _start_polling_and_record


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


MASTER_BACKEND_PID = backend_pid()


def health_poll():
    """Whether this worker polls the databases for all, and where it shares."""
    monitor = health.monitor()
    return {"leading": monitor.leading, "adopting": monitor.adopting,
            "directory": monitor.share.directory if monitor.share else None}


def probe(environ, start_response):
    if environ.get("QUERY_STRING", "").startswith("sleep="):
        time.sleep(float(environ["QUERY_STRING"].removeprefix("sleep=")))
    report = {
        "worker_pid": os.getpid(),
        "master_pid": MASTER_PID,
        "master_backend_pid": MASTER_BACKEND_PID,
        "backend_pid": backend_pid(),
        "poller_started_in": POLLER_STARTED_IN,
        "health_poll": health_poll(),
        "url_scheme": environ["wsgi.url_scheme"],
        "remote_addr": environ.get("REMOTE_ADDR"),
        "response_class": f"{gunicorn_wsgi.Response.__module__}.{gunicorn_wsgi.Response.__qualname__}",
        "send_prepared_offered": callable(environ.get("deploy.send_prepared")),
        "body": environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)).decode("latin-1"),
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(report).encode()]


def application(environ, start_response):
    if environ.get("PATH_INFO") == PROBE_PATH:
        return probe(environ, start_response)

    def start_with_log_headers(status, headers, exc_info=None):
        names = {name.lower() for name, _ in headers}
        if "x-request-id" not in names:
            headers.append(("X-Request-ID", uuid.uuid4().hex))
        if "x-cache" not in names:
            headers.append(("X-Cache", "BYPASS"))
        return start_response(status, headers, exc_info)

    return wsgi.application(environ, start_with_log_headers)
