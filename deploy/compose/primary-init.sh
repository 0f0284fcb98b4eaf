#!/bin/sh
# Run once by the official postgres image when it initialises the primary's
# data directory (mounted into /docker-entrypoint-initdb.d by
# docker-compose.yml): the role the replicas clone and stream with, the
# pg_hba line that lets it in, and the statistics extension the local stack
# also has. Replication slots are not made here: each replica creates its
# own (deploy/compose/replica-entrypoint.sh, pg_basebackup -C).
set -eu

: "${REPLICATION_USER:=replicator}"
: "${REPLICATION_PASSWORD:?REPLICATION_PASSWORD is required}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v role="$REPLICATION_USER" -v password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE :"role" WITH REPLICATION LOGIN PASSWORD :'password';
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SQL

# Replication connections match only lines naming the `replication` database.
echo "host replication $REPLICATION_USER all scram-sha-256" >> "$PGDATA/pg_hba.conf"
