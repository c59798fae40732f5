#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for tests.
#
#   scripts/pg-test-cluster.sh start DIR PORT   create + start a cluster in DIR, print its admin URL
#   scripts/pg-test-cluster.sh stop DIR         stop it and delete DIR
#
# The cluster trusts every connection from 127.0.0.1 (and nothing else), listens on
# 127.0.0.1:PORT, keeps its Unix socket in DIR, and runs with fsync=off: it is for tests only.
# Only the URL goes to stdout, so `TEST_DATABASE_URL=$(scripts/pg-test-cluster.sh start ...)` works.
# Run as root, initdb/pg_ctl run as the `postgres` system user and DIR is chowned to it.
set -euo pipefail

prog=$(basename "$0")

usage() {
  cat >&2 <<EOF
usage: $prog start DIR PORT
       $prog stop DIR
EOF
  exit 2
}

die() {
  echo "$prog: $*" >&2
  exit 1
}

# Directory holding initdb, pg_ctl and postgres, or nothing if PostgreSQL is not installed.
find_bindir() {
  local dir dirs
  if command -v pg_config >/dev/null 2>&1; then
    dir=$(pg_config --bindir 2>/dev/null || true)
    if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
      echo "$dir"
      return
    fi
  fi
  # Debian keeps the server binaries out of PATH; take the newest major version installed.
  mapfile -t dirs < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV)
  for dir in "${dirs[@]}"; do
    if [[ -x $dir/initdb && -x $dir/pg_ctl ]]; then
      echo "$dir"
      return
    fi
  done
}

# Run a PostgreSQL program as the postgres user when we are root (postgres refuses to run
# as root), directly otherwise. Runs from DIR so the user can always access its working directory.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd "$cluster_dir" && runuser -u postgres -- "$@")
  else
    (cd "$cluster_dir" && "$@")
  fi
}

start_cluster() {
  local port=$1

  if ! [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then
    die "PORT must be 1..65535, got '$port'"
  fi

  if [[ -e $cluster_dir ]] && [[ -n $(ls -A "$cluster_dir" 2>/dev/null) ]]; then
    die "$cluster_dir exists and is not empty; stop the old cluster first ($prog stop $cluster_dir)"
  fi
  mkdir -p "$cluster_dir"
  cluster_dir=$(cd "$cluster_dir" && pwd) # absolute: it ends up in postgresql.conf

  # The Unix socket path must fit in sockaddr_un (107 bytes).
  local socket="$cluster_dir/.s.PGSQL.$port"
  ((${#socket} < 108)) || die "DIR path too long for a Unix socket: $socket"

  if [[ $EUID -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' system user"
    chown postgres: "$cluster_dir"
    chmod 700 "$cluster_dir"
    runuser -u postgres -- test -w "$cluster_dir" ||
      die "user postgres cannot write $cluster_dir (is a parent directory closed to it?); use a DIR under /tmp"
  fi

  local data="$cluster_dir/data" log="$cluster_dir/postgresql.log"

  if ! as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --no-locale \
    >"$cluster_dir/initdb.log" 2>&1; then
    cat "$cluster_dir/initdb.log" >&2
    die "initdb failed"
  fi

  # Trust TCP connections from 127.0.0.1 only: no Unix-socket, IPv6 or other hosts.
  as_pg tee "$data/pg_hba.conf" >/dev/null <<EOF
# TYPE  DATABASE  USER  ADDRESS        METHOD
host    all       all   127.0.0.1/32   trust
EOF

  as_pg tee -a "$data/postgresql.conf" >/dev/null <<EOF

# --- throwaway test cluster (scripts/pg-test-cluster.sh) ---
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$cluster_dir'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 16MB
max_connections = 100
EOF

  if ! as_pg "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 60 start >/dev/null; then
    [[ -f $log ]] && tail -n 30 "$log" >&2
    die "PostgreSQL did not start (is port $port already in use?)"
  fi

  echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

stop_cluster() {
  [[ -d $cluster_dir ]] || die "$cluster_dir does not exist"
  cluster_dir=$(cd "$cluster_dir" && pwd)
  local data="$cluster_dir/data"
  # Refuse to delete a directory that does not look like one of our clusters.
  [[ -f $data/PG_VERSION ]] || die "$cluster_dir does not hold a cluster made by $prog; not deleting it"

  if as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
  rm -rf -- "$cluster_dir"
}

[[ $# -ge 2 ]] || usage
command=$1
cluster_dir=$2

bindir=$(find_bindir)
if [[ -z $bindir ]]; then
  echo "$prog: PostgreSQL server binaries (initdb, pg_ctl) not found; install them with: apt-get install postgresql" >&2
  exit 3
fi

case $command in
  start)
    [[ $# -eq 3 ]] || usage
    start_cluster "$3"
    ;;
  stop)
    [[ $# -eq 2 ]] || usage
    stop_cluster
    ;;
  *) usage ;;
esac
