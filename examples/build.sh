#!/usr/bin/env bash
# Set-up on a fresh Debian machine, as root, and a build of the example image.
# Installs runc and busybox-static, installs tsbuild (npm ci + npm link), then runs
#   tsbuild -t hello examples/hello
set -euo pipefail
cd "$(dirname "$0")/.."
for p in runc busybox-static; do
  dpkg -s "$p" >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc busybox-static; break; }
done
[[ -d node_modules ]] || npm ci --no-audit --no-fund
npm run build >/dev/null
npm link >/dev/null 2>&1 || true
cp "$(command -v busybox)" examples/hello/busybox
exec node bin/run.js -t hello examples/hello "$@"
