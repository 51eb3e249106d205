#!/usr/bin/env bash
# npm run bench: scripts/bench.ts with the arguments given (npm passes them to
# the last command of a `a && b` script, so they never reached bench.ts), then
# the data-parallel line of scripts/bench-dist.ts unless --only picked sections.
set -euo pipefail
cd "$(dirname "$0")/.."
node --import=tsx scripts/bench.ts "$@"
for a in "$@"; do
  case "$a" in --only | --only=*) exit 0 ;; esac
done
exec node --import=tsx scripts/bench-dist.ts
