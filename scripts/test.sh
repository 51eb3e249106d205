#!/usr/bin/env bash
# The whole suite: libtorch, the addon, TypeScript, cargo tests, ava specs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run --silent build:native
bash scripts/check-contract.sh
npm run --silent typecheck
npm run --silent build:ts
npm run --silent test:rust
npx ava
node scripts/pack-check.mjs --no-build
