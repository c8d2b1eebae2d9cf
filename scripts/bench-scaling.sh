#!/usr/bin/env bash
# Scan throughput against the number of jobs, with worker processes (the default) and with
# threads, on a dump of audio files that the page cache holds after the first pass.
#
#   scripts/bench-scaling.sh DUMP_DIR INDEX ["1 2 4 8 16"]
#
# Each run scans the dump 2 x jobs times over (the directory is passed repeatedly), so every
# run keeps its workers busy for a similar time. EARMARK points at the binary (default
# target/release/earmark, built if missing); ISOLATIONS lists the isolations to run (default
# "process thread"); SCAN_ARGS adds scan options (for example "--profile songs"). Prints one
# Markdown row per run.
set -euo pipefail
cd "$(dirname "$0")/.."
dump=$1 index=$2 jobs=${3:-"1 2"}
earmark=${EARMARK:-target/release/earmark}
[ -x "$earmark" ] || cargo build --release -q
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# shellcheck disable=SC2086 # SCAN_ARGS is a list of options
"$earmark" scan "$dump" --index "$index" ${SCAN_ARGS:-} --quiet > /dev/null 2>&1 || true # warm the cache
echo "| jobs | isolation | items | audio h | wall s | x real time | x real time per job |"
echo "|---|---|---|---|---|---|---|"
for j in $jobs; do
  for isolation in ${ISOLATIONS:-process thread}; do
    passes=()
    for ((i = 0; i < 2 * j; i++)); do passes+=("$dump"); done
    # shellcheck disable=SC2086 # SCAN_ARGS is a list of options
    "$earmark" scan "${passes[@]}" --index "$index" --jobs "$j" --isolation "$isolation" \
      ${SCAN_ARGS:-} --quiet > /dev/null 2> "$log" || true
    # "earmark: N items, H hours of audio, M matches, E errors, W s wall time, Xx real time"
    summary=$(grep -E '^earmark: [0-9]+ items' "$log" | tail -1)
    items=$(sed -E 's/^earmark: ([0-9]+) items.*/\1/' <<< "$summary")
    hours=$(sed -E 's/.* ([0-9.]+) hours of audio.*/\1/' <<< "$summary")
    wall=$(sed -E 's/.* ([0-9.]+) s wall time.*/\1/' <<< "$summary")
    x=$(sed -E 's/.* ([0-9.]+)x real time.*/\1/' <<< "$summary")
    echo "| $j | $isolation | $items | $hours | $wall | $x | $(awk -v x="$x" -v j="$j" 'BEGIN { printf "%.0f", x / j }') |"
  done
done
