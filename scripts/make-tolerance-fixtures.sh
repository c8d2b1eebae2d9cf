#!/usr/bin/env bash
# Builds testdata/tolerant/: the same 5 s of a catalogue track (wesnoth/siege.ogg, 5-10 s) in
# files whose structure is off in the ways real dumps are, though their audio is intact and
# ffmpeg plays it. tests/it/tolerance.rs holds earmark to finding the track in each.
#
#   scripts/make-tolerance-fixtures.sh      (needs ffmpeg and python3; about 0.5 MB out)
#
# The bytes are edited with python3; the audio comes from ffmpeg in bitexact mode, so the
# output is byte-identical with the same ffmpeg version.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=testdata/tolerant
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$OUT"
FF=(ffmpeg -nostdin -hide_banner -loglevel error -y)
SRC=testdata/catalogue/wesnoth/siege.ogg

"${FF[@]}" -ss 5 -t 5 -i "$SRC" -ac 1 -ar 8000 -c:a pcm_s16le -fflags +bitexact \
  -flags:a +bitexact -map_metadata -1 "$WORK/clip.wav"
"${FF[@]}" -ss 5 -t 5 -i "$SRC" -ac 1 -ar 22050 -c:a libmp3lame -b:a 64k -write_xing 0 \
  -id3v2_version 0 -fflags +bitexact -flags:a +bitexact -map_metadata -1 "$WORK/clip.mp3"
"${FF[@]}" -ss 5 -t 5 -i "$SRC" -ac 1 -ar 8000 -sample_fmt s16 -c:a flac -fflags +bitexact \
  -flags:a +bitexact -map_metadata -1 "$WORK/clip.flac"

python3 - "$WORK" "$OUT" <<'EOF'
import random, struct, sys
work, out = sys.argv[1], sys.argv[2]
read = lambda name: open(f"{work}/{name}", "rb").read()
wav, mp3, flac = read("clip.wav"), read("clip.mp3"), read("clip.flac")
junk = random.Random(20261207).randbytes(2000)

def id3(size):
    """An ID3v2.3 tag of `size` bytes holding one title frame."""
    body = b"TIT2" + struct.pack(">I", size - 20) + b"\0\0\0" + b"t" * (size - 21)
    n = len(body)
    return b"ID3\x03\0\0" + bytes([n >> 21 & 127, n >> 14 & 127, n >> 7 & 127, n & 127]) + body

# The WAV's own fmt chunk and samples, re-wrapped with the sizes to test.
i, chunks = 12, {}
while i + 8 <= len(wav):
    cid, n = wav[i:i + 4], struct.unpack("<I", wav[i + 4:i + 8])[0]
    chunks[cid] = wav[i + 8:i + 8 + n]
    i += 8 + n + (n & 1)
fmt = b"fmt " + struct.pack("<I", len(chunks[b"fmt "])) + chunks[b"fmt "]
pcm = chunks[b"data"]

def riff(body, riff_size=None, data_size=None, after=b""):
    data = b"data" + struct.pack("<I", len(pcm) if data_size is None else data_size) + pcm
    whole = b"WAVE" + body + data + after
    size = len(whole) if riff_size is None else riff_size
    return b"RIFF" + struct.pack("<I", size) + whole

files = {
    # The data chunk runs 4 bytes past what RIFF claims (solarwolf's vaauw.wav).
    "wav-data-past-riff.wav": riff(fmt, riff_size=4 + len(fmt) + 8 + len(pcm) - 4),
    # A recorder that never went back to fill in the sizes.
    "wav-sizes-zero.wav": riff(fmt, riff_size=0, data_size=0),
    "wav-sizes-unknown.wav": riff(fmt, riff_size=0xFFFFFFFF, data_size=0xFFFFFFFF),
    # A LIST chunk after the audio that claims more bytes than the file holds.
    "wav-list-past-end.wav": riff(fmt, after=b"LIST" + struct.pack("<I", 5000) + b"INFOISFT"),
    "mp3-trailing-junk.mp3": mp3 + junk,
    "mp3-leading-junk.mp3": junk[:700] + mp3,
    "mp3-id3-at-end.mp3": mp3 + id3(300) + b"TAG" + b"\0" * 125,
    "mp3-two-id3-tags.mp3": id3(200) + id3(400) + mp3,
    "flac-id3-first.flac": id3(400) + flac,
}
for name, data in files.items():
    open(f"{out}/{name}", "wb").write(data)
EOF

cat >"$OUT/README.md" <<'EOF'
# Files whose structure is off, with intact audio

Built by `scripts/make-tolerance-fixtures.sh` from `testdata/catalogue/wesnoth/siege.ogg`
(The Battle for Wesnoth, "Siege of Laurelmor" by Doug Kaufman, **GPL-2+**; see
`testdata/README.md`): seconds 5-10 of it, mono, as 16-bit WAV at 8 kHz, MP3 at 64 kbit/s
and 22.05 kHz, and FLAC at 8 kHz, then edited byte by byte. ffmpeg plays every one of them;
`tests/it/tolerance.rs` holds earmark to finding siege at 5 s in each.

| file | what is off |
|---|---|
| `wav-data-past-riff.wav` | the `data` chunk runs 4 bytes past the RIFF size (as in solarwolf's `vaauw.wav`) |
| `wav-sizes-zero.wav` | RIFF and `data` sizes 0, as a streaming writer leaves them |
| `wav-sizes-unknown.wav` | RIFF and `data` sizes `0xFFFFFFFF` ("unknown") |
| `wav-list-past-end.wav` | a `LIST` chunk after the audio claims 5000 bytes the file does not hold |
| `mp3-trailing-junk.mp3` | 2000 random bytes after the last frame |
| `mp3-leading-junk.mp3` | 700 random bytes before the first frame |
| `mp3-id3-at-end.mp3` | an ID3v2 tag and an ID3v1 tag after the audio |
| `mp3-two-id3-tags.mp3` | two ID3v2 tags before the audio |
| `flac-id3-first.flac` | an ID3v2 tag before the `fLaC` marker |
EOF
ls -l "$OUT"
