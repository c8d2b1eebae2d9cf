#!/usr/bin/env bash
# Rebuild the committed audio fixtures in testdata/ from free game music
# shipped in Debian (see testdata/README.md, which this script also writes).
#
#   scripts/make-testdata.sh
#
# Needs: apt-get (with Debian bookworm package lists), dpkg-deb, unzip, ffmpeg
# (with libmp3lame, libvorbis, libopus), sox, espeak-ng, zip, GNU tar, gzip,
# openssl, sha256sum, awk.
#
# Environment knobs:
#   EARMARK_DEB_DIR=/some/dir   keep/reuse the downloaded .deb files there
#                               (about 480 MB) instead of a throw-away dir.
#   EARMARK_SKIP_SHA=1          do not insist that the source songs match the
#                               recorded sha256 sums (e.g. other package versions).
#   EARMARK_UNPINNED=1          download whatever version apt offers instead of
#                               the pinned versions below.
#   EARMARK_KEEP_WORK=1         keep the temporary work dir (printed at the end).
#
# Determinism: every encode uses -fflags +bitexact -flags:a +bitexact and
# -map_metadata -1, noise has a fixed seed, archives have fixed names, order,
# owners and timestamps.  Byte-identical output is expected when run with the
# same Debian 12 tool versions (ffmpeg 5.1, LAME 3.100, libvorbis 1.3.7,
# libopus 1.3.1, sox 14.4.2, espeak-ng 1.51, zip 3.0, GNU tar 1.34, gzip 1.12).
set -euo pipefail
export LC_ALL=C TZ=UTC

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TD=$ROOT/testdata
CAT=$TD/catalogue
DUMP=$TD/dump

for tool in apt-get dpkg-deb unzip ffmpeg ffprobe sox espeak-ng zip tar gzip openssl sha256sum awk; do
  command -v "$tool" >/dev/null || { echo "make-testdata: missing tool: $tool" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/earmark-testdata.XXXXXX")
if [[ -z ${EARMARK_KEEP_WORK:-} ]]; then trap 'rm -rf "$WORK"' EXIT; fi
chmod 755 "$WORK"   # so that apt's unprivileged _apt user can write into $WORK/debs

log() { printf '==> %s\n' "$*" >&2; }

# --------------------------------------------------------------------------
# 1. Debian packages
# --------------------------------------------------------------------------
PKGS=(
  "wesnoth-1.16-music=1:1.16.9-1"
  "ufoai-music=2.5-2"
  "hyperrogue-music=12.0q-1"
  "singularity-music=007-2"
)
DEBS=${EARMARK_DEB_DIR:-$WORK/debs}
mkdir -p "$DEBS"
chmod 777 "$DEBS" 2>/dev/null || true
declare -A PKGVER
for spec in "${PKGS[@]}"; do
  pkg=${spec%%=*}
  want=$spec
  [[ -n ${EARMARK_UNPINNED:-} ]] && want=$pkg
  if ! compgen -G "$DEBS/${pkg}_*_all.deb" >/dev/null; then
    log "apt-get download $want"
    (cd "$DEBS" && apt-get download "$want") || {
      echo "make-testdata: 'apt-get download $want' failed; run 'apt-get update' (bookworm main) first" >&2
      exit 1
    }
  fi
  deb=$(ls "$DEBS/${pkg}"_*_all.deb | sort | tail -n 1)
  PKGVER[$pkg]=$(dpkg-deb -f "$deb" Version)
  log "extract $(basename "$deb")"
  mkdir -p "$WORK/x/$pkg"
  dpkg-deb -x "$deb" "$WORK/x/$pkg"
done

X=$WORK/x
mkdir -p "$WORK/src"
# ufoai ships its music inside a zip (pk3); pull out only what we need.
for f in PsymongO4.ogg alBasrahM.ogg; do
  unzip -p "$X/ufoai-music/usr/share/games/ufoai/base/0music.pk3" "music/$f" >"$WORK/src/ufoai-$f"
done

# --------------------------------------------------------------------------
# 2. Source songs.  key|package|path of the original file|author|licence|title|sha256
#    Catalogue keys are the catalogue track ids (path relative to testdata/catalogue).
# --------------------------------------------------------------------------
WES=usr/share/games/wesnoth/1.16/data/core/music
HR=usr/share/hyperrogue/music
SING=usr/share/games/singularity/music
SOURCES=(
  "wesnoth/battle.ogg|wesnoth-1.16-music|/$WES/battle.ogg|Aleksi Aubry-Carlson|GPL-2+|Battle Music|2f944dc8c1caed80595e51c39733cac39d2ba6ddd28a19d689b79a50d55c77f7"
  "wesnoth/deep-path.ogg|wesnoth-1.16-music|/$WES/the_deep_path.ogg|Gianmarco Leone|GPL-2+|The Deep Path|afaf83459ba52ddfb0294e4ce8ddb7dc1cf9c3d3630c6c74a24322526119c00a"
  "wesnoth/siege.ogg|wesnoth-1.16-music|/$WES/siege_of_laurelmor.ogg|Doug Kaufman|GPL-2+|Siege of Laurelmor|761bcde3cf5afe5cdff8dde680891219c32588f3d800b210ed55b49bf83d2a86"
  "ufoai/psymong.mp3|ufoai-music|/usr/share/games/ufoai/base/0music.pk3!music/PsymongO4.ogg|Simon Green (Psymong)|GPL-2|PsymongO4|a3ceb94a2dd80ffb6adda207847fe7df9f2456f7e47e3d72739c7c821a179729"
  "ufoai/basrah.mp3|ufoai-music|/usr/share/games/ufoai/base/0music.pk3!music/alBasrahM.ogg|Independent.nu / Golgotha|public-domain|alBasrahM|00e0c2d33c5ceb8a0f98931b665f900586c8df76fc516b121cd2e6af5ade9df4"
  "nic/desert|hyperrogue-music|/$HR/hr3-desert.ogg|Shawn Parrotte|CC-BY-SA-3.0|Desert|2da1ca7ab6a5b37f2ccc32e9a22aa565c673f52fdfcdd65643ee0a36d367eeef"
  "nic/mountain|hyperrogue-music|/$HR/hr-domina-mountain.ogg|Lincoln Domina|CC-BY-SA-3.0|hr-domina-mountain|edbb2320a712317bd08a83fc287aad9d475ae9d2a91375493c76b77dd9125d1f"
  "nic/caves|hyperrogue-music|/$HR/hr3-caves.ogg|Shawn Parrotte|CC-BY-SA-3.0|Living Caves|62b7769d1ccfe1967e19c7db787f4997ffed2c40fe61c09ebb4becf725a751bb"
  "nic/nebula|singularity-music|/$SING/Nebula.ogg|Max McCracken (Maxstack)|CC-BY-SA-3.0|Nebula|b1afc8fe6a1025ffce4fd308b99e6c8cfa834fcfb74a72679afdda150959edfb"
)
CATALOGUE=(wesnoth/battle.ogg wesnoth/deep-path.ogg wesnoth/siege.ogg ufoai/psymong.mp3 ufoai/basrah.mp3)

EXCERPT_START=20   # seconds into each source song
EXCERPT_LEN=30     # seconds
MR=44100           # master excerpt sample rate (stereo, s16)

declare -A SRCFILE MASTER
for row in "${SOURCES[@]}"; do
  IFS='|' read -r key pkg path _author _lic _title sha <<<"$row"
  case $path in
    *'!'*) file="$WORK/src/ufoai-${path##*/}" ;;
    *) file="$X/$pkg$path" ;;
  esac
  got=$(sha256sum "$file" | cut -d' ' -f1)
  if [[ $got != "$sha" ]]; then
    if [[ -n ${EARMARK_SKIP_SHA:-} ]]; then
      log "WARNING: sha256 mismatch for $path (continuing, EARMARK_SKIP_SHA set)"
    else
      echo "make-testdata: sha256 mismatch for $pkg $path: $got (want $sha); set EARMARK_SKIP_SHA=1 to override" >&2
      exit 1
    fi
  fi
  SRCFILE[$key]=$file
