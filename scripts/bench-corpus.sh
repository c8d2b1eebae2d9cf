#!/usr/bin/env bash
# Builds a degraded-query benchmark from free game music in Debian packages and scores it with
# `earmark eval` (issue 3).
#
# Catalogue: all music of wesnoth-1.16-music (a directory of .ogg), ufoai-music and
# nexuiz-music (their .pk3 zip archives are indexed as they are; the track ids are then the
# member paths, e.g. music/AlexFightmare.ogg, sound/cdtracks/infight.ogg).
# Queries, written under OUT_DIR/queries/ and listed in OUT_DIR/truth.tsv
# (query, track, offset in seconds, degradation; track is empty for music not in the catalogue):
#   - N_TRACKS catalogue tracks (a third from each package, picked by a seeded hash), each
#     with every degradation below;
#   - not-in-catalogue excerpts of every decodable track of singularity-music,
#     hyperrogue-music and extremetuxracer-data (three HyperRogue oggs do not open in Debian
#     12's ffmpeg: they are skipped), each as clean MP3 128k plus NONE_DEGS further
#     degradations taken in rotation, so that every degradation row also counts false
#     positives.
# Degradations (10 s excerpts unless stated): mp3-128k, mp3-64k-mono, aac-96k-m4a,
# opus-32k-webm, vorbis-q0; white/pink noise at 10, 5, 0 dB SNR (relative to the excerpt's own
# RMS, measured with sox stats); espeak-ng speech at 0 dB; another (non-catalogue) song at
# -6 dB; speed by resampling 0.95..1.05; tempo (atempo) 0.92..1.08; pitch (rubberband) -2..+2
# semitones; telephone (300-3400 Hz band, EQ, 8 kHz mono mu-law); echo (ffmpeg aecho); reverb
# (sox reverb); loud and clipped (+12 dB, hard clipped); 5 s and 30 s excerpts (MP3 128k).
# Excerpt starts are a seeded hash of (track, degradation) (SEED); an excerpt that would not
# fit in the track with 5 s to spare at either end is skipped. Noise, mixes and time/pitch
# changes are stored as FLAC so that only the named degradation applies. Every tool runs
# repeatably (sox with -R), so two builds of the corpus hold the same queries.
#
#   EARMARK_DEB_DIR=/tmp/eardl scripts/bench-corpus.sh [OUT_DIR]   (default bench-corpus/)
#
# CORPUS=holdout builds a second benchmark from music and degradations that nothing in earmark
# was tuned on, to check that the defaults are not fitted to the first (issue 3): catalogue
# colobot-common-sounds, planetblupi-music-ogg and pushover-data (copied under
# OUT_DIR/catalogue-src/<package>/ and indexed as one directory, so track ids read
# colobot/Proton.ogg); not in the catalogue drascula-music and the full mixes (song.ogg) of
# fretsonfire-songs-muldjord and -sectoid; speech in another voice and text; and four further
# degradations: chorus, mp3-32k-22k-mono (32 kbit/s mono at 22.05 kHz), bass-treble (+8 dB
# bass, -6 dB treble) and tempo-1.04-pink-10db (atempo 1.04, then pink noise at 10 dB).
# Use another OUT_DIR (e.g. bench-holdout/).
#
# CORPUS=third builds a third, for a check that the second no longer gives (a miss found there
# was fixed): catalogue warzone2100-music (Opus files), the music of hedgewars-data and
# supertux-data (copied under OUT_DIR/catalogue-src/<name>/, so track ids read
# hedgewars/Art.ogg); not in the catalogue the music of freedroidrpg-data, xmoto-data and
# frozen-bubble-data; speech in a third voice and text; the second corpus's degradations.
#
# CORPUS=fourth builds a fourth, a blind check of the fine peaks (chosen on the other
# three): catalogue the music of warmux-data and flare-game (copied under
# OUT_DIR/catalogue-src/<name>/); not in the catalogue the music of megaglest-data, lincity-ng-data
# (Ogg files without an extension) and pingus-data (Impulse Tracker modules); speech in a fourth
# voice and text; the second corpus's degradations.
#
# Needs: apt-get download (network to the Debian mirror) unless EARMARK_DEB_DIR holds the
# corpus's .deb files, dpkg-deb, unzip, ffmpeg (with libmp3lame, libopus, libvorbis), sox, rubberband,
# espeak-ng, cargo, and python3-numpy for scripts/same-audio.py (skipped without it).
# Idempotent: existing queries, extracted packages and OUT_DIR/catalogue.earmark are reused
# (delete them to rebuild); truth.tsv is rewritten. JOBS (default 2) queries are made in
# parallel. Writes OUT_DIR/eval.txt (the table), OUT_DIR/eval.json, OUT_DIR/misses.tsv,
# OUT_DIR/answers.tsv and OUT_DIR/same-audio.txt (the table again, answers on another copy of
# the same recording counted right).
set -euo pipefail
cd "$(dirname "$0")/.."
# Repeatable sox: its noise and dither are otherwise seeded from the clock, and a rebuilt corpus
# moved the pink-noise 0 dB row by up to 13 points (80.0, 86.7, 73.3 % in three builds).
export SOX_OPTS="-R${SOX_OPTS:+ $SOX_OPTS}"
self="$PWD/scripts/bench-corpus.sh"
rate=44100
# shellcheck source=scripts/lib-degrade.sh
. scripts/lib-degrade.sh

