#!/usr/bin/env bash
# Throwaway S3 stand-in (s3rver, from npm) for tests.
#
#   scripts/s3rver-test-server.sh start DIR PORT BUCKET   start s3rver with BUCKET, print its URL
#   scripts/s3rver-test-server.sh stop DIR                shut it down and delete DIR
#
# s3rver 3.7.1 is pinned in server/tests/tools/s3rver (package.json + package-lock.json);
# `npm ci` runs there the first time. The server listens on 127.0.0.1:PORT only, keeps its
# objects in DIR/data and runs in the background with its pid and log in DIR. BUCKET gets a
# CORS rule allowing PUT, GET and HEAD from any origin (for browser tests). Credentials:
# S3RVER / S3RVER. Only the URL goes to stdout, so
# `TEST_S3_ENDPOINT=$(scripts/s3rver-test-server.sh start ...)` works.
#
# What s3rver does not do (so tests against it prove less than against S3): it checks that
# the access key id exists, that x-amz-content-sha256 is present, the clock skew and the
# expiry of presigned URLs, but not SigV4 signatures themselves; lifecycle configuration
# answers 501. NODE_OPTIONS=--openssl-legacy-provider is set because ListObjectsV2 paging
# (continuation tokens) fails with 500 on Node >= 17 without it.
set -euo pipefail

prog=$(basename "$0")
root=$(cd "$(dirname "$0")/.." && pwd)
tool_dir=$root/server/tests/tools/s3rver

usage() {
  cat >&2 <<EOF
usage: $prog start DIR PORT BUCKET
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
  [[ -f $dir/s3rver.pid ]] || return 0
  pid=$(<"$dir/s3rver.pid")
  if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    echo "$pid"
  fi
}

start_server() {
  local port=$1 bucket=$2

  if ! [[ $port =~ ^[1-9][0-9]{0,4}$ ]] || ((port > 65535)); then
    die "PORT must be 1..65535, got '$port'"
  fi
  if ! [[ $bucket =~ ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$ ]]; then
    die "BUCKET must be a valid S3 bucket name (3-63 of a-z 0-9 . -), got '$bucket'"
  fi
  if [[ -e $dir ]] && [[ -n $(ls -A "$dir" 2>/dev/null) ]]; then
    die "$dir exists and is not empty; stop the old server first ($prog stop $dir)"
  fi
  if ! command -v curl >/dev/null 2>&1; then
    die "curl not found (used to wait for the server); install it with: apt-get install curl"
  fi

  if [[ ! -f $tool_dir/node_modules/s3rver/bin/s3rver.js ]]; then
    echo "$prog: installing s3rver (npm ci in $tool_dir)" >&2
    (cd "$tool_dir" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci failed in $tool_dir"
  fi

  mkdir -p "$dir/data"
  dir=$(cd "$dir" && pwd)
  # The marker tells `stop` that DIR is ours to delete.
  echo "$port" >"$dir/port"
  cat >"$dir/cors.xml" <<'EOF'
<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>
EOF

  # setsid: the server outlives this script and the caller's terminal signals, like a daemon.
  NODE_OPTIONS=--openssl-legacy-provider setsid node "$tool_dir/node_modules/s3rver/bin/s3rver.js" \
    --directory "$dir/data" --address 127.0.0.1 --port "$port" \
    --configure-bucket "$bucket" "$dir/cors.xml" \
    </dev/null >"$dir/s3rver.log" 2>&1 &
  echo $! >"$dir/s3rver.pid"

  local i pid code
  for ((i = 0; i < 200; i++)); do
    pid=$(running_pid)
    [[ -n $pid ]] || break # it exited: the port is probably in use
    # Another server on the same port would answer too: only once ours says it listens.
    if grep -q "S3rver listening on 127.0.0.1:$port" "$dir/s3rver.log" 2>/dev/null; then
      code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/" 2>/dev/null || true)
      if [[ $code =~ ^[1-5][0-9][0-9]$ ]]; then
        echo "http://127.0.0.1:$port"
        return
      fi
    fi
    sleep 0.1
  done
  tail -n 20 "$dir/s3rver.log" >&2 || true
  pid=$(running_pid)
  [[ -n $pid ]] && kill "$pid" 2>/dev/null
  die "s3rver did not start answering on 127.0.0.1:$port (within 20 s; is the port already in use?)"
}

stop_server() {
  [[ -d $dir ]] || die "$dir does not exist"
  dir=$(cd "$dir" && pwd)
  # Refuse to delete a directory that does not look like one of ours.
  [[ -f $dir/port && -f $dir/cors.xml ]] || die "$dir was not made by $prog; not deleting it"

  local pid i
  pid=$(running_pid)
  if [[ -n $pid ]]; then
    kill "$pid" 2>/dev/null || true
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

case $command in
  start)
    [[ $# -eq 4 ]] || usage
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
      echo "$prog: node and npm are needed to run s3rver; install Node.js 20 (with npm) first" >&2
      exit 3
    fi
    start_server "$3" "$4"
    ;;
  stop)
    [[ $# -eq 2 ]] || usage
    stop_server
    ;;
  *) usage ;;
esac