done

FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
BX=(-map_metadata -1 -fflags +bitexact -flags:a +bitexact)

# The "source excerpt" of every song: 30 s from 20 s in, 44.1 kHz stereo PCM.
# Every catalogue file and every clip is derived from these masters, so all
# offsets in truth.tsv are relative to the excerpt (track_start 0 = 20 s into the song).
mkdir -p "$WORK/m"
for row in "${SOURCES[@]}"; do
  key=${row%%|*}
  m="$WORK/m/${key//\//_}.wav"
  # decode the head of the song with ffmpeg, then cut sample-exactly with sox
  "${FF[@]}" -i "${SRCFILE[$key]}" -vn -t $((EXCERPT_START + EXCERPT_LEN + 5)) \
    "${BX[@]}" -ac 2 -ar $MR -c:a pcm_s16le "$WORK/m/head.wav"
  sox -D "$WORK/m/head.wav" "$m" trim "$((EXCERPT_START * MR))s" "$((EXCERPT_LEN * MR))s"
  n=$(sox --i -s "$m")
  [[ $n -eq $((EXCERPT_LEN * MR)) ]] || { echo "make-testdata: master $key has $n samples" >&2; exit 1; }
  MASTER[$key]=$m
done

# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
# slice KEY OFFSET DURATION OUT.wav  -- sample-exact slice of a master excerpt
slice() {
  local s n
  s=$(awk -v o="$2" -v r=$MR 'BEGIN{printf "%d", o*r + 0.5}')
  n=$(awk -v d="$3" -v r=$MR 'BEGIN{printf "%d", d*r + 0.5}')
  sox -D "${MASTER[$1]}" "$4" trim "${s}s" "${n}s"
}
# enc IN OUT ffmpeg-output-args...
enc() {
  local in=$1 out=$2; shift 2
  "${FF[@]}" -i "$in" "${BX[@]}" "$@" "$out"
}
# rms_db FILE -> overall RMS level in dBFS (sox stats)
rms_db() { sox "$1" -n stats 2>&1 | awk '/^RMS lev dB/{print $4}'; }
fmt() { awk -v x="$1" 'BEGIN{printf "%.3f", x}'; }

