#!/bin/bash
# Entrypoint of the replica (docker/compose.yaml): clones the primary once with pg_basebackup
# (-R: standby.signal and primary_conninfo), then hands over to the postgres image's entrypoint,
# which finds a data directory and just starts the server.
set -euo pipefail
PGDATA=${PGDATA:-/var/lib/postgresql/data}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  until gosu postgres pg_basebackup --host=primary --username=replicator --pgdata="$PGDATA" \
      --wal-method=stream --slot=replica1 --write-recovery-conf --no-password --progress; do
    echo "replica: pg_basebackup failed; retrying in 2 s" >&2
    find "$PGDATA" -mindepth 1 -delete
    sleep 2
  done
fi
exec docker-entrypoint.sh postgres
