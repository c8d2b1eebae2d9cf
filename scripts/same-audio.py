#!/usr/bin/env python3
"""Checks `earmark eval`'s wrong and misplaced answers against the audio itself.

A catalogue can hold one passage twice: two cuts of one piece, two tracks built on one loop, a
long track that loops its theme. An answer naming the other copy is then counted wrong (or
misplaced) by the ground truth, which names one place only. This script settles each such
answer without earmark: it decodes 6 s of the expected track at the expected offset and 6 s
(plus the search margin) of the answered track at the answered place, both from where the
answer's matched stretch of the item begins, with ffmpeg at 8 kHz mono, and takes the largest
normalised cross-correlation of the waveforms within +-LAG seconds. Passages that are the same
recording correlate at 0.5-1.0; unrelated music gives about 0.05, and the same piece played
again with other notes or instruments stays below 0.5 (0.1-0.35 measured). The answered places
are the answer's best place (track_start - item_start * speed) and the `offset` column of
`--answers` (its place nearest the expected offset, repeats included); the better one counts.

    scripts/same-audio.py OUT_DIR [ANSWERS [TRUTH]]

OUT_DIR is a directory of scripts/bench-corpus.sh (its tracks-in.tsv gives the tracks' files);
ANSWERS (`earmark eval --answers`) and TRUTH default to OUT_DIR/answers.tsv and OUT_DIR/truth.tsv
(scripts/bench-at-scale.sh leaves its answers under OUT_DIR/scale-POSTINGS/).

Prints each checked answer with its correlation, then the eval's table again with answers on
the same audio counted right (and not wrong). Needs python3-numpy and ffmpeg.
"""
import csv
import subprocess
import sys
from collections import defaultdict

import numpy as np

RATE = 8000
SECONDS = 6.0
LAG = 1.5
SAME = 0.5


def load(path, start, seconds):
    raw = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-ss", f"{max(start, 0):.3f}", "-t",
         f"{seconds:.3f}", "-i", path, "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
        capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.float32)


def correlation(a_path, a_at, b_path, b_at, into=0.0):
    """Largest |normalised cross-correlation| of a's passage within b's, over +-LAG s, `into`
    seconds (of track time) after the item's start: where the answer's matched stretch begins."""
    # A place before the track's start (a whole song answered at a later repeat) compares the
    # first moment both places hold.
    shift = max(into, -a_at, -b_at)
    a_at, b_at = a_at + shift, b_at + shift
    a = load(a_path, a_at + 1.0, SECONDS)
    b = load(b_path, b_at + 1.0 - LAG, SECONDS + 2 * LAG)
    n = len(a)
    if n < RATE or len(b) < n or not np.any(a):
        return 0.0
    size = 1 << int(np.ceil(np.log2(len(a) + len(b))))
    xc = np.fft.irfft(np.conj(np.fft.rfft(a, size)) * np.fft.rfft(b, size), size)[: len(b) - n + 1]
    energy = np.sqrt(np.maximum(np.convolve(b.astype(np.float64) ** 2, np.ones(n), "valid"), 0))
    c = np.abs(xc) / (np.linalg.norm(a) * energy + 1e-9)
    return float(c.max())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "bench-corpus"
    answers = sys.argv[2] if len(sys.argv) > 2 else f"{out}/answers.tsv"
    truth_path = sys.argv[3] if len(sys.argv) > 3 else f"{out}/truth.tsv"
    paths = {}
    with open(f"{out}/tracks-in.tsv") as f:
        for row in csv.reader(f, delimiter="\t"):
            paths[row[0]] = row[1]
    truth = {}
    with open(truth_path) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            truth[row["query"]] = row
    verdicts = defaultdict(list)  # query -> verdicts after the check
    with open(answers) as f:
        for a in csv.DictReader(f, delimiter="\t"):
            v = a["verdict"]
            if v in ("wrong", "misplaced") and a["track"] in paths:
                into = float(a["item_start"]) * float(a["speed"])
                best = float(a["track_start"]) - into
                c, at = max((correlation(paths[a["expected_track"]], float(a["expected_offset"]),
                                         paths[a["track"]], at, into), at)
                            for at in {best, float(a["offset"])})
                same = c >= SAME
                print(f"{v:9} corr {c:.3f} {'same audio' if same else 'other audio':11} "
                      f"{a['query']} -> {a['track']} at {at:.1f} s "
                      f"(expected {a['expected_track']} at {a['expected_offset']} s)")
                if same:
                    v = "right"
            verdicts[a["query"]].append(v)

    rows = defaultdict(lambda: [0, 0, 0, 0, 0])  # queries, in catalogue, right, wrong, fp
    for q, t in truth.items():
        vs = verdicts.get(q, [])
        for key in (t["degradation"], "(all)"):
            r = rows[key]
            r[0] += 1
            if t["track"]:
                r[1] += 1
                r[2] += "right" in vs
                r[3] += "wrong" in vs
            else:
                r[4] += bool(vs)
    print(f"\n{'degradation':28} {'queries':>7} {'recall':>8} {'wrong':>6} {'FP':>6}"
          "   (answers on the same audio counted right)")
    for key in sorted(rows, key=lambda k: (k == "(all)", k)):
        n, inside, right, wrong, fp = rows[key]
        recall = f"{100 * right / inside:.1f}%" if inside else "-"
        print(f"{key:28} {n:7} {recall:>8} {wrong:6} {fp:6}")


if __name__ == "__main__":
    main()
