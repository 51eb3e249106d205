#!/usr/bin/env bash
# Builds the addon into ./man-fer.<platform>.node (cargo keeps it incremental).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=(--release)
[ "${MAN_DEBUG_BUILD:-}" = 1 ] && profile=()
exec bash scripts/with-libtorch.sh npx napi build --platform "${profile[@]}" \
  --manifest-path crates/man-node/Cargo.toml --package-json-path package.json \
  --output-dir . --no-js --dts native.generated.d.ts
