"""The health poller's own connections (routing/health.py): one per server,
opened on first use, apart from the site's (application_name `blog:health`,
so the servers can tell polls from reads), with short timeouts so that a
server that does not answer holds a poll for at most a second."""
import psycopg2
from django.conf import settings


class PollConnections:
    """One process's poll connections; never shared across a fork (a child
    closing its copy would end the parent's session)."""

    def __init__(self):
        self._open = {}

    def ask(self, alias, sql):
        """The row `sql` returns on `alias`; psycopg2.Error if it failed
        (the connection is then dropped, and opened again next time)."""
        try:
            with self._connection(alias).cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchone()
        except psycopg2.Error:
            self.drop(alias)
            raise

    def forget(self):
        """After a fork: the parent's connections are the parent's."""
        self._open = {}

    def close_all(self):
        for alias in list(self._open):
            self.drop(alias)

    def drop(self, alias):
        conn = self._open.pop(alias, None)
        if conn is not None:
            try:
                conn.close()
            except psycopg2.Error:
                pass

    def _connection(self, alias):
        conn = self._open.get(alias)
        if conn is None or conn.closed:
            conn = psycopg2.connect(**health_dsn(alias))
            conn.autocommit = True
            self._open[alias] = conn
        return conn


def health_dsn(alias):
    config = settings.DATABASES[alias]
    dsn = {
        "host": config.get("HOST") or "127.0.0.1", "port": config.get("PORT") or 5432,
        "user": config.get("USER"), "password": config.get("PASSWORD") or None,
        "dbname": config.get("NAME"), "application_name": "blog:health",
        "connect_timeout": 1, "options": "-c statement_timeout=500",
    }
    for option in ("target_session_attrs", "sslmode", "sslrootcert"):  # finding the primary, TLS
        if option in config.get("OPTIONS", {}):
            dsn[option] = config["OPTIONS"][option]
    return dsn
