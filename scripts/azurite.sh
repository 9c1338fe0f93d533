#!/usr/bin/env bash
# The Azurite installer, and the Core Tools helper. Installs Azurite from the pinned package-lock.json (what ./test
# and the C# launcher, src/LocalHost/Azurite.cs, call with --install-only), then, for `func start`, runs the one
# launcher in the foreground: `./flowers azurite` (127.0.0.1:10000-10002 unless already listening, data in .azurite/).
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
exec "$root/flowers" azurite
