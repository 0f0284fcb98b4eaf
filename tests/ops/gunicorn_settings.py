"""The site's settings with the ops probe URLconf, for the gunicorn end-to-end
test (DJANGO_SETTINGS_MODULE=tests.ops.gunicorn_settings): everything else,
Sentry from SENTRY_DSN included, is exactly what production runs."""
from settings import *  # noqa: F401,F403
from settings import LOGGING

ROOT_URLCONF = "tests.ops.probe_urls"
# Each worker logs what it decided about a state change (reported, or left to another).
LOGGING["loggers"]["ops"] = {"level": "INFO"}
