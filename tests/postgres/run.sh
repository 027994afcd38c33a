#!/usr/bin/env bash
# Runs the black-box API suite against PostgreSQL: installs Debian's server when missing,
# starts its cluster on loopback, gives the postgres user a password for TCP logins, and runs
# `cargo test --test api` with CITYPEERS_TEST_POSTGRES set (each test server then gets a
# database of its own). Extra arguments go to cargo test (a test name filter, say).
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v pg_ctlcluster >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  pg_ctlcluster "$version" main start
fi
password=citypeers-test
runuser -u postgres -- psql -q -c "ALTER USER postgres PASSWORD '$password'" >/dev/null

export CITYPEERS_TEST_POSTGRES="postgres://postgres:$password@127.0.0.1:5432/postgres"
cargo test --test api "$@"