TRUTH_ROWS=()
# truth ITEM MEMBER TRACK ITEM_START TRACK_START DURATION DEGRADATION
truth() {
  local a=$1 b=$2 c=$3 d=$4 e=$5 f=$6 g=$7
  [[ -n $d ]] && d=$(fmt "$d")
  [[ -n $e ]] && e=$(fmt "$e")
  [[ -n $f ]] && f=$(fmt "$f")
  TRUTH_ROWS+=("$a"$'\t'"$b"$'\t'"$c"$'\t'"$d"$'\t'"$e"$'\t'"$f"$'\t'"$g")
}
declare -A NOTE   # item -> human description for README
T=$WORK/t; mkdir -p "$T"

# --------------------------------------------------------------------------
# 3. Catalogue (30 s excerpts, mono 22050 Hz)
# --------------------------------------------------------------------------
rm -rf "$CAT" "$DUMP"
mkdir -p "$CAT/wesnoth" "$CAT/ufoai" "$DUMP/broken"
log "catalogue"
: >"$TD/catalogue-ids.tsv"
i=0
for id in "${CATALOGUE[@]}"; do
  i=$((i + 1))
  case $id in
    *.ogg) enc "${MASTER[$id]}" "$CAT/$id" -ac 1 -ar 22050 -c:a libvorbis -q:a 2 ;;
    *.mp3) enc "${MASTER[$id]}" "$CAT/$id" -ac 1 -ar 22050 -c:a libmp3lame -b:a 64k ;;
  esac
  printf '%s\tXX-EAR-26-%05d\n' "$id" "$i" >>"$TD/catalogue-ids.tsv"
done

# --------------------------------------------------------------------------
# 4. Dump: single clips
# --------------------------------------------------------------------------
log "dump clips"
# clip ITEM TRACK OFFSET DURATION DEGRADATION ffmpeg-args...
clip() {
  local item=$1 track=$2 off=$3 dur=$4 deg=$5; shift 5
  slice "$track" "$off" "$dur" "$T/cut.wav"
  enc "$T/cut.wav" "$DUMP/$item" "$@"
  truth "$item" "" "$track" 0 "$off" "$dur" "$deg"
}
clip clip-mp3.mp3    wesnoth/battle.ogg     3.0   10 mp3-128k     -ac 2 -ar 44100 -c:a libmp3lame -b:a 128k
clip clip-aac.m4a    ufoai/psymong.mp3      7.5   10 aac-96k      -ac 2 -ar 44100 -c:a aac -b:a 96k
clip clip-alac.m4a   wesnoth/deep-path.ogg  12.0  6  alac-16k     -ac 1 -ar 16000 -c:a alac
clip clip-flac.flac  ufoai/basrah.mp3       15.5  6  flac-16k     -ac 1 -ar 16000 -sample_fmt s16 -c:a flac
clip clip-vorbis.ogg wesnoth/siege.ogg      4.25  10 vorbis-q0    -ac 1 -ar 22050 -c:a libvorbis -q:a 0
clip clip-wav.wav    wesnoth/deep-path.ogg  18.75 6  pcm-11k      -ac 1 -ar 11025 -c:a pcm_s16le
clip clip-aiff.aiff  wesnoth/siege.ogg      21.5  6  aiff-11k     -ac 1 -ar 11025 -c:a pcm_s16be
clip clip-caf.caf    ufoai/psymong.mp3      1.25  6  caf-pcm-11k  -ac 1 -ar 11025 -c:a pcm_s16le -f caf
clip clip-opus.opus  ufoai/basrah.mp3       9.5   10 opus-32k     -ac 1 -ar 48000 -c:a libopus -b:a 32k -f opus
clip clip-opus.webm  wesnoth/battle.ogg     16.25 10 opus-48k     -ac 1 -ar 48000 -c:a libopus -b:a 48k -f webm
clip clip-vorbis.mkv ufoai/psymong.mp3      19.0  10 vorbis-mkv   -ac 1 -ar 22050 -c:a libvorbis -q:a 1 -f matroska
# Ogg Vorbis content behind an .mp3 name.
clip wrong-extension.mp3 ufoai/basrah.mp3   2.5   8  vorbis-as-mp3 -ac 1 -ar 22050 -c:a libvorbis -q:a 1 -f ogg

# clip-noisy.mp3: pink noise (fixed seed) at 10 dB SNR, MP3 64k mono.
NOISY_TRACK=wesnoth/deep-path.ogg NOISY_OFF=5.5
slice "$NOISY_TRACK" "$NOISY_OFF" 10 "$T/cut.wav"
sox -D "$T/cut.wav" -r 22050 -c 1 "$T/music.wav"
"${FF[@]}" -f lavfi -i "anoisesrc=color=pink:seed=20260101:sample_rate=22050:amplitude=0.5:duration=10" \
  "${BX[@]}" -ac 1 -c:a pcm_s16le "$T/noise.wav"
