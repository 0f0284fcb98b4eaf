"""Django's own WSGI handler with no page-cache fast path in front: the
"render without cache" peer (with the real settings: the miss-path
middleware then only marks headers, nothing is stored) and the stock
per-site cache peer (with bench.stock_settings)."""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for folder in (str(ROOT), str(ROOT / "site")):
    if folder not in sys.path:
        sys.path.insert(0, folder)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
