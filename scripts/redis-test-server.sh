#!/usr/bin/env bash
# Throwaway Redis server for tests.
#
#   scripts/redis-test-server.sh start DIR PORT   start redis-server in DIR, print its URL
#   scripts/redis-test-server.sh stop DIR         shut it down and delete DIR
#
# The server listens on 127.0.0.1:PORT only, keeps nothing on disk (no RDB, no AOF) and
# runs daemonized with its pidfile and log in DIR: it is for tests only. Only the URL goes
# to stdout, so `TEST_REDIS_URL=$(scripts/redis-test-server.sh start ...)` works.
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

# The pid in DIR's pidfile if that process is alive, nothing otherwise.
running_pid() {
  local pid
  [[ -f $dir/redis.pid ]] || return 0
  pid=$(<"$dir/redis.pid")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    echo "$pid"
  fi
}

start_server() {
  local port=$1

  if ! [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then
    die "PORT must be 1..65535, got '$port'"
  fi
  if [[ -e $dir ]] && [[ -n $(ls -A "$dir" 2>/dev/null) ]]; then
    die "$dir exists and is not empty; stop the old server first ($prog stop $dir)"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd) # absolute: redis-server changes to its working directory

  # The marker tells `stop` that DIR is ours to delete.
  echo "$port" >"$dir/port"
  if ! redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
    >/dev/null; then
    die "redis-server failed to start"
  fi

  local i pid
  for ((i = 0; i < 100; i++)); do
    # Another server on the same port would answer too: only ours, by its pid, counts.
    pid=$(running_pid)
    if [[ -n $pid && $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true) == PONG ]] &&
      redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$pid"; then
      echo "redis://127.0.0.1:$port"
      return
    fi
    sleep 0.1
  done
  [[ -f $dir/redis.log ]] && tail -n 20 "$dir/redis.log" >&2
  pid=$(running_pid)
  [[ -n $pid ]] && kill "$pid" 2>/dev/null
  die "Redis did not answer on 127.0.0.1:$port within 10 s (is the port already in use?)"
}

stop_server() {
  [[ -d $dir ]] || die "$dir does not exist"
  dir=$(cd "$dir" && pwd)
  # Refuse to delete a directory that does not look like one of ours.
  [[ -f $dir/port ]] || die "$dir was not made by $prog; not deleting it"

  local port pid i
  port=$(<"$dir/port")
  pid=$(running_pid)
  if [[ -n $pid ]]; then
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf -- "$dir"
}

[[ $# -ge 2 ]] || usage
command=$1
dir=$2

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "$prog: redis-server not found; install it with: apt-get install redis-server" >&2
  exit 3
fi

case $command in
  start)
    [[ $# -eq 3 ]] || usage
    start_server "$3"
    ;;
  stop)
    [[ $# -eq 2 ]] || usage
    stop_server
    ;;
  *) usage ;;
esac
