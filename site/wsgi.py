"""WSGI entry point: Django's handler behind the page cache's fast path
(whose hits carry the security headers their render had: cache/entry.py).

gunicorn loads `wsgi:application` once deploy/gunicorn.conf.py has put
site/ on the import path (import_path.py).
"""
from django.core.wsgi import get_wsgi_application

from cache.wsgi import PageCacheApplication

application = PageCacheApplication(get_wsgi_application())
