#!/bin/sh
# Prints the newest applied migration version (e.g. 0062), or "none". The connection comes only from PGHOST, PGPORT,
# PGDATABASE, PGUSER and PGPASSWORD.
set -eu

pg() { psql -X -q -w -A -t -v ON_ERROR_STOP=1 "$@"; }
where="database \"${PGDATABASE:-}\" at ${PGHOST:-}:${PGPORT:-5432} as ${PGUSER:-}"

code=0
exists=$(pg -c "SELECT to_regclass('schema_migrations') IS NOT NULL") || code=$?
if [ "$code" -eq 2 ]; then
  echo "migrate-status: cannot connect to $where" >&2
  exit 2
elif [ "$code" -ne 0 ]; then
  echo "migrate-status: cannot read schema_migrations in $where" >&2
  exit 1
fi
if [ "$exists" = t ]; then
  newest=$(pg -c 'SELECT version FROM schema_migrations ORDER BY version COLLATE "C" DESC LIMIT 1')
fi
echo "${newest:-none}"