# ---- One query: `bench-corpus.sh --job OUT_DIR LINE`, LINE a tab-separated line of jobs.tsv:
# name, source, start, length, degradation, other source, other start.
excerpt() { # source start seconds dst.wav
  ffmpeg -nostdin -loglevel error -y -ss "$2" -t "$3" -i "$1" -ac 2 -ar "$rate" -c:a pcm_s16le "$4"
}
job() { # out line
  local out=$1 name src start len deg other ostart
  IFS=$'\t' read -r name src start len deg other ostart <<<"$2"
  local dst="$out/queries/$name"
  [ -f "$dst" ] && return 0
  local t
  t=$(mktemp -d "$out/tmp.XXXXXX")
  # shellcheck disable=SC2064 # expand now: $t is local
  trap "rm -rf '$t'" EXIT
  local x="$t/x.wav" r="$t/${name##*/}"
  excerpt "$src" "$start" "$len" "$x"
  local ff=(ffmpeg -nostdin -loglevel error -y -i "$x")
  case $deg in
    mp3-128k | excerpt-*) "${ff[@]}" -b:a 128k "$r" ;;
    mp3-64k-mono) "${ff[@]}" -ac 1 -b:a 64k "$r" ;;
    aac-96k-m4a) "${ff[@]}" -c:a aac -b:a 96k "$r" ;;
    opus-32k-webm) "${ff[@]}" -c:a libopus -b:a 32k "$r" ;;
    vorbis-q0) "${ff[@]}" -c:a libvorbis -q:a 0 "$r" ;;
    white-noise-* | pink-noise-*)
      local snr=${deg##*-}; snr=${snr%db}
      sox -n -r "$rate" -c 2 -b 16 "$t/n.wav" synth "$len" "${deg%%-*}noise" gain -6
      mix "$x" "$t/n.wav" "-$snr" "$r" ;;
    speech-0db)
      sox "$out/speech.wav" -r "$rate" -c 2 "$t/s.wav" gain -n -3 repeat 9 trim 0 "$len"
      mix "$x" "$t/s.wav" 0 "$r" ;;
    song-mix-6db)
      excerpt "$other" "$ostart" "$len" "$t/o.wav"
      mix "$x" "$t/o.wav" -6 "$r" ;;
    speed-*) "${ff[@]}" -af "asetrate=$rate*${deg#speed-},aresample=$rate" "$r" ;;
    tempo-1.04-pink-10db) # before tempo-*
      "${ff[@]}" -af "atempo=1.04" "$t/a.wav"
      sox -n -r "$rate" -c 2 -b 16 "$t/n.wav" synth "$(soxi -D "$t/a.wav")" pinknoise gain -6
      mix "$t/a.wav" "$t/n.wav" -10 "$r" ;;
    tempo-*) "${ff[@]}" -af "atempo=${deg#tempo-}" "$r" ;;
    pitch*)
      rubberband -q -p "${deg#pitch}" "$x" "$t/p.wav" >/dev/null 2>&1
      sox "$t/p.wav" "$r" ;;
    telephone)
      "${ff[@]}" -af "highpass=f=300,highpass=f=300,lowpass=f=3400,lowpass=f=3400,equalizer=f=1700:t=q:w=1.5:g=6,equalizer=f=400:t=q:w=1:g=-4" \
        -ac 1 -ar 8000 -c:a pcm_mulaw "$r" ;;
    echo) "${ff[@]}" -af "aecho=0.8:0.7:140|310:0.45|0.25" "$r" ;;
    reverb) sox "$x" "$r" gain -4 reverb 60 50 100 ;;
    loud-clipped) sox -V1 "$x" "$r" gain 12 ;; # sox clips to full scale
    chorus) "${ff[@]}" -af "chorus=0.6:0.9:50|60:0.4|0.32:0.25|0.4:2|1.3" "$r" ;;
    mp3-32k-22k-mono) "${ff[@]}" -ac 1 -ar 22050 -b:a 32k "$r" ;;
    bass-treble) "${ff[@]}" -af "volume=-8dB,bass=g=8,treble=g=-6" "$r" ;;
    *) echo "unknown degradation $deg" >&2; return 1 ;;
  esac
  mv "$r" "$dst"
}
if [ "${1:-}" = --job ]; then
  job "$2" "$3"
  exit 0
