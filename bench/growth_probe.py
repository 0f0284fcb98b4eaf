"""Render time of reader pages, measured inside one Django process against
the database its environment names (bench/growth.py runs it once per blog
size):

    python -m bench.growth_probe '{"home": "/", ...}' <repeats>

Each page goes through the whole middleware stack and the view (Django's
test client: no page-cache fast path, so every request renders; reads go
to the replicas as in production). Prints JSON: per page the median and
p90 wall time in ms over `repeats` renders, the queries one render runs and
their database time.
"""
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "site")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")


def measure(client, path, repeats):
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):  # connections, templates and plans warm
        status = client.get(path).status_code
    captures = [CaptureQueriesContext(connections[alias]) for alias in connections]
    for capture in captures:
        capture.__enter__()
    client.get(path)
    for capture in captures:
        capture.__exit__(None, None, None)
    queries = [q for capture in captures for q in capture.captured_queries]
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"path": path, "status": status, "median_ms": round(statistics.median(timings), 2),
            "p90_ms": round(timings[max(0, int(len(timings) * 0.9) - 1)], 2),
            "queries": len(queries), "db_ms": round(sum(float(q["time"]) * 1000 for q in queries), 2)}


def main():
    import django

    django.setup()
    from django.test import Client

    from routing import health

    health.start_polling()  # reads go to the replicas, as in a gunicorn worker
    paths, repeats = json.loads(sys.argv[1]), int(sys.argv[2])
    client = Client(HTTP_HOST="127.0.0.1")
    print(json.dumps({name: measure(client, path, repeats) for name, path in paths.items()}))


if __name__ == "__main__":
    main()
