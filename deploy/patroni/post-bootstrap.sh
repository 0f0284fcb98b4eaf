#!/bin/sh
# Run once, by Patroni, on the member that initialises the cluster
# (bootstrap.post_bootstrap), with a superuser connection URL as its only
# argument: the application's database with the statistics extension the
# site's tooling reads, and, when APP_DB_USER is set (docker-compose.yml),
# the application's own login role owning that database. Patroni itself
# creates the replication and rewind roles named in its configuration.
#
# The local stack runs this same file (copied into its state folder, so that
# the unprivileged database user can read it from a private clone) without
# APP_DB_USER: there the site connects as the superuser, over loopback only.
#
# Environment:
#   APP_DB_NAME      the application's database, default blog
#   APP_DB_USER      optional: a login role to create and own it
#   APP_DB_PASSWORD  that role's password (required with APP_DB_USER)
set -eu

url="${1:?usage: post-bootstrap.sh <connection URL> (Patroni passes it)}"
if [ -n "${APP_DB_USER:-}" ]; then
  : "${APP_DB_PASSWORD:?APP_DB_PASSWORD is required with APP_DB_USER}"
fi

psql "$url" -X -q -v ON_ERROR_STOP=1 \
     -v database="${APP_DB_NAME:-blog}" \
     -v app_user="${APP_DB_USER:-}" -v app_password="${APP_DB_PASSWORD:-}" <<'SQL'
SELECT :'app_user' <> '' AS with_app_user \gset
\if :with_app_user
CREATE ROLE :"app_user" LOGIN PASSWORD :'app_password';
CREATE DATABASE :"database" OWNER :"app_user";
\else
CREATE DATABASE :"database";
\endif
\connect :"database"
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SQL