fi

# ---- The corpus.
out=${1:-bench-corpus}
debs=${EARMARK_DEB_DIR:-$out/debs}
n_tracks=${N_TRACKS:-30}
none_degs=${NONE_DEGS:-8}
seed=${SEED:-3}
jobs=${JOBS:-2}
mkdir -p "$out" "$debs" "$out/queries" "$out/src"
out=$(cd "$out" && pwd)

fetch() { # package: extracted under $out/pkg-PACKAGE
  ls "$debs"/"$1"_*.deb >/dev/null 2>&1 || (cd "$debs" && apt-get download "$1")
  [ -d "$out/pkg-$1" ] && return
  rm -rf "$out/pkg-$1.tmp"
  dpkg-deb -x "$debs"/"$1"_*.deb "$out/pkg-$1.tmp"
  mv "$out/pkg-$1.tmp" "$out/pkg-$1"
}
# Copies package directories, each NAME=PATH under $out, to $out/catalogue-src/NAME/ (once):
# one directory to index, so that tracks of two packages with the same file name keep apart
# and track ids read NAME/file.
gather_catalogue() {
  cat_src="$out/catalogue-src"
  [ -d "$cat_src" ] && return
  rm -rf "$cat_src.tmp" && mkdir -p "$cat_src.tmp"
  local pair
  for pair in "$@"; do
    cp -r "$out/${pair#*=}" "$cat_src.tmp/${pair%%=*}"
  done
  mv "$cat_src.tmp" "$cat_src"
}
corpus=${CORPUS:-main}
# Per corpus: the packages; what `earmark index` gets; the catalogue's query groups (label and
# the directory whose files are its tracks, and their name pattern unless *.ogg); the id base of
# those tracks (empty: each group's own directory); the not-in-catalogue roots (directory and
# file name pattern).
case $corpus in
  main)
    packages=(wesnoth-1.16-music ufoai-music nexuiz-music singularity-music hyperrogue-music extremetuxracer-data) ;;
  holdout)
    packages=(colobot-common-sounds planetblupi-music-ogg pushover-data drascula-music
      fretsonfire-songs-muldjord fretsonfire-songs-sectoid) ;;
  third)
    packages=(warzone2100-music hedgewars-data supertux-data freedroidrpg-data xmoto-data
      frozen-bubble-data) ;;
  fourth)
    packages=(warmux-data flare-game megaglest-data lincity-ng-data pingus-data) ;;
  *) echo "CORPUS must be main, holdout, third or fourth, not $corpus" >&2; exit 2 ;;
esac
for p in "${packages[@]}"; do
  fetch "$p"
