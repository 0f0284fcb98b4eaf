"""The ceilings: a bare WSGI app that answers every page under test with
the bytes the project's cache hit sends for it, held in memory (loaded once
in gunicorn's master, shared by the forked workers).

The pages come from the pickle named by BENCH_CEILING_PAGES: a dict from the
request target (`/posts/x/`, `/?page=2`) to (status line, headers, body),
captured from the project's own cache hits (bench/pages.py). With
BENCH_CEILING_HEADERS=bare each page keeps only Content-Type and
Content-Length (the physical limit of the server); with `project` (the
default) every header the hit sent.
"""
import os
import pickle

KEPT_WHEN_BARE = ("content-type", "content-length")


def bare(headers):
    return [(name, value) for name, value in headers if name.lower() in KEPT_WHEN_BARE]


def load(path, headers_kind):
    with open(path, "rb") as source:
        pages = pickle.load(source)
    if headers_kind == "bare":
        pages = {target: (status, bare(headers), body) for target, (status, headers, body) in pages.items()}
    return pages


PAGES = load(os.environ["BENCH_CEILING_PAGES"], os.environ.get("BENCH_CEILING_HEADERS", "project"))
NOT_FOUND = ("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")], b"not found")


def application(environ, start_response):
    target = environ.get("PATH_INFO", "/")
    if environ.get("QUERY_STRING"):
        target = f"{target}?{environ['QUERY_STRING']}"
    status, headers, body = PAGES.get(target, NOT_FOUND)
    start_response(status, list(headers))
    return [body]
