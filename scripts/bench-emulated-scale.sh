#!/usr/bin/env bash
# Whole songs inside the chance postings of a catalogue too large to build here (issue 4's
# 10^10), emulated with a tenth of the postings.
#
#   scripts/bench-emulated-scale.sh [OUT_DIR] [POSTINGS]     (defaults bench-corpus/, 1e10)
#
# What a query pays for in a large catalogue is its chance hits: the postings that its own keys
# hold in other tracks, spread over the catalogue's tracks. scripts/bench-at-scale.sh draws its
# synthetic postings from the keys of the whole corpus catalogue. This script draws them from
# the keys of a subset of it instead (every other track of the first 22 catalogue tracks of
# OUT_DIR/truth-whole.tsv), so that each of the subset's keys holds as many chance postings as
# POSTINGS drawn from the whole catalogue would put there, with f = (corpus postings) / (subset
# postings) times fewer postings in all; and it spreads them over POSTINGS / 10,000 tracks of
# four minutes, as many as the large catalogue would have. Whole songs of the subset (from
# truth-whole.tsv and truth-whole-hard.tsv, and the 15 songs not in the catalogue) then meet the
# chance hits of a POSTINGS catalogue. `common_hash_share` and `fourth_peak_share` are raised by
# f, so that the same triplets are skipped as common and read whole. Not emulated: an index file
# f times larger than this one (here it stays in the page cache), the other songs' keys (the 15
# not in the catalogue meet fewer chance postings than they would), and the peak check of chance
# lines (synthetic tracks have no peaks).
#
# Needs OUT_DIR as scripts/bench-at-scale.sh leaves it (truth-whole.tsv, truth-whole-hard.tsv).
# Writes OUT_DIR/emulated-POSTINGS/: the subset's index, the synthetic index (about 7.7 GB at
# 1e10; delete it when done), and tables (alone-SET.txt against the corpus catalogue alone,
# eval-SET.txt inside the emulated postings) of the subset's clips and of its whole songs with
# the clips profile and with the songs profile at each key sample of KEY_SAMPLES (default "8").
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath "${1:-bench-corpus}")
postings=${2:-1e10}
key_samples=${KEY_SAMPLES:-8}
if [ ! -f "$out/truth-whole.tsv" ] || [ ! -f "$out/truth-whole-hard.tsv" ] ||
  [ ! -f "$out/catalogue-sources.txt" ]; then
  echo "run scripts/bench-at-scale.sh $out first" >&2
  exit 2
fi
dir="$out/emulated-$postings"
mkdir -p "$dir"
cargo build --release -q
earmark=$PWD/target/release/earmark
postings_of() { "$earmark" info "$1" | awk '$1 == "postings" { print $2 }'; }

# ---- The subset, and its share of the catalogue's postings.
tail -n +2 "$out/truth-whole.tsv" | cut -f2 | grep . | head -22 | awk 'NR % 2 == 1' > "$dir/subset.txt"
if [ ! -f "$dir/subset.earmark" ]; then
  rm -rf "$dir/subset-src" && mkdir -p "$dir/subset-src"
  while IFS= read -r id; do
    path=$(awk -F'\t' -v id="$id" '$1 == id { print $2; exit }' "$out/tracks-in.tsv")
    cp "$path" "$dir/subset-src/$(printf '%s' "$id" | tr / _)"
  done < "$dir/subset.txt"
  "$earmark" index "$dir/subset-src" -o "$dir/subset.earmark"
fi
f=$(awk -v a="$(postings_of "$out/catalogue.earmark")" -v b="$(postings_of "$dir/subset.earmark")" \
  'BEGIN { printf "%.4f", a / b }')
n=$(awk -v p="$postings" -v f="$f" 'BEGIN { printf "%d", p / f }')
per_track=$(awk -v f="$f" 'BEGIN { printf "%d", 10000 / f }')
share=$(awk -v f="$f" 'BEGIN { printf "%.3g", 5e-5 * f }')
whole_share=$(awk -v f="$f" 'BEGIN { printf "%.3g", 1e-5 * f }')
echo "emulating $postings postings: subset holds 1/$f of the catalogue's; $n synthetic postings," \
  "$per_track a track; common_hash_share $share, fourth_peak_share $whole_share" |
  tee "$dir/setup.txt"

# ---- The synthetic index, with the whole catalogue appended.
index="$dir/scale-$n.earmark"
if ! "$earmark" info "$index" 2>/dev/null | grep -qx "format       version 5"; then
  rm -f "$index"
  EARMARK_SCALE_SOURCE="$dir/subset.earmark" EARMARK_SCALE="$n" EARMARK_SCALE_PER_TRACK="$per_track" \
    EARMARK_SCALE_ROUNDS=1 EARMARK_SCALE_MEMORY_MB=${EARMARK_SCALE_MEMORY_MB:-4096} \
    EARMARK_SCALE_KEEP="$dir" EARMARK_SCALE_REAL=0 EARMARK_SCALE_DIR="$dir" \
    cargo bench -q --bench scale | tee "$dir/build.txt"
  mapfile -t sources < "$out/catalogue-sources.txt"
  "$earmark" index --append "${sources[@]}" -o "$index"
fi

# ---- The subset's clips and whole songs, and those not in the catalogue, scored against the
# corpus catalogue alone and then inside the emulated postings, in turn: with the clips profile
# (the default), and the whole songs also with the songs profile at each key sample.
cd "$out"
for set in "" -whole -whole-hard; do
  { head -1 "truth$set.tsv"
    awk -F'\t' 'NR == FNR { s[$1] = 1; next } FNR > 1 && ($2 == "" || ($2 in s))' \
      "$dir/subset.txt" "truth$set.tsv"; } > "$dir/truth$set.tsv"
  # Query paths in the truth files are relative to OUT_DIR.
  sed "2,\$s|^|$out/|" "$dir/truth$set.tsv" > "$dir/truth$set-abs.tsv"
done
cat "$index" > /dev/null # into the page cache, as in a long scan
both() { # name truth [eval options]
  local name=$1 truth=$2
  shift 2
  "$earmark" eval "$truth" --index "$out/catalogue.earmark" "$@" | tee "$dir/alone-$name.txt" || true
  "$earmark" eval "$truth" --index "$index" --tune "common_hash_share=$share" \
    --tune "fourth_peak_share=$whole_share" --answers "$dir/answers-$name.tsv" "$@" |
    tee "$dir/eval-$name.txt" || true
}
both clips "$dir/truth-abs.tsv"
for set in whole whole-hard; do
  both "$set-k1" "$dir/truth-$set-abs.tsv"
  for k in $key_samples; do
    both "$set-k$k" "$dir/truth-$set-abs.tsv" --profile songs --tune "key_sample=$k"
  done
done