music_db=$(rms_db "$T/music.wav"); noise_db=$(rms_db "$T/noise.wav")
noise_gain=$(awk -v m="$music_db" -v n="$noise_db" 'BEGIN{printf "%.6f", 10^((m - 10 - n)/20)}')
sox -D -m -v 0.5 "$T/music.wav" -v "$(awk -v g="$noise_gain" 'BEGIN{printf "%.6f", g/2}')" "$T/noise.wav" "$T/mix.wav" gain -n -1
enc "$T/mix.wav" "$DUMP/clip-noisy.mp3" -ac 1 -ar 22050 -c:a libmp3lame -b:a 64k
truth clip-noisy.mp3 "" "$NOISY_TRACK" 0 "$NOISY_OFF" 10 noise-10db

# clip-quiet-speech.m4a: espeak-ng speech mixed in at -6 dB (RMS) below the music, AAC 64k mono.
SPEECH_TRACK=wesnoth/siege.ogg SPEECH_OFF=11.75
SPEECH_TEXT="This is a test of the earmark fingerprint scanner. The music underneath should still be found, even though somebody keeps talking over it for the whole ten seconds."
slice "$SPEECH_TRACK" "$SPEECH_OFF" 10 "$T/cut.wav"
sox -D "$T/cut.wav" -r 44100 -c 1 "$T/music.wav"
espeak-ng -v en-us -s 165 -w "$T/speech-raw.wav" "$SPEECH_TEXT"
sox -D "$T/speech-raw.wav" -r 44100 -c 1 -b 16 "$T/speech.wav"
music_db=$(rms_db "$T/music.wav"); speech_db=$(rms_db "$T/speech.wav")
speech_gain=$(awk -v m="$music_db" -v s="$speech_db" 'BEGIN{printf "%.6f", 10^((m - 6 - s)/20)}')
# 0.3 s of silence, the speech, then silence up to exactly 10 s
sp_n=$(sox --i -s "$T/speech.wav")
sp_tail=$((10 * 44100 - 13230 - sp_n)); [[ $sp_tail -ge 0 ]] || sp_tail=0
sox -D "$T/speech.wav" "$T/speech10.wav" pad 13230s "${sp_tail}s" trim 0s 441000s
sox -D -m -v 0.5 "$T/music.wav" -v "$(awk -v g="$speech_gain" 'BEGIN{printf "%.6f", g/2}')" "$T/speech10.wav" "$T/mix.wav" gain -n -1
enc "$T/mix.wav" "$DUMP/clip-quiet-speech.m4a" -ac 1 -ar 44100 -c:a aac -b:a 64k
truth clip-quiet-speech.m4a "" "$SPEECH_TRACK" 0 "$SPEECH_OFF" 10 speech-6db

# medley.mp3: 8 s catalogue A | 8 s not-in-catalogue | 8 s catalogue B, plain concatenation, MP3 96k.
MA_TRACK=wesnoth/battle.ogg MA_OFF=20.5
MB_TRACK=ufoai/basrah.mp3  MB_OFF=13.25
MN_SRC=nic/nebula MN_OFF=4.0
slice "$MA_TRACK" "$MA_OFF" 8 "$T/a.wav"
slice "$MN_SRC"   "$MN_OFF" 8 "$T/n.wav"
slice "$MB_TRACK" "$MB_OFF" 8 "$T/b.wav"
sox -D "$T/a.wav" "$T/n.wav" "$T/b.wav" "$T/medley.wav"
enc "$T/medley.wav" "$DUMP/medley.mp3" -ac 1 -ar 44100 -c:a libmp3lame -b:a 96k
truth medley.mp3 "" "$MA_TRACK" 0 "$MA_OFF" 8 medley-mp3-96k
truth medley.mp3 "" "$MB_TRACK" 16 "$MB_OFF" 8 medley-mp3-96k

# not-in-catalogue.mp3: 15 s of a song that is not in the catalogue.
slice nic/desert 0 15 "$T/cut.wav"
enc "$T/cut.wav" "$DUMP/not-in-catalogue.mp3" -ac 1 -ar 44100 -c:a libmp3lame -b:a 96k
truth not-in-catalogue.mp3 "" "" 0 "" 15 not-in-catalogue

# --------------------------------------------------------------------------
# 5. Dump: archives
# --------------------------------------------------------------------------
log "archives"
json() { printf '{"url": "https://example.invalid/dump/%s", "key": "%s"}\n' "$2" "$1"; }
mktar() { # mktar DIR OUT.tar  (members = sorted file names in DIR)
  local dir=$1 out=$2
  find "$dir" -type f -exec touch -d @0 {} +
  (cd "$dir" && ls | sort | tar --format=ustar --mtime=@0 --owner=0 --group=0 --numeric-owner \
     --mode=u=rw,go=r --no-recursion -cf "$out" -T -)
}

# shard-000000.tar
S=$T/shard0; mkdir -p "$S"
slice wesnoth/siege.ogg 17.0 8 "$T/cut.wav"
enc "$T/cut.wav" "$S/000000.mp3" -ac 1 -ar 22050 -c:a libmp3lame -b:a 64k
json 000000 000000.mp3 >"$S/000000.json"
slice ufoai/psymong.mp3 10.5 8 "$T/cut.wav"
enc "$T/cut.wav" "$S/000001.opus" -ac 1 -ar 48000 -c:a libopus -b:a 32k -f opus
json 000001 000001.opus >"$S/000001.json"
slice nic/caves 0 8 "$T/cut.wav"
enc "$T/cut.wav" "$S/000002.m4a" -ac 1 -ar 44100 -c:a aac -b:a 64k
json 000002 000002.m4a >"$S/000002.json"
mktar "$S" "$DUMP/shard-000000.tar"
truth shard-000000.tar 000000.mp3  wesnoth/siege.ogg 0 17.0 8 mp3-64k-22k
truth shard-000000.tar 000001.opus ufoai/psymong.mp3 0 10.5 8 opus-32k
truth shard-000000.tar 000002.m4a  ""                0  ""  8 not-in-catalogue

