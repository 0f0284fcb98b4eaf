"""WSGI entry point: Django's handler behind the page cache's fast path
(whose hits carry the security headers their render had: cache/entry.py).

gunicorn loads `wsgi:application` with `site/` on the import path
(deploy/gunicorn.conf.py puts it there).
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (str(ROOT), str(ROOT / "site")):
    if folder not in sys.path:
        sys.path.insert(0, folder)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

from cache.wsgi import PageCacheApplication  # noqa: E402

application = PageCacheApplication(get_wsgi_application())
