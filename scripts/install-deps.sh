#!/usr/bin/env bash
# Installs what Zencast needs from Debian 12, once: `scripts/install-deps.sh build` for
# building and running, `scripts/install-deps.sh test` for the test suite as well.
# As root it runs apt-get; otherwise it prints the one apt-get line to run and fails.
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake pkg-config
  libuv1-dev libwebsockets-dev libwebsockets-evlib-uv
  libjansson-dev libjwt-dev libargon2-dev libssl-dev
  libsqlite3-dev libpq-dev libhiredis-dev libcurl4-openssl-dev
  libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev libx264-dev
  fonts-dejavu-core fontconfig
)
TEST_PACKAGES=(libcmocka-dev postgresql redis-server curl python3-botocore ffmpeg chromium)

what=${1:-build}
packages=("${BUILD_PACKAGES[@]}")
[ "$what" = test ] && packages+=("${TEST_PACKAGES[@]}")
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Zencast needs these Debian packages. Run this once, then try again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
