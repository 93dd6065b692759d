#!/usr/bin/env bash
# Start a local PostgreSQL for the tests that run `mlflow server` against it (the deployment teams run).
# Idempotent and tolerant: on any failure it says why and exits 0; those tests then skip with a reason.
# Needs root (CI runs as root on Debian); elsewhere it only reports what it would need.
set -uo pipefail

ROLE=green_gate
PASSWORD=green_gate
PORT=5432

say() { echo "postgres.sh: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
    say "not root: not installing or starting PostgreSQL (the PostgreSQL-backed tests will skip)"
    exit 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    say "installing Debian's postgresql"
    if ! (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null); then
        say "apt-get could not install postgresql (the PostgreSQL-backed tests will skip)"
        exit 0
    fi
fi
version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
if [ -z "$version" ]; then
    say "no PostgreSQL server binaries under /usr/lib/postgresql (the PostgreSQL-backed tests will skip)"
    exit 0
fi
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$version main"; then
    pg_createcluster "$version" main >/dev/null || { say "pg_createcluster failed"; exit 0; }
fi
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" {print $4}' | grep -q online; then
    pg_ctlcluster "$version" main start || { say "the cluster did not start (the PostgreSQL-backed tests will skip)"; exit 0; }
fi
for _ in $(seq 1 60); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
    say "PostgreSQL is not accepting connections on 127.0.0.1:$PORT (the PostgreSQL-backed tests will skip)"
    exit 0
fi
runuser -u postgres -- psql -q -p "$PORT" -v ON_ERROR_STOP=1 <<SQL || say "could not create role $ROLE"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
    CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD';
  END IF;
END \$\$;
SQL
say "PostgreSQL $version is up on 127.0.0.1:$PORT (role $ROLE; tests create and drop their own databases)"
