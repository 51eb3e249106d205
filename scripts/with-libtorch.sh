#!/usr/bin/env bash
# Runs a command with LIBTORCH set for torch-sys (after `setup`).
set -euo pipefail
source "$(dirname "$0")/libtorch-env.sh"
bash "$MAN_ROOT/scripts/setup.sh"
LIBTORCH=$(man_find_libtorch) || { echo "no libtorch found; run npm run setup" >&2; exit 1; }
export LIBTORCH
exec "$@"
