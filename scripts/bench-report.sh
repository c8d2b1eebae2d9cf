#!/usr/bin/env bash
# Times `earmark report` on a scan the size of a real dump: 10^6 items, 10^5 matches.
#
#   scripts/bench-report.sh [ITEMS] [MATCHES] [TRACKS]    # defaults 1000000 100000 10000
#
# The records are the demo's real ones, repeated: the demo's scan of testdata/dump gives the
# match records (with their alignments) and a clean record; they are copied under new item
# names, the matches spread over TRACKS track ids (Zipf-like: a few tracks in many items, as a
# catalogue's hits are), with a provenance record first and a summary last. Prints the wall
# time and peak memory of writing the site and the claims CSV, the pages written and the
# largest page. EARMARK=<binary> skips the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-1000000}
matches=${2:-100000}
tracks=${3:-10000}

earmark=${EARMARK:-}
if [ -z "$earmark" ]; then
    cargo build --release --quiet
    earmark=target/release/earmark
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$earmark" demo --report "$work/demo" >/dev/null 2>&1
python3 - "$work/demo/demo-matches.jsonl" "$work/scan.jsonl" "$items" "$matches" "$tracks" <<'EOF'
import json, random, sys
source, out, items, matches, tracks = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:])
records = [json.loads(l) for l in open(source)]
provenance = next(r for r in records if "provenance" in r)
summary = next(r for r in records if "summary" in r)
found = [r for r in records if "track" in r]
clean = next(r for r in records if r.get("clean"))
rng = random.Random(7)
with open(out, "w") as f:
    f.write(json.dumps(provenance) + "\n")
    for n in range(items):
        name = f"dump/{n // 1000:04d}/{n:07d}.mp3"
        if n % (items // matches) == 0:
            r = dict(rng.choice(found))
            r["track"] = f"catalogue/{int(tracks ** rng.random()) - 1:05d}.mp3"
            r.pop("member", None)
        else:
            r = dict(clean)
            r.pop("member", None)
        r["item"] = name
        f.write(json.dumps(r, separators=(",", ":")) + "\n")
    s = summary["summary"]
    s.update(items=items, matches=matches, items_with_matches=matches, failed={}, warnings={},
             skipped={}, not_audio_extensions={})
    f.write(json.dumps(summary) + "\n")
EOF
printf 'records: %s lines, %s MB\n' "$(wc -l <"$work/scan.jsonl")" \
    "$(($(stat -c %s "$work/scan.jsonl") / 1000000))"
/usr/bin/time -f 'wall %e s, peak RSS %M KB' \
    "$earmark" report "$work/scan.jsonl" -o "$work/site" --claims "$work/claims.csv"
printf 'pages: %s, %s MB in all; the largest %s KB; claims CSV %s rows\n' \
    "$(find "$work/site" -name '*.html' | wc -l)" \
    "$(du -sm "$work/site" | cut -f1)" \
    "$(($(find "$work/site" -name '*.html' -printf '%s\n' | sort -n | tail -1) / 1000))" \
    "$(($(wc -l <"$work/claims.csv") - 1))"
