#!/usr/bin/env bash
# The whole suite, as `make test` runs it (after building build/ and build-asan/):
#   1. C unit tests, on the plain build and on the ASan+UBSan build;
#   2. HTTP integration tests against a real `zencast serve` (ASan+UBSan build),
#      once on SQLite and once on a throwaway PostgreSQL this script starts and removes;
#   3. the web app's unit tests (Vitest) and browser tests (Debian's Chromium, headless,
#      driving the built client/dist served by `zencast serve`, ASan+UBSan build).
set -euo pipefail
cd "$(dirname "$0")/.."

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0}

step() { printf '\n=== %s ===\n' "$*"; }
free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

pg_dir=$(mktemp -d /tmp/zencast-test-pg.XXXXXX)
redis_dir=$(mktemp -d /tmp/zencast-test-redis.XXXXXX)
s3_dir=$(mktemp -d /tmp/zencast-test-s3.XXXXXX)
cleanup() {
  scripts/pg-test-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || rm -rf "$pg_dir"
  scripts/redis-test-server.sh stop "$redis_dir" >/dev/null 2>&1 || rm -rf "$redis_dir"
  scripts/s3rver-test-server.sh stop "$s3_dir" >/dev/null 2>&1 || rm -rf "$s3_dir"
}
trap cleanup EXIT

step "installing the test suite's npm packages"
(cd server/tests/http && npm ci --no-audit --no-fund --loglevel=error)

step "starting a throwaway PostgreSQL, Redis and S3 (s3rver) on 127.0.0.1"
pg_url=$(scripts/pg-test-cluster.sh start "$pg_dir" "$(free_port)")
echo "PostgreSQL at $pg_url"
export ZENCAST_TEST_REDIS_DIR=$redis_dir ZENCAST_TEST_REDIS_PORT=$(free_port)
redis_url=$(scripts/redis-test-server.sh start "$redis_dir" "$ZENCAST_TEST_REDIS_PORT")
echo "Redis at $redis_url"
export TEST_REDIS_URL=$redis_url TEST_REDIS_CTL=$PWD/scripts/redis-test-ctl.sh
export TEST_S3_BUCKET=zencast-test
TEST_S3_ENDPOINT=$(scripts/s3rver-test-server.sh start "$s3_dir" "$(free_port)" "$TEST_S3_BUCKET")
export TEST_S3_ENDPOINT
echo "S3 (s3rver) at $TEST_S3_ENDPOINT"

step "C unit tests (plain build)"
(cd build && TEST_DATABASE_URL=$pg_url ctest --output-on-failure)

step "C unit tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
(cd build-asan && TEST_DATABASE_URL=$pg_url ctest --output-on-failure)

node_test() {
  if node --help | grep -q -- --test-concurrency; then
    node --test --test-concurrency=1 server/tests/http/
  else
    node --test server/tests/http/
  fi
}

step "HTTP integration tests on SQLite (ASan+UBSan build)"
ZENCAST_BIN=$PWD/build-asan/zencast node_test

step "HTTP integration tests on PostgreSQL (ASan+UBSan build)"
ZENCAST_BIN=$PWD/build-asan/zencast TEST_DATABASE_URL=$pg_url node_test

step "Web app: unit tests (Vitest)"
(cd client && npm test --silent)

step "Web app: browser tests (Chromium against the ASan+UBSan build)"
(export ZENCAST_BIN=$PWD/build-asan/zencast && cd client && npm run e2e --silent)
