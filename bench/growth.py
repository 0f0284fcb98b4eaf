"""Part 5: growth. Render cost of the home page, a deep home page, a deep
archive and a post page at a small and a large blog (cost must stay flat),
and the deepest page a list serves (blog/pagination.py MAX_PAGE, 500)
against page 1 at the large size: uncached, the most one list request can
cost (issue 13 item 10).

A separate database `blog_growth` is cloned from a template seeded once
with `plan.growth_small` posts (`manage.py seed`), measured, then grown in
SQL to `plan.growth_large` posts by copying the seeded ones (new slugs,
published a little earlier each time, same titles, summaries, authors and
tags; copies carry no body, which lists never read and only their own page
and search would), vacuumed, and measured again with the same pages
(bench/growth_probe.py; the post measured is one of the seeded ones).
"""
import json
import subprocess
import sys
import time

from .pages import PER_PAGE
from .stack import ROOT, log

TEMPLATE, DATABASE = "blog_growth_base", "blog_growth"
COPY_SUFFIX = r"-g[0-9]+$"

# One statement: the copies and their tags (each copy's original found by slug).
COPY_SQL = """
WITH originals AS (SELECT id, slug FROM blog_post WHERE slug !~ %(suffix)s),
copies AS (
  INSERT INTO blog_post (title, slug, excerpt, body, body_html, body_text, reading_minutes, status,
                         published_at, created_at, updated_at, version, comment_count, author_id,
                         updated_by_id, summary)
  SELECT title, slug || '-g' || k, excerpt, '', '', '', reading_minutes, status,
         published_at - make_interval(secs => k * 1000), created_at, updated_at, 1, 0, author_id,
         NULL, summary
  FROM blog_post p, generate_series(1, %(copies)s) k
  WHERE p.slug !~ %(suffix)s
  RETURNING id, slug
)
INSERT INTO blog_post_tags (post_id, tag_id)
SELECT c.id, pt.tag_id
FROM copies c JOIN originals o ON o.slug = regexp_replace(c.slug, %(suffix)s, '')
JOIN blog_post_tags pt ON pt.post_id = o.id
"""


def ensure_template(stack, posts):
    exists = stack.query("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,), database="postgres")
    if exists and stack.post_count(TEMPLATE) == posts:
        return
    if exists:
        stack.query(f"DROP DATABASE {TEMPLATE}", database="postgres")
    log(f"growth: creating the {posts}-post template database")
    stack.query(f"CREATE DATABASE {TEMPLATE}", database="postgres")
    stack.prepare(posts, database=TEMPLATE)


def fresh_database(stack, posts):
    ensure_template(stack, posts)
    stack.query(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)", database="postgres")
    stack.query(f"CREATE DATABASE {DATABASE} TEMPLATE {TEMPLATE}", database="postgres")
    stack.wait_replayed()


def grow(stack, target):
    """Copy the seeded posts until `target` posts exist; vacuum; wait for the replicas."""
    started = time.monotonic()
    originals = stack.query("SELECT count(*) FROM blog_post WHERE slug !~ %s", (COPY_SUFFIX,),
                            database=DATABASE)[0][0]
    copies = max(0, -(-target // originals) - 1)
    conn = stack.connect(database=DATABASE)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
            cursor.execute(COPY_SQL, {"copies": copies, "suffix": COPY_SUFFIX})
            for table in ("blog_post", "blog_post_tags"):
                cursor.execute(f"VACUUM ANALYZE {table}")
    finally:
        conn.close()
    stack.wait_replayed()
    return round(time.monotonic() - started, 1)


def pages_to_measure(stack):
    """The same pages at both sizes, found from the database; a list's last
    page is the last it serves (blog/pagination.py MAX_PAGE)."""
    from blog.pagination import MAX_PAGE

    query = lambda sql, *params: stack.query(sql, params or None, database=DATABASE)  # noqa: E731
    published = query("SELECT count(*) FROM blog_post WHERE status = 'published'")[0][0]
    (oldest,) = query("SELECT min(published_at) FROM blog_post WHERE status = 'published'")[0]
    in_month = query("SELECT count(*) FROM blog_post WHERE status = 'published' AND "
                     "date_trunc('month', published_at AT TIME ZONE 'UTC') = "
                     "date_trunc('month', %s AT TIME ZONE 'UTC')", oldest)[0][0]
    (slug,) = query("SELECT slug FROM blog_post WHERE status = 'published' AND slug !~ %s "
                    "ORDER BY comment_count DESC, id LIMIT 1", COPY_SUFFIX)[0]
    archive = f"/archive/{oldest.year:04d}/{oldest.month:02d}/"
    last_page = lambda count: min(MAX_PAGE, -(-count // PER_PAGE))  # noqa: E731
    pages = {"home": "/", "home_last_page": f"/?page={last_page(published)}",
             "deep_archive": archive, "deep_archive_last_page": f"{archive}?page={last_page(in_month)}",
             "post": f"/posts/{slug}/"}
    if published >= MAX_PAGE * PER_PAGE:
        pages["home_deepest_page"] = f"/?page={MAX_PAGE}"
    return pages, published


def probe(stack, pages, repeats):
    env = stack.environment(ALLOWED_HOSTS="127.0.0.1,localhost,testserver", **stack.site_databases(DATABASE))
    result = subprocess.run([sys.executable, "-m", "bench.growth_probe", json.dumps(pages), str(repeats)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"growth probe failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(stack, plan):
    fresh_database(stack, plan.growth_small)
    pages, published = pages_to_measure(stack)
    small = {"posts": stack.post_count(DATABASE), "published": published,
             "pages": probe(stack, pages, plan.growth_repeats)}
    log(f"growth: {small['posts']} posts measured; growing to {plan.growth_large}")
    grow_seconds = grow(stack, plan.growth_large)
    large_pages, large_published = pages_to_measure(stack)
    large = {"posts": stack.post_count(DATABASE), "published": large_published, "grow_seconds": grow_seconds,
             "pages": probe(stack, {**pages, **large_pages}, plan.growth_repeats)}
    ratios = {name: round(large["pages"][name]["median_ms"] / small["pages"][name]["median_ms"], 2)
              for name in small["pages"]}
    result = {"small": small, "large": large, "large_over_small": ratios, "deepest_page": deepest_page(large)}
    log(f"growth: large/small {ratios}; deepest page {result['deepest_page']}")
    return result


def deepest_page(large):
    """The deepest page a list serves against its first, uncached, at the large size."""
    deep, first = large["pages"].get("home_deepest_page"), large["pages"]["home"]
    if deep is None:
        return None
    return {"path": deep["path"], "status": deep["status"], "posts": large["posts"], "median_ms": deep["median_ms"],
            "p90_ms": deep["p90_ms"], "page_1_ms": first["median_ms"],
            "over_page_1": round(deep["median_ms"] / first["median_ms"], 2)}
