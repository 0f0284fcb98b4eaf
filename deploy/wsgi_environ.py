"""What gunicorn redoes for every request's environ, done once per worker
process: the project's workers call `install` after the fork
(deploy/worker_process.py).

For every request gunicorn's `wsgi.create`
- asks the process's environment for SCRIPT_NAME: `os.environ` encodes the
  name and, the variable being unset as it nearly always is, raises and
  catches a KeyError;
- makes a new `wsgi.errors` object (an io.RawIOBase, finalized again when
  the request ends), looking up the error log's handlers under logging's
  lock on the way.

Together 5.8 % of a gthread worker's samples while it served cached hits
(py-spy, stop 34: 3.5 % and 2.3 %). A worker's environment is the one it
forked with (a reload starts new workers), so gunicorn's HTTP module gets
`os` with `environ` a dict copied from it, and everything else of `os` as
it is. PEP 3333 asks of `wsgi.errors` only a file-like object, which
servers commonly share: one per process, which finds the error log's
streams when written to, as gunicorn's finds them when made.
"""
import os
import types

from gunicorn.http import wsgi

GUNICORNS_BASE_ENVIRON = wsgi.base_environ


class SharedErrors(wsgi.WSGIErrorsWrapper):
    """gunicorn's `wsgi.errors`, one for every request of the process."""

    def __init__(self, cfg):  # gunicorn's looks up the streams here: see `streams`
        self.cfg = cfg

    @property
    def streams(self):
        """The error log's streams now, found as gunicorn finds them (an
        application seldom writes here: once per write is cheap enough)."""
        return wsgi.WSGIErrorsWrapper(self.cfg).streams

    def close(self):
        """Shared: one request closing it must not close it for the next."""


def install(cfg):
    """Settle, for this process, what gunicorn reads for each environ."""
    wsgi.os = environment_copied()
    template = GUNICORNS_BASE_ENVIRON(cfg)
    template["wsgi.errors"] = SharedErrors(cfg)

    def base_environ(_cfg):
        return template.copy()

    wsgi.base_environ = base_environ


def environment_copied():
    """`os`, with `environ` a plain dict holding the process's environment now."""
    settled = types.ModuleType(os.__name__, os.__doc__)
    vars(settled).update(vars(os))
    settled.environ = dict(os.environ)
    return settled
