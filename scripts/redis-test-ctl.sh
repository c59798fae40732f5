#!/usr/bin/env bash
# The tests' handle on their throwaway Redis (TEST_REDIS_CTL): `restart` stops it and
# starts it again, empty, on the same port, as a crash and restart of Redis would.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${ZENCAST_TEST_REDIS_DIR:?set by scripts/test.sh}" "${ZENCAST_TEST_REDIS_PORT:?set by scripts/test.sh}"
case "${1:-}" in
  restart)
    "$here/redis-test-server.sh" stop "$ZENCAST_TEST_REDIS_DIR" >/dev/null
    mkdir -p "$ZENCAST_TEST_REDIS_DIR"
    "$here/redis-test-server.sh" start "$ZENCAST_TEST_REDIS_DIR" "$ZENCAST_TEST_REDIS_PORT" >/dev/null
    ;;
  *) echo "usage: $0 restart" >&2; exit 2 ;;
esac
