#!/usr/bin/env bash
# Builds the web app (React, TypeScript, Vite, Tailwind) into client/dist, which the C
# server serves. Installs the npm packages from package-lock.json first when needed.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