# shard-000001.tar.gz
S=$T/shard1; mkdir -p "$S"
slice wesnoth/deep-path.ogg 8.25 8 "$T/cut.wav"
enc "$T/cut.wav" "$S/000003.webm" -ac 1 -ar 48000 -c:a libopus -b:a 40k -f webm
json 000003 000003.webm >"$S/000003.json"
slice ufoai/basrah.mp3 20.75 8 "$T/cut.wav"
enc "$T/cut.wav" "$S/000004.mp3" -ac 1 -ar 44100 -c:a libmp3lame -b:a 64k
json 000004 000004.mp3 >"$S/000004.json"
mktar "$S" "$T/shard-000001.tar"
gzip -9 -n <"$T/shard-000001.tar" >"$DUMP/shard-000001.tar.gz"
truth shard-000001.tar.gz 000003.webm wesnoth/deep-path.ogg 0 8.25 8 opus-40k-webm
truth shard-000001.tar.gz 000004.mp3  ufoai/basrah.mp3      0 20.75 8 mp3-64k

# fma-000.zip  (000123 stored, 000456 + 000789 deflated)
Z=$T/fma; mkdir -p "$Z/000"
slice wesnoth/battle.ogg 6.75 8 "$T/cut.wav"
enc "$T/cut.wav" "$Z/000/000123.mp3" -ac 1 -ar 44100 -c:a libmp3lame -b:a 64k
slice wesnoth/deep-path.ogg 21.25 8 "$T/cut.wav"
enc "$T/cut.wav" "$Z/000/000456.mp3" -ac 1 -ar 44100 -c:a libmp3lame -b:a 64k
slice nic/mountain 0 8 "$T/cut.wav"
enc "$T/cut.wav" "$Z/000/000789.mp3" -ac 1 -ar 44100 -c:a libmp3lame -b:a 64k
chmod 644 "$Z"/000/*.mp3
touch -d @946684800 "$Z"/000/*.mp3   # 2000-01-01T00:00:00Z (zip cannot store dates before 1980)
(cd "$Z" && zip -q -X -D -0 "$T/fma-000.zip" 000/000123.mp3 \
         && zip -q -X -D -9 "$T/fma-000.zip" 000/000456.mp3 000/000789.mp3)
cp "$T/fma-000.zip" "$DUMP/fma-000.zip"
truth fma-000.zip 000/000123.mp3 wesnoth/battle.ogg    0 6.75  8 mp3-64k-zip-stored
truth fma-000.zip 000/000456.mp3 wesnoth/deep-path.ogg 0 21.25 8 mp3-64k-zip-deflated
truth fma-000.zip 000/000789.mp3 ""                    0  ""   8 not-in-catalogue

# --------------------------------------------------------------------------
# 6. Dump: broken files
# --------------------------------------------------------------------------
log "broken"
TRUNC_TRACK=ufoai/psymong.mp3 TRUNC_OFF=14.5
slice "$TRUNC_TRACK" "$TRUNC_OFF" 10 "$T/cut.wav"
enc "$T/cut.wav" "$T/full.mp3" -ac 1 -ar 44100 -c:a libmp3lame -b:a 64k
full=$(stat -c %s "$T/full.mp3")
head -c $((full * 40 / 100)) "$T/full.mp3" >"$DUMP/broken/truncated.mp3"
: >"$DUMP/broken/empty.mp3"
# 4 KiB deterministic pseudo-random bytes: AES-128-CTR keystream with a fixed key.
head -c 4096 /dev/zero | openssl enc -aes-128-ctr -nosalt \
  -K 6561726d61726b2d676172626167652d -iv 00000000000000000000000000000000 >"$DUMP/broken/garbage.mp3"
printf 'this is not audio\n' >"$DUMP/broken/garbage.flac"
truth broken/truncated.mp3 "" ERROR "" "" "" truncated-40pct
truth broken/empty.mp3     "" ERROR "" "" "" empty
truth broken/garbage.mp3   "" ERROR "" "" "" random-bytes
truth broken/garbage.flac  "" ERROR "" "" "" text-not-audio

# --------------------------------------------------------------------------
# 7. truth.tsv
# --------------------------------------------------------------------------
{
  printf 'item\tmember\ttrack\titem_start\ttrack_start\tduration\tdegradation\n'
  printf '%s\n' "${TRUTH_ROWS[@]}"
} >"$TD/truth.tsv"

# --------------------------------------------------------------------------
# 8. Verify + summary
# --------------------------------------------------------------------------
log "verify"
probe() { # probe FILE -> "format codec rate ch duration" or fail
  ffprobe -v error -select_streams a:0 </dev/null \
    -show_entries format=format_name,duration:stream=codec_name,sample_rate,channels \
    -of default=nw=1 "$1" | awk -F= '
      {v[$1]=$2}
      END{ if (v["codec_name"]=="") exit 1;
           printf "%-22s %-10s %6s %2s %8.3f", v["format_name"], v["codec_name"], v["sample_rate"], v["channels"], v["duration"] }'
}
# decodes fully with ffmpeg, no errors
decodes() { ffmpeg -nostdin -v error -xerror -i "$1" -f null - >/dev/null 2>&1; }

SUMMARY=()
row() { SUMMARY+=("$(printf '%-44s %8s  %s' "$1" "$2" "$3")"); }
fail=0
check() { # check LABEL FILE
  local info
  if info=$(probe "$2") && decodes "$2"; then row "$1" "$(stat -c %s "$2")" "$info"
  else row "$1" "$(stat -c %s "$2")" "FAILED TO DECODE"; fail=1; fi
}
while IFS= read -r f; do
  rel=${f#"$TD"/}
  case $rel in
    dump/broken/*)
      info=$(probe "$f" 2>/dev/null) || info="(no audio stream found)"
      secs=$(ffmpeg -nostdin -v quiet -i "$f" -map 0:a:0 -f s16le -ac 1 -ar 8000 - 2>/dev/null | wc -c | awk '{printf "%.2f", $1/16000}') || secs=0.00
      info="$info; ffmpeg decodes ${secs} s"
      row "$rel" "$(stat -c %s "$f")" "$info" ;;
    *.tar|*.tar.gz)
      row "$rel" "$(stat -c %s "$f")" "archive"
      ex=$T/check/${rel//\//_}; mkdir -p "$ex"; tar -xf "$f" -C "$ex"
      for m in $(tar -tf "$f"); do
        case $m in *.json) row "  $m" "$(stat -c %s "$ex/$m")" "$(tr -d '\n' <"$ex/$m")" ;; *) check "  $m" "$ex/$m" ;; esac
      done ;;
    *.zip)
      row "$rel" "$(stat -c %s "$f")" "archive"
      ex=$T/check/${rel//\//_}; mkdir -p "$ex"; unzip -q "$f" -d "$ex"
      while read -r method m; do check "  $m ($method)" "$ex/$m"; done \
        < <(unzip -v "$f" | awk '$NF ~ /^000\// {print $2, $NF}')
      ;;
    *) check "$rel" "$f" ;;
  esac
done < <(find "$CAT" "$DUMP" -type f | sort)

# --------------------------------------------------------------------------
# 9. README.md
# --------------------------------------------------------------------------
src_field() { # src_field KEY N
  local row
  for row in "${SOURCES[@]}"; do
    [[ ${row%%|*} == "$1" ]] && { cut_field "$row" "$2"; return; }
  done
}
cut_field() { awk -F'|' -v n="$2" '{print $n}' <<<"$1"; }
{
cat <<'EOF'
# earmark test fixtures

**All audio in this directory consists of short excerpts of free music taken
from Debian packages** (Debian 12 "bookworm", `main`).  Licences of the
originals, which also apply to the excerpts derived from them:

* `wesnoth-1.16-music` (The Battle for Wesnoth): **GPL-2+** (debian/copyright;
  the files are also tagged `LICENSE=GPL`).
* `ufoai-music` (UFO: Alien Invasion): PsymongO4.ogg is **GPL-2**,
  alBasrahM.ogg is **public-domain** (debian/copyright).
* `hyperrogue-music` (HyperRogue): **CC-BY-SA-3.0**.
* `singularity-music` (Endgame: Singularity): **CC-BY-SA-3.0**.

The excerpts were cut, resampled, downmixed, re-encoded, mixed with noise or
synthetic speech (espeak-ng), or concatenated, as described below; they are
otherwise unmodified.  The complete originals (the "source" for the GPL
tracks) are in the Debian binary packages named below and in their Debian
source packages (`wesnoth-1.16`, `ufoai-music`, `hyperrogue`,
`singularity-music`).  Each segment of the medley keeps its own licence;
the WebDataset shards and the zip are collections of separately licensed clips.

## Rebuilding

    scripts/make-testdata.sh

The script downloads the four pinned packages with `apt-get download`
(about 480 MB, into a temporary directory; set `EARMARK_DEB_DIR` to keep them),
extracts them with `dpkg-deb -x`, checks the sha256 of every source song, and
rebuilds everything in `testdata/` (including this README, `truth.tsv` and
`catalogue-ids.tsv`) with ffmpeg, sox and espeak-ng. Output is byte-identical
when the same Debian 12 tool versions are used (all encoders run in bitexact
mode, the noise has a fixed seed, archives have fixed member order, owners and
timestamps).

## Sources

Every song is first cut to a **source excerpt**: 30 s starting 20 s into the
original, 44.1 kHz stereo.  All catalogue files and all dump clips are derived
from these excerpts; every time in `truth.tsv` (`track_start`) is measured in
seconds from the start of that excerpt, i.e. `track_start + 20` is the time in
the original song.

| key | package (version) | original file | title | author | licence | sha256 of original |
|---|---|---|---|---|---|---|
EOF
for row in "${SOURCES[@]}"; do
  IFS='|' read -r key pkg path author lic title sha <<<"$row"
  printf '| `%s` | %s (%s) | `%s` | %s | %s | %s | `%.12s…` |\n' \
    "$key" "$pkg" "${PKGVER[$pkg]}" "$path" "$title" "$author" "$lic" "$sha"
done
cat <<'EOF'

`nic/*` songs are **not in the catalogue**; they are used for negative
content.  `0music.pk3!music/X.ogg` means member `music/X.ogg` of the zip file
`0music.pk3`.  Authors: wesnoth authors are from the files' Vorbis comments
(`ARTIST`/`COPYRIGHT`); ufoai, hyperrogue and singularity authors from the
package's debian/copyright (for PsymongO4.ogg debian/copyright lists it in a
GPL-2 block whose copyright holders include "Simon Green (Psymong)"; for
alBasrahM.ogg in a public-domain block credited to "Independent.nu, Golgotha").

## Catalogue

`catalogue/` holds the five 30 s source excerpts, mono 22050 Hz
(wesnoth: Ogg Vorbis `-q:a 2`; ufoai: MP3 64 kbit/s).  The track id is the
path relative to `catalogue/`; `catalogue-ids.tsv` maps it to a fake ISRC.

| track id | fake ISRC | source |
|---|---|---|
EOF
while IFS=$'\t' read -r id isrc; do
  printf '| `%s` | %s | %s, %s |\n' "$id" "$isrc" "$(src_field "$id" 6)" "$(src_field "$id" 4)"
done <"$TD/catalogue-ids.tsv"
cat <<EOF

## Dump items and ground truth

\`truth.tsv\` (tab separated, header line) has one row per catalogue segment
present in a dump item: \`item\` (path relative to \`dump/\`), \`member\`
(path inside an archive, else empty), \`track\` (catalogue track id),
\`item_start\` (seconds into the item/member), \`track_start\` (seconds into
the 30 s excerpt), \`duration\` (seconds) and \`degradation\`.  Items or
members with no catalogue content have one row with an empty \`track\` and
\`track_start\` (\`item_start\` 0, \`duration\` = length of the item): a
scanner must report nothing for them.  Broken files have \`track = ERROR\`
and empty times.  The not-in-catalogue middle part of \`medley.mp3\`
(8-16 s) has no row.  Times are written with three decimals.

Times are exact at the PCM level before encoding.  Lossy encoders add
priming delay (MP3/AAC/Opus/Vorbis ~ 10-50 ms) that is signalled in the
containers (LAME/Xing header, MP4 edit list, Opus pre-skip); a decoder that
ignores it sees content shifted by that much, so compare times with a
tolerance of at least 0.1 s.

| item | member | content | format | degradation |
|---|---|---|---|---|
| \`clip-mp3.mp3\` | | battle 3.0–13.0 | MP3 128k stereo 44.1 kHz | mp3-128k |
| \`clip-aac.m4a\` | | psymong 7.5–17.5 | AAC-LC 96k stereo 44.1 kHz in M4A (ffmpeg aac) | aac-96k |
| \`clip-alac.m4a\` | | deep-path 12.0–18.0 | ALAC mono 16 kHz in M4A | alac-16k |
| \`clip-flac.flac\` | | basrah 15.5–21.5 | FLAC mono 16 kHz | flac-16k |
| \`clip-vorbis.ogg\` | | siege 4.25–14.25 | Ogg Vorbis q0 mono 22.05 kHz | vorbis-q0 |
| \`clip-wav.wav\` | | deep-path 18.75–24.75 | WAV PCM s16le mono 11025 Hz | pcm-11k |
| \`clip-aiff.aiff\` | | siege 21.5–27.5 | AIFF PCM s16be mono 11025 Hz | aiff-11k |
| \`clip-caf.caf\` | | psymong 1.25–7.25 | CAF PCM s16le mono 11025 Hz | caf-pcm-11k |
| \`clip-opus.opus\` | | basrah 9.5–19.5 | Ogg Opus 32k mono | opus-32k |
| \`clip-opus.webm\` | | battle 16.25–26.25 | Opus 48k mono in WebM | opus-48k |
| \`clip-vorbis.mkv\` | | psymong 19.0–29.0 | Vorbis q1 mono 22.05 kHz in Matroska | vorbis-mkv |
| \`clip-noisy.mp3\` | | deep-path 5.5–15.5 + pink noise (seed 20260101) at 10 dB SNR | MP3 64k mono 22.05 kHz | noise-10db |
| \`clip-quiet-speech.m4a\` | | siege 11.75–21.75 + espeak-ng speech (en-us) 6 dB below the music (RMS) | AAC 64k mono 44.1 kHz | speech-6db |
| \`wrong-extension.mp3\` | | basrah 2.5–10.5 | **Ogg Vorbis** (q1 mono 22.05 kHz) named .mp3 | vorbis-as-mp3 |
| \`medley.mp3\` | | 0–8 s battle 20.5–28.5; 8–16 s **not in catalogue** (nebula 4.0–12.0); 16–24 s basrah 13.25–21.25 (plain concatenation, 24 s) | MP3 96k mono 44.1 kHz | medley-mp3-96k |
| \`not-in-catalogue.mp3\` | | desert 0–15 (not in catalogue) | MP3 96k mono 44.1 kHz | not-in-catalogue |
| \`shard-000000.tar\` | \`000000.mp3\` | siege 17.0–25.0 | MP3 64k mono 22.05 kHz | mp3-64k-22k |
| | \`000001.opus\` | psymong 10.5–18.5 | Ogg Opus 32k mono | opus-32k |
| | \`000002.m4a\` | caves 0–8 (not in catalogue) | AAC 64k mono | not-in-catalogue |
| \`shard-000001.tar.gz\` | \`000003.webm\` | deep-path 8.25–16.25 | Opus 40k mono in WebM | opus-40k-webm |
| | \`000004.mp3\` | basrah 20.75–28.75 | MP3 64k mono 44.1 kHz | mp3-64k |
| \`fma-000.zip\` | \`000/000123.mp3\` (stored) | battle 6.75–14.75 | MP3 64k mono 44.1 kHz | mp3-64k-zip-stored |
| | \`000/000456.mp3\` (deflated) | deep-path 21.25–29.25 | MP3 64k mono 44.1 kHz | mp3-64k-zip-deflated |
| | \`000/000789.mp3\` (deflated) | mountain 0–8 (not in catalogue) | MP3 64k mono 44.1 kHz | not-in-catalogue |
| \`broken/truncated.mp3\` | | first 40 % of the bytes of an MP3 (64k mono) of psymong 14.5–24.5; the first ~4 s decode | truncated MP3 | truncated-40pct (ERROR) |
| \`broken/empty.mp3\` | | 0 bytes | — | empty (ERROR) |
| \`broken/garbage.mp3\` | | 4096 bytes of AES-128-CTR keystream (fixed key) | — | random-bytes (ERROR) |
| \`broken/garbage.flac\` | | the text "this is not audio" | — | text-not-audio (ERROR) |

Each \`shard-*.tar*\` is a WebDataset shard: for every key \`NNNNNN\` an
audio member and a \`NNNNNN.json\` of the form
\`{"url": "https://example.invalid/dump/NNNNNN.ext", "key": "NNNNNN"}\`.
\`fma-000.zip\` mimics the Free Music Archive layout (\`000/000123.mp3\`).

Short names above: battle = \`wesnoth/battle.ogg\`, deep-path =
\`wesnoth/deep-path.ogg\`, siege = \`wesnoth/siege.ogg\`, psymong =
\`ufoai/psymong.mp3\`, basrah = \`ufoai/basrah.mp3\`; desert, caves, mountain,
nebula = \`nic/*\` in the sources table.

## truth.tsv

\`\`\`
$(cat "$TD/truth.tsv")
\`\`\`

## Files

\`\`\`
$(printf '%s\n' "${SUMMARY[@]}")
\`\`\`
EOF
cat <<'EOF'

## Index fixtures

`index-v4.earmark` (34 KB) is `catalogue/` indexed by earmark with index format version 4, the
one it writes today (`earmark index testdata/catalogue -o testdata/index-v4.earmark --ids
testdata/catalogue-ids.tsv`), its track records holding each file's source check.
`index-v3.earmark` (29 KB) is the same written by format version 3, when the fourth peak was the
first zone peak after C (`fourth_peak` = 1 in its parameter block; today's builds keep the
strongest, 2), so it also keeps matching by hashes alone (version 3 stores no peaks) and the
older rule tested. `index-v2.earmark` is the same catalogue written by format version 2 (triplet
hashes without the fourth peak), kept so the tests check that an old index is refused by name.
None is rebuilt by this script: they stay as written, so the tests notice when a change to the
format or to the hashes would silently misread old indexes.

## Pinned answers

`dump-answers.jsonl` holds the item records (matches, errors, clean items) of `earmark scan
testdata/dump --index testdata/index-v4.earmark` as earmark gave them on 2026-12-07 (commit
3b6dc72), sorted. It is not rebuilt by this script: `tests/it/answers.rs` holds every scan to
it field for field, so a change that moves an answer fails there, while fields added to the
records pass.

## Files whose structure is off

`tolerant/` holds 5 s of `wesnoth/siege.ogg` in WAV, MP3 and FLAC files whose lengths, junk or
tags are off while their audio is intact; `scripts/make-tolerance-fixtures.sh` builds them and
`tolerant/README.md` lists them.
EOF
} >"$TD/README.md"

"$ROOT/scripts/make-tolerance-fixtures.sh"

# --------------------------------------------------------------------------
printf '\n%-44s %8s  %s\n' "file" "bytes" "format / codec / rate / ch / duration"
printf '%s\n' "${SUMMARY[@]}"
echo
du -sh "$TD"
echo "total bytes: $(find "$TD" -type f -printf '%s\n' | awk '{s+=$1} END{print s}')"
[[ -n ${EARMARK_KEEP_WORK:-} ]] && echo "work dir kept: $WORK"
if [[ $fail -ne 0 ]]; then echo "make-testdata: some fixtures failed to decode" >&2; exit 1; fi
