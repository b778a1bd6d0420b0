#!/usr/bin/env bash
# The console's browser tests (README, "Console"): installs Debian's
# chromium if it is missing, the exact npm packages of package-lock.json,
# then runs console.test.mjs with node's test runner. It builds and starts
# the server itself (embedded database, temporary DATA_DIR, a free port).
# Usage: console/e2e/run.sh   (.ci/run calls it); E2E_ONLY=<pattern> runs the
# tests whose name matches (the others are reported as skipped).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "installing chromium (Debian package)"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
"${CHROMIUM:-/usr/bin/chromium}" --version
npm ci --no-audit --no-fund --loglevel=error
node --test ${E2E_ONLY:+--test-name-pattern="$E2E_ONLY"} --test-concurrency=1 --test-timeout=1200000 console.test.mjs
