"""The pages readers ask for, and warming them into the project's cache.

`reader_pages(stack)` lists every reader page of the seeded blog by kind
(posts, home pages, tags, authors, archives, feed). `warm_and_capture`
requests each page until the project's cache answers it (X-Cache: HIT) and
keeps exactly what that hit sent, for the ceiling app to replay.
"""
import hashlib
import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .http_client import HttpClient
from .zipf import hottest_first

PER_PAGE = 10
# Headers gunicorn adds to every response itself: the ceiling gets its own.
SERVER_HEADERS = {"date", "server", "connection", "transfer-encoding", "keep-alive"}


def reader_pages(stack):
    """{kind: [request target, ...]} over the published blog, newest first
    (the home page's pages up to the last one a list serves)."""
    from blog.pagination import MAX_PAGE

    query = stack.query
    posts = [f"/posts/{slug}/" for (slug,) in query(
        "SELECT slug FROM blog_post WHERE status = 'published' ORDER BY published_at DESC, id DESC")]
    last_page = min(MAX_PAGE, (len(posts) + PER_PAGE - 1) // PER_PAGE)
    home_pages = ["/"] + [f"/?page={n}" for n in range(2, last_page + 1)]
    tags = [f"/tags/{slug}/" for (slug,) in query("SELECT slug FROM blog_tag ORDER BY slug")]
    authors = [f"/authors/{name}/" for (name,) in query(
        "SELECT u.username FROM auth_user u JOIN blog_authorprofile a ON a.user_id = u.id "
        "WHERE a.latest_post_id IS NOT NULL ORDER BY u.username")]
    months = query("SELECT DISTINCT date_trunc('month', published_at AT TIME ZONE 'UTC') AS m "
                   "FROM blog_post WHERE status = 'published' ORDER BY m DESC")
    archives = sorted({f"/archive/{m.year:04d}/" for (m,) in months}, reverse=True)
    archives += [f"/archive/{m.year:04d}/{m.month:02d}/" for (m,) in months]
    return {"post": posts, "home": home_pages, "tag": tags, "author": authors,
            "archive": archives, "feed": ["/feed/"]}


def ranked_pages(universe, count):
    """`count` pages hottest first: the home page and the feed, then every
    other page in a fixed shuffled order (which post is popular is arbitrary)."""
    head = ["/", "/feed/"]
    rest = [path for kind in ("post", "home", "tag", "author", "archive", "feed")
            for path in universe[kind] if path not in head]
    return (head + hottest_first(rest))[:count]


def ceiling_headers(headers):
    """A hit's headers as the ceiling replays them: the request id becomes a
    constant of the same length, gunicorn's own headers are left to it."""
    kept = []
    for name, value in headers:
        if name.lower() in SERVER_HEADERS:
            continue
        if name.lower() == "x-request-id":
            value = "0" * len(value)
        kept.append((name, value))
    return kept


def fetch_hit(client, path, attempts=20):
    """GET `path` until the cache serves it; (status line, headers, body) or None."""
    for _ in range(attempts):
        reply = client.get(path)
        if reply.status == 0:
            continue
        if reply.header("x-cache") == "HIT":
            headers = [(name.title() if name != "etag" else "ETag", value)
                       for name, value in reply.headers.items()]
            return f"{reply.status} {'OK' if reply.status == 200 else 'Not Found'}", \
                ceiling_headers(headers), reply.body
        time.sleep(0.05)
    return None


def warm_and_capture(port, paths, threads=8):
    """Fill the project's cache with `paths` (through its own miss path) and
    return {path: (status line, headers, body)} of the hits that follow."""
    captured, failed = {}, []
    lock = threading.Lock()
    local = threading.local()

    def one(path):
        if not hasattr(local, "client"):
            local.client = HttpClient(port)
        found = fetch_hit(local.client, path)
        with lock:
            if found is None:
                failed.append(path)
            else:
                captured[path] = found

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, paths))
    return captured, failed


def save_pages(pages, target):
    with open(target, "wb") as out:
        pickle.dump(pages, out, protocol=pickle.HIGHEST_PROTOCOL)
    return target


def digest(body):
    return hashlib.sha256(body).hexdigest()[:16]
