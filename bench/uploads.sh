#!/usr/bin/env bash
# PUT throughput of 5 MiB media chunks to the local-folder storage of `zencast serve` (signed
# /storage URLs: stream to a temp file, SHA-256, fsync, rename), against Debian's nginx doing
# WebDAV PUT (ngx_http_dav_module) on the same machine, in the same run; plus the zencast
# server's peak memory (VmHWM) while it does it. Loopback only; everything lives in a temp dir
# that is removed at the end. nginx is installed if missing (as root).
# Memory: the account is registered once, before anything is measured (argon2id takes 19 MiB
# per password hash); bench/uploads.mjs resets the server's VmHWM just before the timed PUTs of
# each run and reads it right after, so "peak while uploading" is the uploads' own peak.
#   bench/uploads.sh
#   CHUNKS=40 CHUNK_MB=5 CONCURRENCY=4 ROUNDS=2 bench/uploads.sh
# Runs zencast, nginx, zencast, nginx (ROUNDS=2) and reports the best run of each.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHUNKS=${CHUNKS:-40} CHUNK_MB=${CHUNK_MB:-5} CONCURRENCY=${CONCURRENCY:-4} TIMEOUT_S=${TIMEOUT_S:-60}
ROUNDS=${ROUNDS:-2}

[ -x build/zencast ] || { echo "uploads.sh: build/zencast is missing: make build" >&2; exit 1; }

# The `ws` package of the HTTP test suite (the only dependency of uploads.mjs).
if [ ! -d server/tests/http/node_modules/ws ]; then
  (cd server/tests/http && npm ci --no-audit --no-fund --loglevel=error >&2)
fi

# Debian's `nginx` package (bookworm: 1.22) is built --with-http_dav_module; nginx-light and
# nginx-core only add dynamic modules on top of it.
nginx_bin=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
if [ -z "$nginx_bin" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get install -y -qq --no-install-recommends nginx >/dev/null
    nginx_bin=/usr/sbin/nginx
  else
    echo "bench needs nginx (with the WebDAV module): sudo apt-get install -y --no-install-recommends nginx" >&2
    exit 1
  fi
fi
if ! "$nginx_bin" -V 2>&1 | grep -q -- --with-http_dav_module; then
  echo "uploads.sh: $nginx_bin is built without ngx_http_dav_module (nginx -V); install Debian's nginx" >&2
  exit 1
fi

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
zport=$(free_port)
nport=$(free_port)
while [ "$nport" = "$zport" ]; do nport=$(free_port); done

tmp=$(mktemp -d)
server=''
nginx_pid=''
cleanup() {
  [ -n "$server" ] && kill -TERM "$server" 2>/dev/null && wait "$server" 2>/dev/null
  [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/data" "$tmp/dav" "$tmp/body" "$tmp/nginx-temp"

# nginx: in the foreground (our child), everything in $tmp, listening on loopback only.
# As root the workers would switch to `nobody`, who cannot write to $tmp: keep them as root.
user_line=''
[ "$(id -u)" -eq 0 ] && user_line='user root root;'
cat >"$tmp/nginx.conf" <<EOF
$user_line
worker_processes 2;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $tmp/body;
  proxy_temp_path $tmp/nginx-temp/proxy;
  fastcgi_temp_path $tmp/nginx-temp/fastcgi;
  uwsgi_temp_path $tmp/nginx-temp/uwsgi;
  scgi_temp_path $tmp/nginx-temp/scgi;
  server {
    listen 127.0.0.1:$nport;
    location /dav/ {
      root $tmp;
      dav_methods PUT;
      create_full_put_path on;
      client_max_body_size 64m;
      client_body_temp_path $tmp/body;
    }
  }
}
EOF
"$nginx_bin" -p "$tmp/" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" &
nginx_pid=$!

PORT=$zport HOST=127.0.0.1 DATA_DIR=$tmp/data PUBLIC_URL=http://127.0.0.1:$zport RECORDING_COUNTDOWN=1s \
  JWT_SECRET=bench-secret-bench-secret-bench-secret-00 LOG_LEVEL=warn \
  ./build/zencast serve 2>"$tmp/server.log" &
server=$!

zbase=http://127.0.0.1:$zport
for _ in $(seq 100); do curl -sf "$zbase/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$zbase/readyz" >/dev/null || { echo "uploads.sh: zencast did not start:" >&2; cat "$tmp/server.log" >&2; exit 1; }
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$nport/" && break; sleep 0.1; done
curl -s -o /dev/null "http://127.0.0.1:$nport/" || { echo "uploads.sh: nginx did not start:" >&2; cat "$tmp/nginx-error.log" >&2; exit 1; }

status_kb() { awk -v k="$1:" '$1==k {print $2}' "/proc/$2/status"; }
rss_start=$(status_kb VmRSS "$server")
token=$(curl -sf -X POST "$zbase/api/auth/register" -H 'content-type: application/json' \
  -d '{"email":"bench-uploads@example.com","password":"benchmark-password","name":"Bench"}' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).accessToken))')

echo "chunk uploads: $CHUNKS x $CHUNK_MB MiB, $CONCURRENCY concurrent PUTs, loopback, $(nproc) cores; $("$nginx_bin" -v 2>&1 | sed 's/.*: //')"
results=$tmp/results.jsonl
export CLK_TCK; CLK_TCK=$(getconf CLK_TCK)
# nginx's workers (the master does not touch request bodies).
nginx_workers=$(pgrep -P "$nginx_pid" | paste -sd, -)
one() {
  sync  # earlier runs' dirty pages are written back now, not during the next timed run
  local line
  if ! line=$(timeout $((TIMEOUT_S + 30)) node bench/uploads.mjs "$@"); then
    echo "uploads.sh: run failed: $*" >&2
    tail -n 20 "$tmp/server.log" "$tmp/nginx-error.log" >&2
    exit 1
  fi
  echo "  $line"
  echo "$line" >>"$results"
}
for round in $(seq "$ROUNDS"); do
  ZENCAST_TOKEN=$token WATCH_PID=$server one zencast "$zbase"
  WATCH_PID=$nginx_workers one nginx-webdav "http://127.0.0.1:$nport/dav/r$round/"
done

rss_end=$(status_kb VmRSS "$server")

node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const [rssStart, rssEnd] = process.argv.slice(2);
  const mib = (kib) => (Number(kib) / 1024).toFixed(1) + " MiB";
  console.log("name          best MB/s  all runs (MB/s)  CPU s/run  peak RSS while uploading");
  for (const name of ["zencast", "nginx-webdav"]) {
    const runs = rows.filter((r) => r.name === name);
    const best = Math.max(...runs.map((r) => r.mbPerSecond));
    const cpu = Math.min(...runs.map((r) => r.cpuSeconds)).toFixed(2);
    const peak = mib(Math.max(...runs.map((r) => r.peakKiB))) + (name === "zencast" ? " (server VmHWM)" : " (VmHWM of the 2 workers, added)");
    console.log(`${name.padEnd(13)} ${best.toFixed(1).padStart(9)}  ${runs.map((r) => r.mbPerSecond).join(", ").padEnd(15)}  ${cpu.padStart(9)}  ${peak}`);
  }
  console.log(`zencast RSS: ${mib(rssStart)} after start-up, ${mib(rssEnd)} at the end`);
  ' "$results" "$rss_start" "$rss_end"
