#!/usr/bin/env bash
# Builds a degraded-query benchmark from free music in Debian packages and scores it with
# `earmark eval`. First cut (issue 3 extends it): catalogue = wesnoth-1.16-music, queries =
# 10 s excerpts with codec, speed, tempo and pitch changes, plus excerpts of hyperrogue-music
# that are not in the catalogue.
#
#   scripts/bench-corpus.sh [OUT_DIR]      (default bench-corpus/, ignored by git)
#
# Needs: apt-get download (network to the Debian mirror), dpkg-deb, ffmpeg, rubberband,
# python3. EARMARK_DEB_DIR reuses downloaded .deb files; N_TRACKS limits the catalogue queries.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench-corpus}
debs=${EARMARK_DEB_DIR:-$out/debs}
n_tracks=${N_TRACKS:-12}
mkdir -p "$out" "$debs" "$out/queries"

fetch() { # package
  ls "$debs"/"$1"_*.deb >/dev/null 2>&1 || (cd "$debs" && apt-get download "$1")
  rm -rf "$out/pkg-$1" && mkdir -p "$out/pkg-$1" && dpkg-deb -x "$debs"/"$1"_*.deb "$out/pkg-$1"
}
fetch wesnoth-1.16-music
fetch hyperrogue-music
catalogue="$out/pkg-wesnoth-1.16-music/usr/share/games/wesnoth/1.16/data/core/music"

cargo build --release -q
earmark=target/release/earmark
[ -f "$out/catalogue.earmark" ] || "$earmark" index "$catalogue" -o "$out/catalogue.earmark"

truth="$out/truth.tsv"
printf 'query\ttrack\toffset\tdegradation\n' > "$truth"
q() { # source start track-id name degradation filter... ; writes one query and its truth row
  local src=$1 start=$2 track=$3 name=$4 deg=$5; shift 5
  local dst="$out/queries/$name"
  [ -f "$dst" ] || ffmpeg -loglevel error -y -ss "$start" -t 10 -i "$src" "$@" "$dst" || { rm -f "$dst"; return 1; }
  printf '%s\t%s\t%s\t%s\n' "queries/$name" "$track" "$start" "$deg" >> "$truth"
}
i=0
for f in $(ls "$catalogue"/*.ogg | head -n "$n_tracks"); do
  id=$(basename "$f"); i=$((i + 1)); s=40
  # Skip tracks too short for an excerpt at 40 s.
  dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$f"); [ "${dur%.*}" -gt 55 ] || continue
  q "$f" $s "$id" "$i-mp3-128k.mp3" mp3-128k -b:a 128k
  q "$f" $s "$id" "$i-mp3-64k-mono.mp3" mp3-64k-mono -ac 1 -b:a 64k
  q "$f" $s "$id" "$i-aac-96k.m4a" aac-96k -c:a aac -b:a 96k
  q "$f" $s "$id" "$i-opus-32k.webm" opus-32k-webm -c:a libopus -b:a 32k
  q "$f" $s "$id" "$i-vorbis-q0.ogg" vorbis-q0 -c:a libvorbis -q:a 0
  for sp in 0.95 0.97 1.03 1.05; do   # speed: resampling changes tempo and pitch together
    q "$f" $s "$id" "$i-speed-$sp.mp3" "speed-$sp" -af "asetrate=44100*$sp,aresample=44100" -b:a 128k
  done
  for t in 0.92 0.96 1.04 1.08; do    # tempo only
    q "$f" $s "$id" "$i-tempo-$t.mp3" "tempo-$t" -af "atempo=$t" -b:a 128k
  done
  for p in -2 -1 1 2; do              # pitch only, with rubberband
    dst="$out/queries/$i-pitch$p.wav"
    if [ ! -f "$dst" ]; then
      ffmpeg -loglevel error -y -ss $s -t 10 -i "$f" "$out/tmp.wav"
      rubberband -q -p "$p" "$out/tmp.wav" "$dst" >/dev/null 2>&1
    fi
    printf '%s\t%s\t%s\t%s\n' "queries/$i-pitch$p.wav" "$id" "$s" "pitch$p" >> "$truth"
  done
done
j=0
# Some of HyperRogue's tracks do not open in Debian 12's ffmpeg: skip those.
for f in $(find "$out/pkg-hyperrogue-music" -path '*/music/*' -name '*.ogg' -size +1M | sort); do
  j=$((j + 1)); [ $j -le 8 ] || break
  q "$f" 30 "" "none-$j.mp3" not-in-catalogue -b:a 128k 2>/dev/null || j=$((j - 1))
done
rm -f "$out/tmp.wav"
"$earmark" eval "$truth" --index "$out/catalogue.earmark" --json "$out/eval.json"
