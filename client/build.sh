#!/usr/bin/env bash
# Builds the web app into client/dist. Until the React studio lands this copies the
# placeholder page, so the server has something to serve at /.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf dist
mkdir -p dist
cp index.html dist/index.html
cp -r public/. dist/ 2>/dev/null || true
