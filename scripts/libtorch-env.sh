# Sourced by the other scripts: finds libtorch in the same order as the
# runtime loader (ts/native/libtorch.ts) and exports LIBTORCH for torch-sys.
#   MAN_LIBTORCH or LIBTORCH -> ./.venv's torch -> the torch of python3 on PATH
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
  d=$(python3 -c "import importlib.util as u; s = u.find_spec('torch'); print(s.submodule_search_locations[0] if s else '')" 2>/dev/null)
  [ -n "$d" ] && [ -f "$d/lib/libtorch_cpu.so" ] && { echo "$d"; return 0; }
  return 1
}
