#!/usr/bin/env python3
"""A numpy model of earmark's peaks and triplets, for music under speech
(docs/decisions/0031-fine-peaks.md): which item peaks still hold a catalogue track's peaks, and which of the
index's triplets a query still forms.

    scripts/speech-peaks-model.py peaks BENCH_DIR       # the table of pickers
    scripts/speech-peaks-model.py triplets BENCH_DIR    # index triplets the query also forms

BENCH_DIR is a corpus built by scripts/bench-corpus.sh (CORPUS=third when fine peaks were chosen); the model
reads its truth-speech.tsv, queries/ and catalogue-src/. It follows earmark's rules (8 kHz, FFT
1024, hop 128, 125-3800 Hz, a peak is the maximum of its neighbourhood, the strongest few per
block of 64 frames, a triplet pairs the first zone peaks within 48 frames and 12 semitones) but
not its code: ffmpeg resamples, ties and interpolation differ, so its figures are for comparing
pickers with each other, not for the matcher's. Needs ffmpeg and python3-numpy.
"""
import csv
import math
import os
import subprocess
import sys

import numpy as np

RATE, FFT, HOP, BLOCK = 8000, 1024, 128, 64
BIN_HZ = RATE / FFT
LO, HI = math.ceil(125 / BIN_HZ), int(3800 // BIN_HZ) + 1
WINDOW = np.hanning(FFT + 1)[:FFT]
FLOOR = 1e-7 * (FFT / 4) ** 2  # -70 dB of a full-scale sine
TIME_TOL, PITCH_TOL = 2, 0.4  # the peak check's box: frames, semitones


def load(path, start=None, seconds=None):
    cmd = ['ffmpeg', '-nostdin', '-loglevel', 'error']
    if start is not None:
        cmd += ['-ss', str(start), '-t', str(seconds)]
    cmd += ['-i', path, '-ac', '1', '-ar', str(RATE), '-f', 'f32le', '-']
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype=np.float32)


def power(x):
    n = (len(x) - FFT) // HOP + 1
    frames = x[np.arange(FFT)[None, :] + HOP * np.arange(n)[:, None]]
    return np.abs(np.fft.rfft(frames * WINDOW, axis=1)) ** 2


def neighbourhood_max(p, rt, rf):
    m = p.copy()
    padded = np.pad(p, ((0, 0), (rf, rf)), constant_values=-1)
    for d in range(-rf, rf + 1):
        m = np.maximum(m, padded[:, rf + d:rf + d + p.shape[1]])
    padded = np.pad(m, ((rt, rt), (0, 0)), constant_values=-1)
    out = m.copy()
    for d in range(-rt, rt + 1):
        out = np.maximum(out, padded[rt + d:rt + d + p.shape[0], :])
    return out


def pick(p, per_second, rt=6, rf=10, score=None, floor=FLOOR):
    """Peaks as (frame, semitones above 125 Hz), sorted by frame: the maxima of +-rt frames x
    +-rf bins, the strongest `per_second` of each block by `score` (power by default)."""
    band = p[:, LO - 1:HI + 1]
    core = band[:, 1:-1]
    frame, b = np.nonzero((core >= neighbourhood_max(core, rt, rf)) & (core > floor))
    left, centre, right = (np.log(band[frame, b + k] + 1e-20) for k in (0, 1, 2))
    denom = left - 2 * centre + right
    safe = np.where(denom < -1e-9, denom, -1.0)
    offset = np.where(denom < -1e-9, np.clip(0.5 * (left - right) / safe, -0.5, 0.5), 0.0)
    strength = core[frame, b] if score is None else score[frame, b]
    per_block = max(1, round(per_second * BLOCK * HOP / RATE))
    keep = []
    for block in np.unique(frame // BLOCK):
        at = np.nonzero(frame // BLOCK == block)[0]
        keep.extend(at[np.argsort(-strength[at], kind='stable')][:per_block])
    keep = np.array(sorted(keep, key=lambda i: (frame[i], b[i])), dtype=int)
    semis = 12 * np.log2(np.maximum(b + LO + offset, 0.5) * BIN_HZ / 125)
    return np.stack([frame[keep].astype(float), semis[keep]], axis=1)


def heard(track, item, shift=0):
    """Track peaks (moved `shift` frames) within the item, and those an item peak hears."""
    frames = int(item[:, 0].max()) + 1 if len(item) else 0
    k = n = 0
    for f, s in track:
        f = int(f) + shift
        if 0 <= f < frames:
            n += 1
            k += bool(np.any((np.abs(item[:, 0] - f) <= TIME_TOL)
                             & (np.abs(item[:, 1] - s) <= PITCH_TOL)))
    return k, n


def tail(n, k, p):
    """-log10 of the binomial chance of k or more of n."""
    if k == 0:
        return 0.0
    t = sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1))
    return -math.log10(max(t, 1e-300))


def queries(bench):
    with open(os.path.join(bench, 'truth-speech.tsv')) as f:
        for row in csv.DictReader(f, delimiter='\t'):
            if row['track']:
                clean = load(os.path.join(bench, 'catalogue-src', row['track']),
                             float(row['offset']), 10.0)
                yield row['query'], power(clean), power(load(os.path.join(bench, row['query'])))


