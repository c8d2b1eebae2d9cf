#!/usr/bin/env bash
# Opens the demo's report in a real browser (headless Chromium) and checks it as a reader sees it.
#
#   scripts/test-report-browser.sh [SHOTS_DIR]    # from anywhere; Debian with Rust
#
# Builds the release binary, runs `earmark demo --report` into a temporary folder, then
# scripts/report-in-browser.py opens every page: any console error or warning, script exception,
# resource that did not load, broken link or anchor, or claim whose alignment plot does not hold
# the landmark pairs that the scan's records give it fails the run. The overview and the first
# track page are saved as screenshots (the track page also as PDF, as a reader would print it)
# into SHOTS_DIR (default: report-shots/ in the temporary folder, which is then kept).
# Installs chromium with apt-get when it is missing and this runs as root; otherwise says so and
# fails. EARMARK=<binary> skips the build. Not part of `cargo test`, which checks the pages'
# HTML and the claims CSV without a browser.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
    [ "$(id -u)" -eq 0 ] || die "chromium is not installed: sudo apt-get install chromium"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
fi

earmark=${EARMARK:-}
if [ -z "$earmark" ]; then
    cargo build --release --quiet
    earmark=target/release/earmark
fi

work=$(mktemp -d)
shots=${1:-$work/report-shots}
"$earmark" demo --report "$work/report" >/dev/null
python3 scripts/report-in-browser.py "$work/report" "$work/report/demo-matches.jsonl" "$shots"
if [ -z "${1:-}" ]; then
    echo "report and screenshots kept in $work"
else
    rm -rf "$work"
fi
