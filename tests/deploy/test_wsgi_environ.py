"""deploy/wsgi_environ.py: a request's environ is the one gunicorn builds,
with what never changes in a worker made once: the process's environment
read from a dict, one `wsgi.errors` writing where gunicorn's writes."""
import io
import os
import socket
import sys

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.message import Request
from gunicorn.http.unreader import IterUnreader

from deploy import wsgi_environ

PER_REQUEST = {"wsgi.errors", "wsgi.input", "gunicorn.socket", "wsgi.early_hints"}


@pytest.fixture(autouse=True)
def gunicorns_own_module(monkeypatch):
    """gunicorn's HTTP module as it was, put back after each test."""
    monkeypatch.setattr(wsgi, "os", wsgi.os)
    monkeypatch.setattr(wsgi, "base_environ", wsgi.base_environ)


def environ_of(config, path=b"/blog/posts/x/"):
    """The environ gunicorn builds for a GET of `path`."""
    peer = ("127.0.0.1", 40000)
    request = Request(config, IterUnreader([b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n"]), peer, 1)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        return wsgi.create(request, ours, peer, ("127.0.0.1", 8000), config)[1]


@pytest.mark.parametrize("script_name", ["/blog", None])
def test_a_settled_worker_builds_the_environ_gunicorn_builds(monkeypatch, script_name):
    """Check that, SCRIPT_NAME set in the worker's environment or not, a
    request's environ holds what gunicorn's own gives it (SCRIPT_NAME and
    PATH_INFO included), but for what is new on every request."""
    if script_name is None:
        monkeypatch.delenv("SCRIPT_NAME", raising=False)
    else:
        monkeypatch.setenv("SCRIPT_NAME", script_name)
    config = Config()
    gunicorns = environ_of(config)
    wsgi_environ.install(config)
    ours = environ_of(config)
    assert {k: v for k, v in ours.items() if k not in PER_REQUEST} == {
        k: v for k, v in gunicorns.items() if k not in PER_REQUEST}
    assert (ours["SCRIPT_NAME"], ours["PATH_INFO"]) == (
        ("/blog", "/posts/x/") if script_name else ("", "/blog/posts/x/"))


def test_the_environment_is_read_from_a_dict_and_the_rest_of_os_is_there():
    """Check that gunicorn's HTTP module reads a plain dict holding the
    process's environment (os.environ's lookup of an unset variable raises
    and catches an exception), and still finds the rest of `os`."""
    wsgi_environ.install(Config())
    assert type(wsgi.os.environ) is dict and wsgi.os.environ == dict(os.environ)
    assert wsgi.os.lseek is os.lseek and wsgi.os.SEEK_SET == os.SEEK_SET


def test_every_request_shares_one_wsgi_errors_that_writes_where_gunicorns_does(monkeypatch):
    """Check that requests share one `wsgi.errors`, that what is written to
    it reaches the error log's stream as it is when written (standard error
    by default; a reopened log file has a new stream), and that a request
    closing it does not close it for the next."""
    config = Config()
    wsgi_environ.install(config)
    first, second = environ_of(config), environ_of(config)
    assert first["wsgi.errors"] is second["wsgi.errors"]
    first["wsgi.errors"].close()
    now = io.StringIO()
    monkeypatch.setattr(sys, "stderr", now)
    second["wsgi.errors"].write("a traceback\n")
    second["wsgi.errors"].flush()
    assert now.getvalue() == "a traceback\n"
