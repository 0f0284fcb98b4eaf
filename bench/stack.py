"""The `bench` stack: its servers (through deploy/localstack.py), the
environment every bench process shares, and the seeded database.

    stack = BenchStack()
    stack.up()                      # three PostgreSQL members under Patroni + Redis
    stack.prepare(posts=10_000)     # migrate, collectstatic, seed up to N posts
    stack.query("SELECT 1")         # on the member that leads now
    stack.query("SELECT 1", server="replica1")   # on that member, whatever its role
    stack.tool("stop", "replica2")  # any localstack.py command
    stack.down()                    # always, even on failure

The site's database settings are the ones `make up` gives it, built by
deploy/stack/config.py (`primary_url()`: every member, libpq keeping the one
that takes writes; `reader_urls()`: every member, the first last), on
whichever database a part uses.
"""
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

from deploy.stack import config as stack_config

ROOT = Path(__file__).resolve().parent.parent
STACK_NAME = "bench"
# The one setting the bench changes from production: warmed pages must not
# reach their TTL (300 s) while the peers are measured, or refills would be
# measured as hits. The hit path is the same code whatever the TTL.
BENCH_SETTINGS = {"PAGE_CACHE_TTL": "3600"}
# The names the bench's writers comment under (bench/workload.py, bench/sync_cost.py).
BENCH_COMMENTS = ("Bench %", "Sync cost %")


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
        self.config = stack_config.load(self.name)
        # The members by the stack tool's names (the first, second and third
        # port), whichever of them leads now; then Redis and the first web port.
        self.ports = {member.alias: member.port for member in self.config.members}
        self.ports.update(redis=self.config.redis_port, web=self.config.web_port)
        (self.state_dir / "bench").mkdir(exist_ok=True)

    @property
    def members(self):
        """The stack tool's names of the three members, in port order."""
        return [member.alias for member in self.config.members]

    def leader(self):
        """The member that leads now (`localstack.py leader`: Patroni's leader key)."""
        return self.tool("leader").split()[0]

    def standbys(self):
        return [member for member in self.members if member != self.leader()]

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

    def manage(self, *args, database="blog", **overrides):
        env = self.environment(STATEMENT_TIMEOUT_MS=0, **self.site_databases(database), **overrides)
        subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)

    def site_databases(self, database="blog"):
        """DATABASE_URL and REPLICA_URLS as `make up` gives the site, on `database`."""
        return {"DATABASE_URL": on_database(self.config.primary_url(), database),
                "REPLICA_URLS": ",".join(on_database(url, database) for url in self.config.reader_urls())}

    def connect(self, server=None, database="blog", user="postgres"):
        """A connection to `server` (a member's name), or with None to the
        member that takes writes now (libpq tries every member)."""
        members = self.config.members if server is None else [self.config.member(server)]
        conn = psycopg2.connect(host=",".join("127.0.0.1" for _ in members),
                                port=",".join(str(member.port) for member in members),
                                target_session_attrs="read-write" if server is None else "any",
                                user=user, dbname=database, connect_timeout=3, application_name="bench")
        conn.autocommit = True
        return conn

    def query(self, sql, params=None, server=None, database="blog"):
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
            self.remove_earlier_runs_comments()
        have = self.post_count(database)
        if have < posts:
            log(f"seeding {posts - have} posts into {database} (have {have})")
            self.manage("seed", "--posts", str(posts - have), "-v", "0", database=database)
        self.wait_replayed()
        log(f"{database}: {self.post_count(database)} posts, ready in {time.monotonic() - started:.1f}s")

    def remove_earlier_runs_comments(self):
        """Delete the comments earlier runs posted (BENCH_COMMENTS), then
        repair the posts' counts. Kept, they made every run's pages longer
        than the last (by a fifth after a day of runs on one machine: the
        hot page 29.8 -> 35.6 KB), so runs were not measuring the same
        bytes. Each run starts from the seeded pages."""
        patterns = " OR ".join("name LIKE %s" for _ in BENCH_COMMENTS)
        removed = self.query(f"WITH gone AS (DELETE FROM blog_comment WHERE {patterns} RETURNING 1) "
                             "SELECT count(*) FROM gone", BENCH_COMMENTS)[0][0]
        if removed:
            log(f"removed {removed} comments of earlier runs; repairing the comment counts")
            self.manage("check_integrity", "--repair")

    def post_count(self, database="blog"):
        return self.query("SELECT count(*) FROM blog_post", database=database)[0][0]

    def primary_lsn(self):
        return self.query("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")[0][0]

    def wait_replayed(self, timeout=120):
        """Until every standby has replayed everything the primary has now."""
        target = self.primary_lsn()
        deadline = time.monotonic() + timeout
        for replica in self.standbys():
            while True:
                replayed = self.query("SELECT COALESCE(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0)",
                                      server=replica, database="postgres")[0][0]
                if replayed >= target:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{replica} did not replay {target} within {timeout}s")
                time.sleep(0.05)

    def set_replica_delay(self, delay):
        for replica in self.standbys():
            self.tool("delay", replica, delay)


def on_database(url, database):
    """`url` (one host or several, libpq's way) naming `database` instead."""
    return urlunsplit(urlsplit(url)._replace(path="/" + database))
