#!/usr/bin/env bash
# `npm run demo`: from a fresh clone to a trained MAN model in minutes on a CPU.
# Installs libtorch if needed, builds what is missing, draws the synthetic FER
# set once (20% of its training labels deliberately wrong), then trains with
# the cpu-small preset. Extra arguments go to `man-fer train`
# (e.g. `npm run demo -- --epochs 10`).
set -euo pipefail
cd "$(dirname "$0")/.."

# A folder per test size: the 300-face split of earlier versions is not reused.
TRAIN=${MAN_DEMO_TRAIN:-800}
TEST=${MAN_DEMO_TEST:-1000}
DATA=${MAN_DEMO_DATA:-.cache/demo-data-$TRAIN-$TEST}
# Sized so that cpu-small trains in minutes on two CPU cores and learns the set well enough for co-division to find the wrong labels;
# 1,000 test faces put the standard error of an accuracy near 1.1 points, so MAN and CE can be told apart.
SIZE=48
NOISE=0.2

say() { echo "demo: $*" >&2; }

npm run --silent setup

# cargo keeps the addon build incremental; TypeScript is rebuilt only when a source is newer than the build.
say "building the native addon (the first build takes several minutes)"
npm run --silent build:native
if [ ! -f dist/cli/bin.js ] || [ -n "$(find ts -name '*.ts' -newer dist/cli/bin.js -print -quit)" ]; then
  say "compiling TypeScript"
  npm run --silent build:ts
fi

if [ ! -f "$DATA/EmoLabel/list_patition_label.txt" ]; then
  # A set cut short has no label file; start it over.
  rm -rf "$DATA"
  say "drawing the synthetic dataset into $DATA ($TRAIN train + $TEST test faces, ${SIZE}px, $(awk "BEGIN{print $NOISE*100}")% wrong labels)"
  node dist/cli/bin.js synth --out "$DATA" --train "$TRAIN" --test "$TEST" --size "$SIZE" --noise-rate "$NOISE" --seed 0
fi

RUN=runs/demo-$(date +%Y%m%d-%H%M%S)
say "training MAN (cpu-small preset) into $RUN; Ctrl-C stops cleanly, 'node dist/cli/bin.js train --resume $RUN' continues"
exec node dist/cli/bin.js train --data "$DATA" --preset cpu-small --out "$RUN" "$@"
