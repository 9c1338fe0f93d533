#!/usr/bin/env bash
# Installs Azurite from the pinned package-lock.json and starts it on 127.0.0.1:10000-10002
# unless something is already listening there. Prints the PID it started (empty if none).
# With --install-only it installs and stops there (the tests start Azurites of their own).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [ ! -x node_modules/.bin/azurite ]; then
  echo "Installing Azurite (npm ci)..." >&2
  # A registry hiccup should not fail a whole CI run: one retry, then say what to check.
  if ! npm ci --no-audit --no-fund --loglevel=error >&2; then
    echo "npm ci failed; retrying once in 5 s" >&2
    sleep 5
    npm ci --no-audit --no-fund --loglevel=error >&2 || {
      echo "npm ci failed twice: check the npm registry is reachable and the disk has room ($(df -h . | awk 'NR==2 {print $4}') free)" >&2
      exit 1
    }
  fi
fi
[ "${1:-}" = "--install-only" ] && exit 0
if (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then
  echo "Azurite already listening on 127.0.0.1:10000" >&2
  exit 0
fi
data="${AZURITE_DIR:-$root/.azurite}"
mkdir -p "$data"
node_modules/.bin/azurite --silent --location "$data" --skipApiVersionCheck --loose --disableTelemetry \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 > "$data/azurite.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null; then echo "$pid"; exit 0; fi
  sleep 0.1
done
echo "Azurite did not start; see $data/azurite.log" >&2
exit 1
