"""The ceiling: a bare WSGI app that answers every page under test with the
exact status, headers and body the project's cache hit sends for it, held in
memory (loaded once in gunicorn's master, shared by the forked workers).

The pages come from the pickle named by BENCH_CEILING_PAGES: a dict from the
request target (`/posts/x/`, `/?page=2`) to (status line, headers, body),
captured from the project's own cache hits (bench/pages.py).
"""
import os
import pickle

with open(os.environ["BENCH_CEILING_PAGES"], "rb") as source:
    PAGES = pickle.load(source)

NOT_FOUND = ("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")], b"not found")


def application(environ, start_response):
    target = environ.get("PATH_INFO", "/")
    if environ.get("QUERY_STRING"):
        target = f"{target}?{environ['QUERY_STRING']}"
    status, headers, body = PAGES.get(target, NOT_FOUND)
    start_response(status, list(headers))
    return [body]
