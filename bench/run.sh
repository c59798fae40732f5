#!/usr/bin/env bash
# Benchmarks of the HTTP server on loopback, with wrk (installed if missing, as root), then
# chunk uploads (bench/uploads.sh) and rendering (bench/render/run.sh).
# Prints one line per case; record results in docs/benchmarks.md with the machine and date.
#   bench/run.sh            # all cases, 10 s each
#   DURATION=30s bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-64}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y -qq wrk >/dev/null; else
    echo "bench needs wrk: sudo apt-get install -y wrk" >&2; exit 1; fi
fi

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
data=$(mktemp -d)
log=$data/server.log
PORT=$port HOST=127.0.0.1 DATA_DIR=$data JWT_SECRET=bench-secret-bench-secret-bench-secret-00 LOG_LEVEL=warn \
  ./build/zencast serve 2>"$log" &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.1; done

token=$(curl -sf -X POST "$base/api/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench@example.com","password":"benchmark-password","name":"Bench"}' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).accessToken))')
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$server/status; }

echo "zencast $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores, $DURATION, $CONNECTIONS connections"
echo "RSS at start: $(rss_kb) KiB"
run() {
  local name=$1; shift
  local out; out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  printf '%-28s %10s req/s   p50 %8s   p99 %8s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1=="50%" {print $2}' <<<"$out")" "$(awk '$1=="99%" {print $2}' <<<"$out")"
}
run "GET /healthz" "$base/healthz"
run "GET /api/me (JWT + SQLite)" -H "Authorization: Bearer $token" "$base/api/me"
run "GET /api/recordings" -H "Authorization: Bearer $token" "$base/api/recordings"
echo "RSS after: $(rss_kb) KiB"

# Chunk uploads to the local folder against nginx WebDAV PUT, with its own servers (issue 4).
echo
bench/uploads.sh

# The render worker against the ffmpeg CLI on 5-minute takes (issue 5); the inputs are made on
# the first run and cached in bench/.cache/.
echo
bench/render/run.sh
