"""Settings, all from the environment (12-factor), with safe local defaults.

`site/` is a folder on the import path, not a package (`site` is a stdlib
module), so this module is imported as plain `settings`. Every variable is
documented, with its default, in the README's "Configuration" section.
"""
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from blog import permissions_policy  # plain data (blog/__init__.py imports nothing)

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_number(name, default, kind=float):
    value = os.environ.get(name, "")
    try:
        return kind(value) if value.strip() else default
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from error


DEBUG = env_flag("DEBUG")
HTTPS = env_flag("HTTPS")
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-local-development-key-only-for-debug-mode"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
APP_VERSION = os.environ.get("APP_VERSION", "dev")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "routing",
    "cache",
    "blog",
    "ops",
]

MIDDLEWARE = [
    # Outermost: picks the read server before any query (sessions included)
    # and sets the pin cookie after every write, including session saves.
    "routing.middleware.RoutingMiddleware",
    # Miss path of the page cache: stores what the view rendered, by tags.
    # Hits never get here: cache.wsgi answers them in front of Django.
    "cache.middleware.PageCacheMiddleware",
    # NUL bytes and non-UTF-8 input get a 400 before anything reads them (the
    # session, the views' queries); inside the page cache so a refusal still
    # hands back its fill lease.
    "blog.input_guard.InputGuardMiddleware",
    # HSTS, SSL redirect, nosniff, Referrer-Policy.
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on what Django renders (cache hits replay the
    # headers their render carried: cache/entry.py).
    "blog.content_security_policy.ContentSecurityPolicyMiddleware",
    # Permissions-Policy: every browser capability denied (blog/permissions_policy.py);
    # inside the page cache's middleware, so stored pages carry it and hits replay it.
    "django_permissions_policy.PermissionsPolicyMiddleware",
    # Hashed, compressed (gzip, brotli) static files with far-future caching,
    # each encoding its own ETag (WhiteNoise, blog/static_files.py); before
    # sessions so that assets never touch the session or the database.
    "blog.static_files.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Editors' forms (the admin); the readers' comment form has its own
    # page-level token so that cached pages carry no per-user token.
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Once the session is loaded: keep the login marker (the only thing the
    # router and the cache's fast path trust as "logged in") in step with it.
    "routing.login_marker.LoginMarkerMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "urls"
WSGI_APPLICATION = "wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases: one primary, zero or more streaming replicas -----------------
STATEMENT_TIMEOUT_MS = int(env_number("STATEMENT_TIMEOUT_MS", 5000, int))
# The local stack's three members: writes to whichever leads, reads from
# every member that is a standby (routing.health tells them apart).
LOCAL_DATABASE_URL = ("postgres://postgres@127.0.0.1:54320,127.0.0.1:54321,127.0.0.1:54322/blog"
                      "?target_session_attrs=read-write")
LOCAL_REPLICA_URLS = ",".join(f"postgres://postgres@127.0.0.1:{port}/blog" for port in (54321, 54322, 54320))
HOST_LIST = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^@/]*@)?(?P<hosts>[^/?#]*)(?P<rest>.*)$", re.I)


def database(url, alias):
    """One alias from a postgres:// URL, which may name several hosts, libpq's
    way: `postgres://blog@pg0:5432,pg1:5432,pg2:5432/blog?target_session_attrs=read-write`
    makes libpq try them in turn and keep the first that takes writes, the
    primary, whichever member leads (dj_database_url reads one host: the
    others are put back here). Query parameters are libpq options. Each alias
    gets its own application_name (so the server can tell who asked), a
    statement timeout, a short connect timeout and persistent connections."""
    match = HOST_LIST.match(url)
    hosts = [h.strip() for h in match["hosts"].split(",")] if match else []
    if len(hosts) > 1:
        url = f"{match['scheme']}{match['user'] or ''}{hosts[0]}{match['rest']}"
    config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if len(hosts) > 1:
        addresses = [dj_database_url.parse(f"{match['scheme']}{h}/x") for h in hosts]
        config["HOST"] = ",".join(a["HOST"] for a in addresses)
        config["PORT"] = ",".join(str(a["PORT"] or 5432) for a in addresses)
    config["OPTIONS"] = {
        **config.get("OPTIONS", {}),
        "application_name": f"blog:{alias}",
        "connect_timeout": 2,
        "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
    }
    return config


DATABASES = {"default": database(os.environ.get("DATABASE_URL", LOCAL_DATABASE_URL), "default")}
# Django's PostgreSQL backend that also tells read-your-writes which
# transactions wrote (routing/backend/base.py); replicas cannot write.
DATABASES["default"]["ENGINE"] = "routing.backend"
REPLICA_URLS = env_list("REPLICA_URLS", LOCAL_REPLICA_URLS)  # set but empty: no replicas
for number, url in enumerate(REPLICA_URLS, start=1):
    alias = f"replica{number}"
    DATABASES[alias] = database(url, alias)
    # Tests create the test database on the primary only; it reaches this
    # alias's own server by replication (MIRROR only copies the NAME).
    DATABASES[alias]["TEST"] = {"MIRROR": "default"}
REPLICA_ALIASES = [alias for alias in DATABASES if alias != "default"]
DATABASE_ROUTERS = ["routing.router.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MAX_REPLICA_LAG_SECONDS = env_number("MAX_REPLICA_LAG_SECONDS", 10.0)
MAX_REPLICA_LAG_BYTES = int(env_number("MAX_REPLICA_LAG_BYTES", 16 * 1024 * 1024, int))
REPLICA_HEALTH_INTERVAL = env_number("REPLICA_HEALTH_INTERVAL", 0.25)
PIN_MAX_AGE = env_number("PIN_MAX_AGE", 30.0)
# Both on in every real deployment; off only to demonstrate, in tests and
# benchmarks, the stale reads they prevent.
ROUTING_PIN_WRITES = env_flag("READ_YOUR_WRITES", True)
PAGE_CACHE_LSN_GATING = env_flag("PAGE_CACHE_LSN_GATING", True)

# --- Redis: page cache, rate limits -----------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:63790/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "dj",
        "OPTIONS": {
            # Short timeouts: with Redis down a request pays milliseconds, not
            # seconds. Every Redis client of the site uses these (cache/conf.py).
            "SOCKET_CONNECT_TIMEOUT": 0.05,
            "SOCKET_TIMEOUT": 0.25,
            "IGNORE_EXCEPTIONS": False,
        },
    }
}
PAGE_CACHE_TTL = int(env_number("PAGE_CACHE_TTL", 300, int))
PAGE_CACHE_GRACE = int(env_number("PAGE_CACHE_GRACE", 60, int))
# Each worker's in-memory copy of the pages it serves most (cache/memory.py).
PAGE_CACHE_MEMORY_MB = int(env_number("PAGE_CACHE_MEMORY_MB", 64, int))
COMMENT_RATE_LIMIT = os.environ.get("COMMENT_RATE_LIMIT", "5/min")
COMMENT_MODERATION = env_flag("COMMENT_MODERATION")
SEARCH_RATE_LIMIT = os.environ.get("SEARCH_RATE_LIMIT", "30/min")

# --- Sessions and security ----------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
PERMISSIONS_POLICY = permissions_policy.POLICY
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = HTTPS
# Health probes (Docker, load balancers) come over plain HTTP from inside.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# No SECURE_PROXY_SSL_HEADER: Django would believe X-Forwarded-Proto from any
# client, whereas gunicorn sets the scheme from it only for the proxies in
# FORWARDED_ALLOW_IPS (deploy/gunicorn.conf.py), and Django reads that scheme.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# The proxies (IPs or CIDR networks, `*` for any) whose X-Forwarded-For names
# the client: the same variable, and default, as gunicorn's forwarded_allow_ips.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS") or ["127.0.0.1"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"blog": {"level": "INFO"}, "routing": {"level": "INFO"}, "cache": {"level": "INFO"}},
}

# --- Ops: Sentry, query timing, operational events (ops/)
SLOW_QUERY_MS = env_number("SLOW_QUERY_MS", 500.0)
INTEGRITY_CHECK_MINUTES = env_number("INTEGRITY_CHECK_MINUTES", 60.0)
from ops import start_observing  # noqa: E402  (Sentry is started from settings, as its Django docs advise)

start_observing(release=APP_VERSION)
