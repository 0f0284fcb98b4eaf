"""Run in a fresh process (`python -m tests.hostile.junk_memory N`): send N
distinct junk URLs through the fast path's per-request work that keeps
per-process state (key building: path resolution, host validation, query
parsing; the Sentry scrubber's key cache), and print the process's resident
memory before and after, in bytes, as JSON."""
import json
import os
import sys


def rss_bytes():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def junk_environ(n):
    junk = f"{n:06d}" + "x" * 3000
    paths = [f"/authors/{junk}/", f"/posts/{junk[:200]}/", f"/tags/{junk[:100]}/", f"/{junk[:500]}/",
             f"/sitemap-{junk[:50]}.xml"]
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": paths[n % len(paths)], "SCRIPT_NAME": "",
        "QUERY_STRING": f"page={n}&q={junk[:150]}&utm_{n}=1", "wsgi.url_scheme": "http",
        "HTTP_HOST": ["127.0.0.1", f"h{n}.example", f"localhost:{n % 65536}"][n % 3],
    }


def main(count):
    import import_path

    import_path.use()
    import django

    django.setup()
    from cache import keys
    from ops import scrub

    for n in range(2000):  # warm up: imports, regex caches, allocator arenas
        keys.page_key(junk_environ(10**7 + n))
    before = rss_bytes()
    for n in range(count):
        keys.page_key(junk_environ(n))
        scrub.masked_for_key(f"X-Junk-Header-{n:06d}" + "y" * 200)
    print(json.dumps({"before": before, "after": rss_bytes(),
                      "key_tables": keys.resolved_paths.size_bytes + keys.page_keys.size_bytes}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
