#!/usr/bin/env bash
# Makes sure a libtorch of the pinned version is available. Idempotent and
# quick when it already is. Without MAN_LIBTORCH/LIBTORCH, installs
# torch==2.11.0 into a project-local .venv (git-ignored).
set -euo pipefail
source "$(dirname "$0")/libtorch-env.sh"

for var in MAN_LIBTORCH LIBTORCH; do
  dir="${!var:-}"
  [ -n "$dir" ] || continue
  if [ ! -f "$dir/lib/libtorch_cpu.so" ] && [ ! -f "$dir/lib/libtorch_cpu.dylib" ]; then
    echo "setup: $var=$dir has no lib/libtorch_cpu.* - point it at a torch or libtorch directory" >&2
    exit 1
  fi
  v=$(man_torch_version "$dir")
  case "$v" in
    "$MAN_TORCH_VERSION_REQUIRED"*) echo "setup: using libtorch $v from $var=$dir" >&2; exit 0 ;;
    *) echo "setup: $var=$dir is torch '${v:-unknown}', man-fer needs $MAN_TORCH_VERSION_REQUIRED" >&2; exit 1 ;;
  esac
done

# Test-only Python packages for the parity and benchmark references.
PY_EXTRAS=(numpy safetensors)

if dir=$(man_venv_torch); then
  v=$(man_torch_version "$dir")
  if [[ "$v" == "$MAN_TORCH_VERSION_REQUIRED"* ]]; then
    if "$MAN_ROOT/.venv/bin/python" -c "import numpy, safetensors" 2>/dev/null; then
      exit 0
    fi
    "$MAN_ROOT/.venv/bin/python" -m pip install -q "${PY_EXTRAS[@]}"
    exit 0
  fi
  echo "setup: .venv has torch $v, replacing it with $MAN_TORCH_VERSION_REQUIRED" >&2
fi

echo "setup: installing torch==$MAN_TORCH_VERSION_REQUIRED into $MAN_ROOT/.venv (about 3 GB the first time)" >&2
[ -x "$MAN_ROOT/.venv/bin/python" ] || python3 -m venv "$MAN_ROOT/.venv"
"$MAN_ROOT/.venv/bin/python" -m pip install -q --upgrade pip >/dev/null
"$MAN_ROOT/.venv/bin/python" -m pip install -q "torch==$MAN_TORCH_VERSION_REQUIRED" "${PY_EXTRAS[@]}"
"$MAN_ROOT/.venv/bin/python" -c "import torch; print('setup: torch', torch.__version__, 'ready')" >&2