done
if [ "$corpus" = main ]; then
  wesnoth="$out/pkg-wesnoth-1.16-music/usr/share/games/wesnoth/1.16/data/core/music"
  ufoai="$out/pkg-ufoai-music/usr/share/games/ufoai/base/0music.pk3"
  nexuiz="$out/pkg-nexuiz-music/usr/share/games/nexuiz/data/music.pk3"
  # Query sources for the pk3 members (earmark reads the archives themselves).
  for a in "ufoai-music $ufoai" "nexuiz-music $nexuiz"; do
    d="$out/src/${a%% *}"
    [ -d "$d" ] || { rm -rf "$d.tmp" && unzip -q -o "${a#* }" '*.ogg' -d "$d.tmp" && mv "$d.tmp" "$d"; } || exit 1
  done
  index_args=("$wesnoth" "$ufoai" "$nexuiz")
  groups=("wesnoth $wesnoth" "ufoai $out/src/ufoai-music" "nexuiz $out/src/nexuiz-music")
  id_base=
  none_roots=("$out/pkg-singularity-music/usr/share/games/singularity/music *.ogg"
    "$out/pkg-hyperrogue-music/usr/share/hyperrogue/music *.ogg"
    "$out/pkg-extremetuxracer-data/usr/share/games/etr/music *.ogg")
  speech_voice=en-us speech_speed=165
  speech_text="Good evening, and welcome to the late news. Tonight the council met to discuss the new \
bridge over the river, which has been delayed for another year. Traffic on the northern road \
remains heavy, and drivers are advised to allow extra time. In sport, the home team won \
their third match in a row. Now the weather: cloudy with some rain later in the evening."
elif [ "$corpus" = fourth ]; then
  gather_catalogue warmux=pkg-warmux-data/usr/share/games/warmux/music \
    flare=pkg-flare-game/usr/share/games/flare/mods/fantasycore/music
  index_args=("$cat_src")
  groups=("warmux $cat_src/warmux" "flare $cat_src/flare")
  id_base=$cat_src
  none_roots=("$out/pkg-megaglest-data/usr/share/games/megaglest *.ogg"
    "$out/pkg-lincity-ng-data/usr/share/games/lincity-ng/music 0?"
    "$out/pkg-pingus-data/usr/share/games/pingus/data/music *.it")
  speech_voice=en+f4 speech_speed=160
  speech_text="Welcome back to the afternoon show. Before the next record, a quick reminder that \
the summer fair opens on Saturday at ten, with food stalls, a brass band and rides for the \
children. Tickets are cheaper online than at the gate. We have also had lots of messages about \
the roadworks on the high street; the council says they should be finished by the end of the month."
elif [ "$corpus" = third ]; then
  gather_catalogue warzone2100=pkg-warzone2100-music/usr/share/games/warzone2100/music/albums \
    hedgewars=pkg-hedgewars-data/usr/share/games/hedgewars/Data/Music \
    supertux=pkg-supertux-data/usr/share/games/supertux2/music
  index_args=("$cat_src")
  groups=("warzone2100 $cat_src/warzone2100 *.opus" "hedgewars $cat_src/hedgewars"
    "supertux $cat_src/supertux")
  id_base=$cat_src
  none_roots=("$out/pkg-freedroidrpg-data/usr/share/freedroidrpg/data/sound/music *.ogg"
    "$out/pkg-xmoto-data/usr/share/games/xmoto/Textures/Musics *.ogg"
    "$out/pkg-frozen-bubble-data/usr/share/games/frozen-bubble/snd *.ogg")
  speech_voice=en-us+m3 speech_speed=175
  speech_text="Thank you for calling. All of our advisers are busy at the moment. Your call is \
important to us, so please stay on the line. You can also find answers to common questions on \
our website, where you can check your order, change your address or cancel a delivery. We \
will be with you as soon as we can. Calls may be recorded for training purposes."
else
  gather_catalogue colobot=pkg-colobot-common-sounds/usr/share/games/colobot/music \
    planetblupi=pkg-planetblupi-music-ogg/usr/share/planetblupi/music \
    pushover=pkg-pushover-data/usr/share/pushover/themes
  index_args=("$cat_src")
  groups=("colobot $cat_src/colobot" "planetblupi $cat_src/planetblupi" "pushover $cat_src/pushover")
  id_base=$cat_src
  none_roots=("$out/pkg-drascula-music/usr/share/scummvm/drascula/audio *.ogg"
    "$out/pkg-fretsonfire-songs-muldjord/usr/share/games/fretsonfire/data/songs song.ogg"
    "$out/pkg-fretsonfire-songs-sectoid/usr/share/games/fretsonfire/data/songs song.ogg")
  speech_voice=en-gb+f3 speech_speed=150
  speech_text="This is the shipping forecast, issued at five o'clock this morning. Gale warnings \
are in force for the western sea areas, with winds rising to severe gale later. Visibility \
moderate or poor in showers, occasionally very poor. The ferry to the islands will not sail \
before noon, and passengers should check with the harbour office. That ends the forecast."
fi

