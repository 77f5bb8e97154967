#!/bin/bash
# Runs once, when the postgres image initializes the primary's data directory: the application's
# role and database, and a replication role and slot for the replica (docker/compose.yaml).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_password="$APP_PASSWORD" -v repl_password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE app LOGIN PASSWORD :'app_password';
CREATE DATABASE app OWNER app;
CREATE ROLE replicator REPLICATION LOGIN PASSWORD :'repl_password';
SELECT pg_create_physical_replication_slot('replica1');
SQL
# The image's own rule ("host all all all scram-sha-256") does not cover replication connections.
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
