"""gunicorn configuration used by every way of serving the site (local stack,
Docker, benchmarks). Settings come from the environment."""
import multiprocessing
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `site/` is a folder on the import path, not a package (`site` is a stdlib module).
sys.path[:0] = [str(ROOT / "site"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

wsgi_app = "wsgi:application"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
timeout = 30
graceful_timeout = 20
max_requests = 5000
max_requests_jitter = 500
