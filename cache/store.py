"""Redis side of the page cache (first cut: invalidation records only)."""
from django.db import connections
from django_redis import get_redis_connection

# SET key to max(current, new): concurrent invalidators never move a record back.
RAISE_TO = """
for i, key in ipairs(KEYS) do
  local current = tonumber(redis.call('GET', key) or '0')
  if tonumber(ARGV[1]) > current then redis.call('SET', key, ARGV[1]) end
end
return 1
"""


def primary_lsn():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def tag_key(tag):
    return f"pc:tag:{tag}"


def record_invalidation(tags):
    lsn = primary_lsn()
    client = get_redis_connection("default")
    client.eval(RAISE_TO, len(tags), *[tag_key(t) for t in tags], lsn)
    return lsn
