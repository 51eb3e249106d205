# Sourced by the other scripts: finds libtorch in the same order as the
# runtime loader (ts/native/libtorch.ts) and exports LIBTORCH for torch-sys.
#   MAN_LIBTORCH or LIBTORCH -> ./.venv's torch -> the venv `man-fer setup`
#   made in man-fer's cache folder -> the torch of python3 on PATH
MAN_TORCH_VERSION_REQUIRED="2.11.0"
MAN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

man_venv_torch() {
  local d
  for d in "$MAN_ROOT"/.venv/lib/python3*/site-packages/torch; do
    # Canonical (a linked .venv resolved): every checkout sharing one cargo
    # target directory then gives torch-sys the same LIBTORCH, so its C++
    # wrapper is not rebuilt on every switch between checkouts.
    [ -f "$d/lib/libtorch_cpu.so" ] && { (cd "$d" && pwd -P); return 0; }
  done
  return 1
}

man_setup_venv_torch() { # the venv of ts/cli/setup.ts, once complete (ts/native/cache-home.ts)
  local home d
  if [ -n "${MAN_FER_HOME:-}" ]; then home="$MAN_FER_HOME"
  elif [ "$(uname)" = Darwin ]; then home="$HOME/Library/Caches/man-fer"
  else home="${XDG_CACHE_HOME:-$HOME/.cache}/man-fer"; fi
  [ -f "$home/venv-torch-$MAN_TORCH_VERSION_REQUIRED/.man-fer-setup-complete" ] || return 1
  for d in "$home/venv-torch-$MAN_TORCH_VERSION_REQUIRED"/lib/python3*/site-packages/torch; do
    [ -f "$d/lib/libtorch_cpu.so" ] || [ -f "$d/lib/libtorch_cpu.dylib" ] && { echo "$d"; return 0; }
  done
  return 1
}

man_torch_version() { # $1: a torch or libtorch directory
  if [ -f "$1/version.py" ]; then
    sed -n "s/^__version__ = '\([^']*\)'.*/\1/p" "$1/version.py"
  elif [ -f "$1/build-version" ]; then
    head -n1 "$1/build-version"
  fi
}

man_find_libtorch() {
  local d
  for d in "${MAN_LIBTORCH:-}" "${LIBTORCH:-}"; do
    [ -n "$d" ] && { echo "$d"; return 0; }
  done
  man_venv_torch && return 0
  man_setup_venv_torch && return 0
  d=$(python3 -c "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')" 2>/dev/null)
  [ -n "$d" ] && [ -f "$d/lib/libtorch_cpu.so" ] && { echo "$d"; return 0; }
  return 1
}
