"""The `bench` stack: its servers (through deploy/localstack.py), the
environment every bench process shares, and the seeded database.

    stack = BenchStack()
    stack.up()                      # PostgreSQL primary + 2 replicas + Redis
    stack.prepare(posts=10_000)     # migrate, collectstatic, seed up to N posts
    stack.tool("stop", "replica2")  # any localstack.py command
    stack.down()                    # always, even on failure
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
STACK_NAME = "bench"
# The one setting the bench changes from production: warmed pages must not
# reach their TTL (300 s) while the peers are measured, or refills would be
# measured as hits. The hit path is the same code whatever the TTL.
BENCH_SETTINGS = {"PAGE_CACHE_TTL": "3600"}


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def app_version():
    result = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True)
    return "bench-" + (result.stdout.strip() or "dev")


class BenchStack:
    def __init__(self, name=None):
        self.name = name or os.environ.get("STACK_NAME") or STACK_NAME
        self.ports = {}
        self.state_dir = None
        self.sentry_dsn = ""  # the local sink's, once run.py has started it

    # --- deploy/localstack.py ------------------------------------------------
    def tool(self, *args, check=True, timeout=180):
        env = {**os.environ, "STACK_NAME": self.name}
        result = subprocess.run([sys.executable, str(ROOT / "deploy" / "localstack.py"), *args],
                                env=env, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise RuntimeError(f"localstack {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    def up(self):
        started = time.monotonic()
        self.tool("up", timeout=600)
        self._read_environment()
        log(f"stack {self.name} up in {time.monotonic() - started:.1f}s (state in {self.state_dir})")

    def down(self):
        try:
            self.tool("down", timeout=180)
            log(f"stack {self.name} down")
        except Exception as error:  # the run is ending anyway: say so, never hide it
            log(f"stack down failed: {error}")

    def _read_environment(self):
        self.stack_env = {}
        for line in self.tool("env").splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            self.stack_env[key] = value.strip("'")
        self.state_dir = Path(self.stack_env["STACK_STATE_DIR"])
        self.ports = {
            "primary": int(self.stack_env["PG_PORT"]),
            "replica1": int(self.stack_env["REPLICA_PORTS"].split(",")[0]),
            "replica2": int(self.stack_env["REPLICA_PORTS"].split(",")[1]),
            "redis": int(self.stack_env["REDIS_PORT"]),
            "web": int(self.stack_env["WEB_PORT"]),
        }
        (self.state_dir / "bench").mkdir(exist_ok=True)

    def work_dir(self):
        return self.state_dir / "bench"

    # --- what every bench process sees ---------------------------------------
    def environment(self, **overrides):
        """Production-like settings on this stack (DEBUG off, real secret,
        comment rate limit off: every client posts from 127.0.0.1)."""
        env = {
            **os.environ, **self.stack_env,
            "DJANGO_SETTINGS_MODULE": "settings",
            "SECRET_KEY": "bench-secret-" + self.name,
            "DEBUG": "off",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "APP_VERSION": os.environ.get("BENCH_APP_VERSION") or app_version(),
            "COMMENT_RATE_LIMIT": "off",
            "STATIC_ROOT": str(self.state_dir / "static"),
            "PYTHONUNBUFFERED": "1",
            "SENTRY_DSN": self.sentry_dsn,
            "SENTRY_ENVIRONMENT": "bench",
            **BENCH_SETTINGS,
        }
        env.update({key: str(value) for key, value in overrides.items()})
        return env

    def manage(self, *args, database=None, **overrides):
        env = self.environment(STATEMENT_TIMEOUT_MS=0, **overrides)
        if database:
            env["DATABASE_URL"] = self.database_url("primary", database)
            env["REPLICA_URLS"] = ",".join(self.database_url(r, database) for r in ("replica1", "replica2"))
        subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)

    def database_url(self, server, database="blog"):
        return f"postgres://postgres@127.0.0.1:{self.ports[server]}/{database}"

    def connect(self, server="primary", database="blog"):
        conn = psycopg2.connect(host="127.0.0.1", port=self.ports[server], user="postgres",
                                dbname=database, connect_timeout=3, application_name="bench")
        conn.autocommit = True
        return conn

    def query(self, sql, params=None, server="primary", database="blog"):
        conn = self.connect(server, database)
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            conn.close()

    # --- the seeded blog -------------------------------------------------------
    def prepare(self, posts, database="blog"):
        """Migrate, collect static files, and seed until `posts` posts exist."""
        started = time.monotonic()
        self.manage("migrate", "--noinput", "-v", "0", database=database)
        if database == "blog":
            self.manage("collectstatic", "--noinput", "-v", "0")
        have = self.post_count(database)
        if have < posts:
            log(f"seeding {posts - have} posts into {database} (have {have})")
            self.manage("seed", "--posts", str(posts - have), "-v", "0", database=database)
        self.wait_replayed()
        log(f"{database}: {self.post_count(database)} posts, ready in {time.monotonic() - started:.1f}s")

    def post_count(self, database="blog"):
        return self.query("SELECT count(*) FROM blog_post", database=database)[0][0]

    def primary_lsn(self):
        return self.query("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")[0][0]

    def wait_replayed(self, timeout=120):
        """Until both replicas have replayed everything the primary has now."""
        target = self.primary_lsn()
        deadline = time.monotonic() + timeout
        for replica in ("replica1", "replica2"):
            while True:
                replayed = self.query("SELECT COALESCE(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0)",
                                      server=replica, database="postgres")[0][0]
                if replayed >= target:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{replica} did not replay {target} within {timeout}s")
                time.sleep(0.05)

    def set_replica_delay(self, delay):
        for replica in ("replica1", "replica2"):
            self.tool("delay", replica, delay)
