#!/usr/bin/env python
"""Django's command-line utility (the import path: import_path.py)."""
import sys

import import_path


def main():
    import_path.use()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
