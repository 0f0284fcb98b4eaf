"""The one place that puts the project on Python's import path.

`site/` (settings, urls, wsgi) is a folder on the path, not a package:
`site` is a stdlib module. Every entry point calls `use()` before Django
loads: manage.py, gunicorn's config, the scheduler, the bench, the image's
build check (pytest reads the same two folders from pytest.ini).
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
FOLDERS = (str(ROOT / "site"), str(ROOT))


def use(settings_module="settings"):
    """site/ and the project root on the path; DJANGO_SETTINGS_MODULE defaulted."""
    for folder in reversed(FOLDERS):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