# Track lists: id, path, duration. A catalogue id is what `earmark index` reports: the path
# relative to the indexed directory, or the member path inside the pk3.
duration() { ffprobe -v error -show_entries format=duration -of csv=p=0 "$1" 2>/dev/null || true; }
seeded() { printf '%s' "$seed:$*" | cksum | cut -d' ' -f1; }
list() { # root [pattern [id base]]: id<TAB>path<TAB>duration of each decodable file, sorted by id
  local f d base=${3:-$1}
  find "$1" -name "${2:-*.ogg}" -type f -print | LC_ALL=C sort | while IFS= read -r f; do
    d=$(duration "$f")
    # Undecodable files (some HyperRogue oggs in Debian 12's ffmpeg) have no duration.
    if [ -z "$d" ] || ! ffmpeg -nostdin -v error -ss 1 -t 1 -i "$f" -f null - >/dev/null 2>&1; then
      echo "skipped (does not decode): $f" >&2
      continue
    fi
    printf '%s\t%s\t%s\n' "${f#"$base"/}" "$f" "$d"
  done
}
[ -f "$out/tracks-in.tsv" ] || for g in "${groups[@]}"; do
  read -r _ dir pattern <<<"$g"
  list "$dir" "${pattern:-*.ogg}" "$id_base"
done > "$out/tracks-in.tsv"
[ -f "$out/tracks-none.tsv" ] || for r in "${none_roots[@]}"; do
  list "${r% *}" "${r##* }"
done 2>"$out/skipped.txt" | awk -F'\t' '$3 >= 20' > "$out/tracks-none.tsv"
mapfile -t none < "$out/tracks-none.tsv"

degs=(mp3-128k mp3-64k-mono aac-96k-m4a opus-32k-webm vorbis-q0
  white-noise-10db white-noise-5db white-noise-0db pink-noise-10db pink-noise-5db pink-noise-0db
  speech-0db song-mix-6db speed-0.95 speed-0.97 speed-1.03 speed-1.05
  tempo-0.92 tempo-0.96 tempo-1.04 tempo-1.08 pitch-2 pitch-1 pitch+1 pitch+2
  telephone echo reverb loud-clipped excerpt-5s excerpt-30s)
