#!/bin/sh
# Applies every migrations/*.sql not yet recorded in schema_migrations, in filename order, each file in one
# transaction together with its record. The connection comes only from PGHOST, PGPORT, PGDATABASE, PGUSER and
# PGPASSWORD (the instance's environment file), never from the command line.
# Migrations must stay backward compatible: the previous release still runs against the migrated schema until the
# new one is live, so add tables and nullable columns; drop or rename only once no running release uses them.
# A migration file must not contain BEGIN or COMMIT of its own.
set -eu

dir=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
pg() { psql -X -q -w -v ON_ERROR_STOP=1 "$@"; }

if ! pg -c 'SET client_min_messages = warning' \
  -c 'CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz DEFAULT now())'; then
  echo "migrate: cannot connect to or prepare schema_migrations in database \"${PGDATABASE:-}\" at ${PGHOST:-}:${PGPORT:-5432}" >&2
  exit 2
fi
applied=$(pg -A -t -c 'SELECT version FROM schema_migrations')

count=0
for file in "$dir"/migrations/*.sql; do
  [ -e "$file" ] || continue
  name=$(basename "$file" .sql)
  version=${name%%_*}
  case $version in
    '' | *[!0-9]*) echo "migrate: $name.sql: the file name must start with a numeric version, e.g. 0063_add_x.sql" >&2; exit 1 ;;
  esac
  if printf '%s\n' "$applied" | grep -qx "$version"; then continue; fi
  # The record goes first: a concurrent run of the same migration then waits on the primary key and fails
  # cleanly instead of applying the file twice.
  if ! pg --single-transaction -c "INSERT INTO schema_migrations (version) VALUES ('$version')" -f "$file" >/dev/null; then
    echo "migrate: $name.sql failed and was rolled back; earlier migrations stay applied" >&2
    exit 1
  fi
  echo "applied $version"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || echo 'up to date'
