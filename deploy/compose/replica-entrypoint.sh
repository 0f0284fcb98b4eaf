#!/bin/sh
# Entry point of a PostgreSQL streaming replica: docker-compose.yml's replica
# services run it in the official postgres image, and the test suite runs it
# against the local stack's binaries (tests/deploy/test_replica_bootstrap.py).
#
# First start (empty $PGDATA): clone the primary with
#     pg_basebackup -R -X stream -C -S <slot>
# so the copy is a standby (-R writes primary_conninfo and standby.signal)
# that streams through its own physical slot (the primary keeps the WAL it
# has not received yet, up to max_slot_wal_keep_size). When the slot already
# exists and nobody uses it (a replica rebuilt after losing its volume), it is
# reused instead of created. The clone is made beside $PGDATA and renamed
# into place only once complete, so a start interrupted mid-copy starts over
# cleanly. Later starts: the data directory is there, so the server just
# starts (and a promoted former replica starts as a primary).
#
# Environment:
#   PGDATA                    data directory; in Docker a folder inside the
#                             volume, so that the clone can be renamed into place
#   PRIMARY_HOST              primary's host name
#   PRIMARY_PORT              default 5432
#   REPLICATION_USER          default replicator
#   REPLICATION_PASSWORD      unset with trust authentication
#   REPLICA_SLOT              this replica's slot: lower-case letters, digits, _
#   RECOVERY_MIN_APPLY_DELAY  optional (e.g. 5s): a deliberately lagging replica
#   PRIMARY_WAIT_SECONDS      how long to wait for the primary, default 120
# Arguments: the server's command line, e.g. `postgres --hot_standby=on`.
set -eu

say() { echo "replica-entrypoint: $*" >&2; }
die() { say "$*"; exit 1; }

: "${PGDATA:?PGDATA is required}"
: "${PRIMARY_HOST:?PRIMARY_HOST is required}"
: "${REPLICA_SLOT:?REPLICA_SLOT is required}"
PRIMARY_PORT="${PRIMARY_PORT:-5432}"
REPLICATION_USER="${REPLICATION_USER:-replicator}"
PRIMARY_WAIT_SECONDS="${PRIMARY_WAIT_SECONDS:-120}"
[ "$#" -gt 0 ] || die "no server command given (e.g. postgres)"
case "$REPLICA_SLOT" in
  *[!a-z0-9_]*) die "REPLICA_SLOT may hold only lower-case letters, digits and _: $REPLICA_SLOT" ;;
esac
if [ -n "${REPLICATION_PASSWORD:-}" ]; then
  export PGPASSWORD="$REPLICATION_PASSWORD"
fi

wait_for_primary() {
  waited=0
  until pg_isready -q -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER"; do
    [ "$waited" -lt "$PRIMARY_WAIT_SECONDS" ] || die "primary $PRIMARY_HOST:$PRIMARY_PORT not ready after ${waited}s"
    sleep 1
    waited=$((waited + 1))
  done
}

# "absent", "inactive" or "active": whether the slot exists and is streaming.
slot_state() {
  psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER" -d postgres -w -XAtq \
       -v ON_ERROR_STOP=1 -v slot="$REPLICA_SLOT" <<'SQL'
SELECT coalesce(
  (SELECT CASE WHEN active THEN 'active' ELSE 'inactive' END
   FROM pg_replication_slots WHERE slot_name = :'slot'),
  'absent');
SQL
}

clone_primary() {
  state="$(slot_state)" || die "cannot read the slots on the primary"
  case "$state" in
    absent)   create="-C"; say "creating slot $REPLICA_SLOT" ;;
    inactive) create="";   say "slot $REPLICA_SLOT exists and is unused: reusing it" ;;
    *)        die "slot $REPLICA_SLOT is in use by another server; give this replica its own slot" ;;
  esac
  partial="$PGDATA.partial"
  rm -rf "$partial"  # left by an interrupted clone: ours, incomplete
  say "cloning $PRIMARY_HOST:$PRIMARY_PORT into $PGDATA"
  # $create is deliberately unquoted: empty means no option at all.
  # shellcheck disable=SC2086
  pg_basebackup -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U "$REPLICATION_USER" -w \
                -D "$partial" -R -X stream -S "$REPLICA_SLOT" $create -c fast
  mv "$partial" "$PGDATA"
}

if [ -s "$PGDATA/PG_VERSION" ]; then
  say "data directory exists: starting the server as it is"
else
  if [ -d "$PGDATA" ]; then
    rmdir "$PGDATA" 2>/dev/null || die "$PGDATA holds files but no database; empty it to clone the primary"
  fi
  wait_for_primary
  clone_primary
fi
# PostgreSQL refuses a data directory others can read.
chmod 700 "$PGDATA"

if [ -n "${RECOVERY_MIN_APPLY_DELAY:-}" ]; then
  set -- "$@" -c "recovery_min_apply_delay=$RECOVERY_MIN_APPLY_DELAY"
fi
exec "$@"