def whitened(p):
    return p / (np.median(p, axis=0, keepdims=True) + 1e-12)


PICKERS = [
    ('30/s (the dense layer\'s), +-6 x +-10', lambda p: pick(p, 30)),
    ('60/s, +-6 x +-10', lambda p: pick(p, 60)),
    ('45/s, +-3 x +-6', lambda p: pick(p, 45, 3, 6)),
    ('45/s, +-2 x +-3', lambda p: pick(p, 45, 2, 3)),
    ('30/s, ranked by power over its bin\'s median', lambda p: pick(p, 30, score=whitened(p)[:, LO:HI])),
    ('every local maximum, +-2 x +-3', lambda p: pick(p, 1000, 2, 3)),
]


def peaks_table(bench):
    """Per picker: the share of the track's peaks held, the chance share (the track's peaks
    moved 1-4 s, where the item holds other music) and the binomial evidence, averaged."""
    sums = np.zeros((len(PICKERS), 3))
    count = 0
    for _, clean, item in queries(bench):
        track = pick(clean, 10)
        for i, (_, picker) in enumerate(PICKERS):
            peaks = picker(item)
            k, n = heard(track, peaks)
            moved = [heard(track, peaks, s) for s in (-250, -180, -120, -60, 60, 120, 180, 250)]
            chance = max(sum(c[0] for c in moved) / max(1, sum(c[1] for c in moved)), 1e-3)
            sums[i] += (k / max(n, 1), chance, tail(n, k, chance))
        count += 1
    print('item peaks\tshare held\tchance share\tevidence')
    for (name, _), (share, chance, evidence) in zip(PICKERS, sums / count):
        print(f'{name}\t{share:.2f}\t{chance:.2f}\t{evidence:.1f}')


def triplets(peaks, fanout, fine=None, rule=None):
    """(a, b, c) index triplets: each anchor with pairs of its first `fanout` zone peaks; with
    `fine` (one flag per peak), only those `rule` accepts by their count of fine peaks."""
    out = []
    for a in range(len(peaks)):
        zone = []
        for j in range(a + 1, len(peaks)):
            if peaks[j, 0] > peaks[a, 0] + 48:
                break
            if peaks[j, 0] > peaks[a, 0] and abs(peaks[j, 1] - peaks[a, 1]) <= 12:
                zone.append(j)
                if len(zone) == fanout:
                    break
        for x, b in enumerate(zone):
            for c in zone[x + 1:]:
                if peaks[c, 0] > peaks[b, 0] and (
                        fine is None or rule(fine[a] + fine[b] + fine[c])):
                    out.append((a, b, c))
    return out


def formed(track, index_triplets, peaks, query_triplets, found):
    """Adds to `found` the index triplets whose three peaks the query holds as one triplet."""
    near = [set(np.nonzero((np.abs(peaks[:, 0] - f) <= TIME_TOL)
                           & (np.abs(peaks[:, 1] - s) <= PITCH_TOL))[0].tolist())
            for f, s in track]
    query = set(query_triplets)
    for k, (a, b, c) in enumerate(index_triplets):
        if k not in found and any((qa, qb, qc) in query
                                  for qa in near[a] for qb in near[b] for qc in near[c]):
            found.add(k)


LAYERS = [('any fine peak', lambda n: n >= 1, f) for f in (4, 5, 6)] + \
    [('exactly one fine peak', lambda n: n == 1, f) for f in (5, 6, 7, 8)]


def triplets_table(bench):
    today = 0
    totals = np.zeros((len(LAYERS), 2))
    count = 0
    for _, clean, item in queries(bench):
        track = pick(clean, 10)
        index = triplets(track, 3)
        core, dense = pick(item, 15), pick(item, 30)
        found = set()
        formed(track, index, core, triplets(core, 5), found)
        formed(track, index, dense, triplets(dense, 4), found)
        today += len(found)
        ordinary = {(f, round(s, 4)) for f, s in dense.tolist()}
        merged = sorted([(f, s, 0) for f, s in dense.tolist()]
                        + [(f, s, 1) for f, s in pick(item, 45, 2, 3).tolist()
                           if (f, round(s, 4)) not in ordinary])
        peaks = np.array([(f, s) for f, s, _ in merged])
        fine = [k for _, _, k in merged]
        for i, (_, rule, fanout) in enumerate(LAYERS):
            more = set(found)
            added = triplets(peaks, fanout, fine, rule)
            formed(track, index, peaks, added, more)
            totals[i] += (len(more), len(added))
        count += 1
    print(f'today\'s core and dense layers\t{today}')
    for (name, _, fanout), (total, added) in zip(LAYERS, totals):
        print(f'+ triplets holding {name}, fan-out {fanout}\t{int(total)}\t'
              f'{added / count:.0f} more triplets per query')


if __name__ == '__main__':
    if len(sys.argv) != 3 or sys.argv[1] not in ('peaks', 'triplets'):
        sys.exit(__doc__)
    (peaks_table if sys.argv[1] == 'peaks' else triplets_table)(sys.argv[2])
