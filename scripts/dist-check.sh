#!/usr/bin/env bash
# The GPU check of man-fer's c10d shim (NCCL and Gloo), for a CUDA machine
# with python torch 2.11.0 and no Rust toolchain, no network.
#
#   bash scripts/dist-check.sh pack [OUT]   (here, in a source checkout) builds
#       the dist_check example with the `nccl` feature into OUT (default
#       dist-check/): the stripped binary and this script. The CUDA C runtime
#       and CCCL headers NCCL's class needs are fetched from PyPI into
#       ~/.cache/man-fer/cuda-headers (the version of torch's CUDA runtime).
#   bash dist-check.sh run                  (there, in OUT) runs it: JSON on stdout, under a minute.
#
# libtorch: MAN_LIBTORCH (a torch 2.11.0 directory), else the torch of python3 on PATH.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
die() { echo "dist-check: $*" >&2; exit 1; }

pack() {
  local root out
  root="$(cd "$HERE/.." && pwd)"
  out="$(realpath -m "${1:-$root/dist-check}")"
  cd "$root"
  source scripts/libtorch-env.sh
  LIBTORCH="$(man_find_libtorch)" || die "no libtorch to build against; run npm run setup"
  export LIBTORCH
  local site cuda headers
  site="$(dirname "$LIBTORCH")"
  cuda="$(ls -d "$site"/nvidia_cuda_runtime-*.dist-info 2>/dev/null | head -n1 | sed -n 's/.*nvidia_cuda_runtime-\([0-9]*\.[0-9]*\).*/\1/p')"
  [ -n "$cuda" ] || die "$LIBTORCH is not a CUDA build of torch (no nvidia-cuda-runtime beside it)"
  headers="${MAN_CUDA_HEADERS:-$HOME/.cache/man-fer/cuda-headers/$cuda}"
  if [ ! -f "$headers/nvidia/cu${cuda%%.*}/include/crt/host_config.h" ]; then
    echo "dist-check: fetching the CUDA $cuda crt and cccl headers into $headers" >&2
    local py="$root/.venv/bin/python"
    [ -x "$py" ] || py=python3
    "$py" -m pip install -q --no-deps --target "$headers" "nvidia-cuda-crt==$cuda.*" "nvidia-cuda-cccl==$cuda.*"
  fi
  export MAN_CUDA_INCLUDE="$headers/nvidia/cu${cuda%%.*}/include"
  echo "dist-check: building dist_check (release, nccl) against $LIBTORCH" >&2
  cargo build --release -p man-core --example dist_check --features nccl >&2
  local target="${CARGO_TARGET_DIR:-$root/target}" bin
  bin="$target/release/examples/dist_check"
  [ -f "$bin" ] || die "dist_check was not built"
  rm -rf "$out" && mkdir -p "$out"
  cp "$bin" "$out/dist_check" && strip "$out/dist_check"
  cp "$root/scripts/dist-check.sh" "$out/dist-check.sh"
  echo "dist-check: $out ($(du -sm "$out" | cut -f1) MiB)" >&2
  echo "$out"
}

run() {
  cd "$HERE"
  [ -x ./dist_check ] || die "run this from the folder 'dist-check.sh pack' made"
  local torch="${MAN_LIBTORCH:-}"
  [ -n "$torch" ] || torch="$(python3 -c "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')" 2>/dev/null)"
  [ -n "$torch" ] && [ -f "$torch/lib/libtorch_cuda.so" ] || die "no CUDA torch: set MAN_LIBTORCH to a torch 2.11.0+cu130 directory"
  LD_LIBRARY_PATH="$torch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" timeout 90 ./dist_check
}

case "${1:-}" in
  pack) shift; pack "$@" ;;
  run) shift; run "$@" ;;
  *) die "usage: dist-check.sh pack [OUT] | dist-check.sh run" ;;
esac
