#!/usr/bin/env python
"""Django's command-line utility. `site/` holds settings, urls and wsgi and is
put on the import path (it is a folder, not a package: `site` is a stdlib module)."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main():
    sys.path[:0] = [str(ROOT / "site"), str(ROOT)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