[ "$corpus" = main ] || degs+=(chorus mp3-32k-22k-mono bass-treble tempo-1.04-pink-10db)
ext() {
  case $1 in
    mp3-* | excerpt-*) echo mp3 ;; aac-*) echo m4a ;; opus-*) echo webm ;; vorbis-*) echo ogg ;;
    telephone) echo wav ;; *) echo flac ;;
  esac
}
# One job line (and its truth row, kept aside until the query exists).
emit() { # tag id path duration degradation truth-track
  local tag=$1 id=$2 path=$3 dur=$4 deg=$5 track=$6 len=10 h start o ostart
  case $deg in excerpt-5s) len=5 ;; excerpt-30s) len=30 ;; esac
  # Skip the excerpt when the track is too short for it with 5 s to spare at either end.
  awk -v d="$dur" -v l="$len" 'BEGIN { exit !(d >= l + 10) }' || return 0
  h=$(seeded "$id" "$deg")
  start=$(awk -v d="$dur" -v l="$len" -v h="$h" 'BEGIN { printf "%.1f", 5 + (h % 1000) / 1000 * (d - l - 10) }')
  o=$(((h / 1000) % ${#none[@]}))
  [ "${none[o]%%$'\t'*}" != "$id" ] || o=$(((o + 1) % ${#none[@]}))
  IFS=$'\t' read -r _ opath odur <<<"${none[o]}"
  ostart=$(awk -v d="$odur" -v l="$len" -v h="$h" 'BEGIN { s = d - l - 10; if (s < 0) s = 0; printf "%.1f", 5 + (h % 997) / 997 * s }')
  local name
  name="$tag-$deg.$(ext "$deg")"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$path" "$start" "$len" "$deg" "$opath" "$ostart" >&3
  printf 'queries/%s\t%s\t%s\t%s\n' "$name" "$track" "$start" "$deg" >&4
}
{
  # Catalogue queries: N_TRACKS/3 tracks per package, lowest seeded hash first.
  for g in "${groups[@]}"; do
    read -r pkg pat _ <<<"$g"
    pat="$pat/"
    while IFS=$'\t' read -r id path dur; do
      [ "${path#"$pat"}" != "$path" ] || continue
      awk -v d="$dur" 'BEGIN { exit !(d >= 45) }' || continue
      printf '%s\t%s\t%s\t%s\n' "$(seeded "$id")" "$id" "$path" "$dur"
    done < "$out/tracks-in.tsv" | sort -n | awk -v n=$(((n_tracks + 2) / 3)) 'NR <= n' | cut -f2- |
      while IFS=$'\t' read -r id path dur; do
        tag=$(basename "$id")
        tag="$pkg-${tag%.*}"
        for deg in "${degs[@]}"; do emit "$tag" "$id" "$path" "$dur" "$deg" "$id"; done
      done
  done
  # Not-in-catalogue queries: clean MP3 plus NONE_DEGS degradations in rotation.
  j=0
  for line in "${none[@]}"; do
    IFS=$'\t' read -r id path dur <<<"$line"
    tag="none-$(printf '%s-%s' "$(basename "$(dirname "$path")")" "$(basename "$id" .ogg)" |
      tr -c 'A-Za-z0-9_.\n-' _)"
    emit "$tag" "$id" "$path" "$dur" mp3-128k ""
    for ((k = 0; k < none_degs; k++)); do
      d=$(((j * none_degs + k) % (${#degs[@]} - 1) + 1))
      emit "$tag" "$id" "$path" "$dur" "${degs[d]}" ""
    done
    j=$((j + 1))
  done
} 3>"$out/jobs.tsv" 4>"$out/truth-all.tsv"

[ -f "$out/speech.wav" ] || espeak-ng -v "$speech_voice" -s "$speech_speed" -w "$out/speech.wav" "$speech_text"

cargo build --release -q
earmark=$PWD/target/release/earmark
# An index of an older format (refused, or without peaks) or of other parameters would not
# measure today's earmark: rebuild either.
format=$("$earmark" info "$out/catalogue.earmark" 2>/dev/null | sed -n 's/^format *version //p') || true
if [ -f "$out/catalogue.earmark" ] && { [ "$format" != 4 ] ||
  ! "$earmark" info "$out/catalogue.earmark" 2>/dev/null | grep -qx "params       this earmark's defaults"; }; then
  echo "rebuilding $out/catalogue.earmark: $("$earmark" info "$out/catalogue.earmark" 2>&1 | tail -1)"
  rm -f "$out/catalogue.earmark"
fi
# What the catalogue indexes, for scripts/bench-at-scale.sh (one path a line).
printf '%s\n' "${index_args[@]}" > "$out/catalogue-sources.txt"
if [ ! -f "$out/catalogue.earmark" ]; then
  t0=$EPOCHREALTIME
  "$earmark" index "${index_args[@]}" -o "$out/catalogue.earmark"
  echo "index built in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" | tee "$out/index-time.txt"
fi
"$earmark" info "$out/catalogue.earmark" --tracks > "$out/catalogue-info.txt"

rm -rf "$out"/tmp.*
n_jobs=$(wc -l < "$out/jobs.tsv")
echo "earmark bench: $n_jobs queries ($(find "$out/queries" -type f | wc -l) already made)" >&2
tr '\n' '\0' < "$out/jobs.tsv" | xargs -0 -P "$jobs" -n 1 "$self" --job "$out" || true

truth="$out/truth.tsv"
printf 'query\ttrack\toffset\tdegradation\n' > "$truth"
missing=0
while IFS= read -r row; do # (read with IFS=tab would merge the empty track field)
  if [ -f "$out/${row%%$'\t'*}" ]; then
    printf '%s\n' "$row" >> "$truth"
  else
    missing=$((missing + 1))
  fi
done < "$out/truth-all.tsv"
echo "earmark bench: $(($(wc -l < "$truth") - 1)) queries in $truth, $missing failed" >&2
"$earmark" eval "$truth" --index "$out/catalogue.earmark" --json "$out/eval.json" \
  --misses "$out/misses.tsv" --answers "$out/answers.tsv" | tee "$out/eval.txt" || true
# Answers on another copy of the passage (a second catalogue track, or a repeat the answer did
# not list) counted right when the waveforms show the same recording.
if python3 -c 'import numpy' 2>/dev/null; then
  scripts/same-audio.py "$out" | tee "$out/same-audio.txt"
else
  echo "earmark bench: python3-numpy missing: answers on the same audio not checked" >&2
fi
