#!/usr/bin/env bash
# The GPU check of man-fer, for a CUDA machine that has python torch 2.11.0
# but no Rust toolchain, no network and maybe no Node.js.
#
#   bash scripts/gpu-check.sh pack [OUT]      (here, in a source checkout) builds
#       OUT (default dist-gpu-check/) and OUT.tar.gz: the stripped gpu_check
#       binary, the addon, the package and the benchmark compiled to JavaScript,
#       the PyTorch baseline, and this script. Fails above 64 MiB.
#   bash gpu-check.sh run [--device cuda|cpu|auto] [--quick]   (there, in OUT)
#       times the pipeline, warm-up and co-division steps and the prediction
#       pass at 224 px, batch 128, with gpu_check, in fp32 then in bf16 (one
#       JSON line each on stdout: images/s, peak device memory from
#       nvidia-smi, 100 epochs at RAF-DB's size projected); then, when node is
#       on PATH, the same steps through the package (npm run bench's code).
#
# libtorch: MAN_LIBTORCH (a torch or libtorch 2.11.0 directory), else the torch
# of python3 on PATH. gpu_check gets LD_LIBRARY_PATH from it (the binary has no
# usable rpath there); the addon does not need it: the package's loader opens
# libtorch itself.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
LIMIT_MIB=64

die() { echo "gpu-check: $*" >&2; exit 1; }

pack() {
  local root out
  root="$(cd "$HERE/.." && pwd)"
  out="$(realpath -m "${1:-$root/dist-gpu-check}")"
  cd "$root"
  source scripts/libtorch-env.sh
  LIBTORCH="$(man_find_libtorch)" || die "no libtorch to build against; run npm run setup"
  export LIBTORCH
  echo "gpu-check: building gpu_check and the addon (release) against $LIBTORCH" >&2
  cargo build --release --example gpu_check -p man-core >&2
  npm run --silent build:native >&2
  local target="${CARGO_TARGET_DIR:-$root/target}"
  local bin="$target/release/examples/gpu_check"
  [ -f "$bin" ] || bin="$(ls "$target"/*/release/examples/gpu_check 2>/dev/null | head -n1)"
  [ -f "$bin" ] || die "gpu_check was not built"
  local addon
  addon="$(ls "$root"/man-fer.*.node | head -n1)" || die "no addon built"

  rm -rf "$out"
  mkdir -p "$out/bench" "$out/__test__/native/parity" "$out/node_modules"
  cp "$bin" "$out/gpu_check"
  strip "$out/gpu_check"
  cp "$addon" "$out/"
  cp "$root/scripts/gpu-check.sh" "$out/gpu-check.sh"
  cp "$root/bench/reference_steps.py" "$out/bench/"
  cp "$root/__test__/native/parity/man_reference.py" "$out/__test__/native/parity/"
  cp -r "$root/node_modules/zod" "$root/node_modules/jpeg-js" "$out/node_modules/"
  printf '{ "name": "man-fer-gpu-check", "private": true, "type": "module" }\n' > "$out/package.json"
  # The package and the benchmark as JavaScript: node runs them without tsx.
  local tsconfig="$root/tsconfig.gpu-check.json"
  cat > "$tsconfig" <<EOF
{
  "extends": "./tsconfig.json",
  "compilerOptions": { "noEmit": false, "rootDir": ".", "outDir": "$out", "sourceMap": false, "declaration": false },
  "include": ["ts/**/*.ts", "scripts/bench.ts", "scripts/bench/**/*.ts"]
}
EOF
  npx tsc -p "$tsconfig" || { rm -f "$tsconfig"; die "TypeScript build failed"; }
  rm -f "$tsconfig"

  tar -C "$(dirname "$out")" -czf "$out.tar.gz" "$(basename "$out")"
  local mib tar_mib
  mib=$(du -sm "$out" | cut -f1)
  tar_mib=$(( $(stat -c %s "$out.tar.gz") / 1048576 ))
  echo "gpu-check: $out: ${mib} MiB (gpu_check $(( $(stat -c %s "$out/gpu_check") / 1048576 )) MiB), $out.tar.gz: ${tar_mib} MiB" >&2
  [ "$mib" -le "$LIMIT_MIB" ] || die "$out is ${mib} MiB, over the ${LIMIT_MIB} MiB limit"
  echo "$out.tar.gz"
}

find_torch() {
  if [ -n "${MAN_LIBTORCH:-}" ]; then echo "$MAN_LIBTORCH"; return; fi
  python3 -c "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')" 2>/dev/null
}

run() {
  local device=auto quick=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --device) device="$2"; shift 2 ;;
      --quick) quick=(--quick); shift ;;
      *) die "unknown argument $1 (run [--device cuda|cpu|auto] [--quick])" ;;
    esac
  done
  cd "$HERE"
  [ -x ./gpu_check ] || die "run this from the folder 'gpu-check.sh pack' made (no ./gpu_check here)"
  local torch
  torch="$(find_torch)"
  [ -n "$torch" ] && [ -f "$torch/lib/libtorch_cpu.so" ] ||
    die "no libtorch: set MAN_LIBTORCH to a torch 2.11.0 directory (python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')"
  export MAN_LIBTORCH="$torch"
  echo "gpu-check: libtorch $MAN_LIBTORCH ($(sed -n "s/^__version__ = '\(.*\)'/\1/p" "$torch/version.py" 2>/dev/null))" >&2
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2 || true

  # Bounded: the whole check has to fit in five minutes; a part that fails or
  # runs out of time is reported and the next one still runs.
  export LD_LIBRARY_PATH="$MAN_LIBTORCH/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  timeout 100 ./gpu_check --device "$device" --precision fp32 "${quick[@]}" || echo "gpu-check: fp32 run failed ($?)" >&2
  timeout 80 ./gpu_check --device "$device" --precision bf16 --no-pipeline "${quick[@]}" || echo "gpu-check: bf16 run failed ($?)" >&2
  if command -v node >/dev/null; then
    echo "gpu-check: the same through the package (node $(node --version))" >&2
    timeout 100 node scripts/bench.js --device "$device" --quick --only steps,reference
  else
    echo "gpu-check: node not found: the package run is skipped" >&2
  fi
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  run) shift; run "$@" ;;
  *) die "usage: gpu-check.sh pack [OUT] | gpu-check.sh run [--device cuda|cpu|auto] [--quick]" ;;
esac
