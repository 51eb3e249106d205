#!/usr/bin/env bash
# Peak RSS of a whole `man-fer train` process, the way the reference code was
# measured: 1,024 + 256 synthetic 100×100 faces, batch 64, 2 threads,
# 1 warm-up + 1 co-division epoch, no pretrained backbone.
#
#   bash scripts/bench-train-memory.sh [SIZE...] [-- extra train flags]
#     SIZE: image sizes in pixels (default: 112 224)
# Prints one JSON line per size: wall seconds and peak RSS (MiB) from /usr/bin/time -v.
# Needs the built package (npm run build); MAN_FER_BIN runs another build's
# CLI (e.g. a checkout of main, for a before/after). About 2 min at 112 px and
# 8 min at 224 px on 2 quiet cores.
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do sizes+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#sizes[@]} -gt 0 ] || sizes=(112 224)
[ -x /usr/bin/time ] || { echo "bench-train-memory: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
BIN=${MAN_FER_BIN:-dist/cli/bin.js}
[ -f "$BIN" ] || { echo "bench-train-memory: $BIN is missing: build the package first (npm run build)" >&2; exit 1; }

DATA=.cache/bench-data/train-memory-1024-256-100px
if [ ! -f "$DATA/EmoLabel/list_patition_label.txt" ]; then
  rm -rf "$DATA"
  node "$BIN" synth --out "$DATA" --train 1024 --test 256 --size 100 --noise-rate 0.2 --seed 1 >&2
fi

for size in "${sizes[@]}"; do
  run=$(mktemp -d /tmp/man-fer-train-memory.XXXXXX)
  log="$run.time"
  echo "bench-train-memory: ${size} px (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  # niced: a measurement of memory, not of time, on a machine others share.
  nice -n "${MAN_NICE:-19}" /usr/bin/time -v -o "$log" node "$BIN" train --data "$DATA" --out "$run/run" --json \
    --image-size "$size" --batch-size 64 --epochs 2 --warmup 1 --runtime.threads 2 --device cpu "$@" > "$run/out.jsonl"
  kib=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log")
  # The last epoch event's ensemble test accuracy, read as JSON (not by key order).
  acc=$(node -e 'const ev = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === "epoch").at(-1); console.log(ev?.test?.accuracy ?? "")' "$run/out.jsonl")
  printf '{"size":%s,"batch":64,"peakRssMiB":%s,"wall":"%s","testAccuracy":%s,"extra":"%s","bin":"%s"}\n' \
    "$size" "$(( kib / 1024 ))" "$wall" "${acc:-null}" "$*" "$BIN"
  rm -rf "$run" "$log"
done
