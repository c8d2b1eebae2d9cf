//! The peak check: a candidate match, a line from hashes, is mapped onto the catalogue track's
//! stored peaks, and the track's peaks that the query holds at the mapped time and pitch are
//! weighed against what a recording unrelated to the track would hold there: each heard peak by
//! how rarely the item's own peaks in its pitch row would put one there by chance (`Term`),
//! and the total by a bound on the chance of so much (`log_chance`).
//!
//! Why: hashes need three or four of the track's peaks to survive together, in the right cells,
//! so a pitch-shifted, echoed or noisy copy can leave only a few hashes on its true line, no
//! more than chance lines gather. But most of the track's single peaks survive (MP3 97–100 %,
//! a 2-semitone pitch shift 36–71 %, speech at 0 dB 23–44 %), and an unrelated recording holds
//! a peak near a given time and pitch only as often as its own peak density says. So the check
//! tells a weak true line from a chance line where the hash score cannot
//! (docs/decisions/0023-the-peak-check).

use crate::config::FingerprintParams;
use crate::fingerprint::Peak;
use crate::index::reader::TrackPeaks;

/// A query peak may lie this many frames from where the line puts the track's peak...
pub const TIME_TOLERANCE: f32 = 2.0;
/// ...and this many sixteenths of a semitone (0.4 semitone) from its pitch after the shift.
pub const PITCH_TOLERANCE: f32 = 6.4;
/// The share of a copy's peaks heard that the evidence's weights are tuned for (the
/// alternative of the likelihood ratio behind them, `Term`): a track peak that chance would
/// put under an item peak this often or more gets no weight. Speech at 0 dB leaves a true copy
/// 23–44 % of its peaks, a 2-semitone pitch shift 36–71 %. On the issue-3 corpus 0.3 let the
/// fewest chance lines through: the last clean threshold was 4, against 6 for 0.4 and 7 for
/// 0.5 (docs/decisions/0023-the-peak-check).
pub const HEARD_SHARE: f64 = 0.3;
/// The check covers at least this many seconds of the item around the candidate's stretch,
/// where the item lasts that long: a true copy goes on beyond the hashes that found it, and a
/// chance line's evidence is its few hits.
pub const MIN_CHECK_SECONDS: f64 = 10.0;
/// Semitones that a checked line too short to show `--min-pitches-checked` pitches among its
/// anchors must show among its heard peaks instead. The check's chance model misses a figure
/// repeated at a steady tempo, which lines up with a similar figure of another track at every
/// repeat: on the corpus, such a line (the hyperrogue track against beast-of-insanity) heard
/// peaks on 3–5 semitones, other chance lines reaching evidence 4 on 5–8, every true match at
/// the default evidence on 6 or more, and the two-hash lines of music under speech on 15.
pub const MIN_HEARD_SEMITONES: usize = 8;

/// The share of a copy's peaks, heard by a fine peak where no ordinary one hears them, that the
/// fine peaks' weights are tuned for (as [`HEARD_SHARE`] for the ordinary ones). Lower than
/// that share: a copy that keeps its ordinary peaks leaves few to the fine ones, whose terms
/// then cost its evidence more the more each weighs; a copy under speech has lost the ordinary
/// ones (docs/decisions/0031-fine-peaks).
pub const FINE_HEARD_SHARE: f64 = 0.12;

/// One query peak: time in frames, pitch in sixteenths of a semitone above `min_freq_hz`
/// (unquantised), and whether it is a fine peak (`QueryParams::fine_peaks_per_second`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryPeak {
    pub time: f32,
    pub pitch: f32,
    pub fine: bool,
}

impl QueryPeak {
    pub fn of(peak: &Peak, params: &FingerprintParams) -> Self {
        QueryPeak {
            time: peak.time,
            pitch: 16.0 * peak.semitones(params),
            fine: false,
        }
    }

    pub fn fine(peak: &Peak, params: &FingerprintParams) -> Self {
        QueryPeak {
            fine: true,
            ..Self::of(peak, params)
        }
    }
}

/// Where a candidate puts the item against the track: item frame `q` is track frame
/// `track_at + speed · (q − item_at)`, and the item's pitch is the track's plus `pitch`
/// sixteenths.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alignment {
    pub item_at: f64,
    pub track_at: f64,
    pub speed: f64,
    pub pitch: f64,
    /// The item frames to check.
    pub item_from: f64,
    pub item_to: f64,
}

/// Pitch shifts tried around the hits' own, in sixteenths of a semitone: the hits agree on the
/// shift within half a semitone (`PITCH_TOLERANCE` of the matcher), and under noise their
/// consensus can sit a quarter semitone off, where a true copy's peaks fall outside the
/// check's tolerance (seen on the corpus: a line 0.5 semitone off held 21 of 87 peaks, the
/// same line at its true pitch 62 of 85).
pub const PITCH_STEPS: [f64; 5] = [-8.0, -4.0, 0.0, 4.0, 8.0];

/// What the check found, at the best of the pitch shifts tried.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PeakCheck {
    /// The track's stored peaks in the checked stretch.
    pub reference: u32,
    /// Those that the item holds where the line puts them.
    pub matched: u32,
    /// How many an unrelated recording with the item's peaks would hold by chance (with fine
    /// peaks, the ordinary and the fine peaks' chances added).
    pub expected: f64,
    /// Pitch shifts tried; the best is reported, so the chance is this many times as large.
    pub trials: u32,
    /// ln of the chance (a Chernoff bound) that an unrelated recording scores as much as the
    /// item does at one shift, where each heard peak scores by how rarely chance would hear it
    /// (`Term`); 0 for no more than chance.
    pub log_chance: f64,
}

impl PeakCheck {
    /// −log10 of the chance of this check's score over `trials` tries: the evidence that the
    /// item holds the track here, 0 when it holds no more than chance would.
    pub fn evidence(&self) -> f64 {
        let ln_chance = self.log_chance + f64::from(self.trials.max(1)).ln();
        (-ln_chance / std::f64::consts::LN_10).max(0.0)
    }
}

/// Buffers the check reuses from one candidate to the next.
#[derive(Debug, Default)]
pub struct CheckScratch {
    /// The stretch's pitches, ascending: its ordinary peaks' and its fine peaks'.
    pitches: Vec<f32>,
    fine_pitches: Vec<f32>,
    /// The weighed track peaks of the last alignment checked...
    terms: Vec<Term>,
    /// ...and the semitones where it heard them.
    heard: Vec<i32>,
}

impl CheckScratch {
    /// How many semitones the last check (of [`best_check`], its chosen shift) heard the
    /// track's peaks on.
    pub fn heard_semitones(&mut self) -> usize {
        self.heard.sort_unstable();
        self.heard.dedup();
        self.heard.len()
    }
}

/// A track peak that chance could put under an item peak: with probability `p`, the share of
/// the stretch that the item's peaks in its pitch row cover. Heard, it scores
/// `ln(q(1 − p) / (p(1 − q)))` for q = [`HEARD_SHARE`]: the log-likelihood ratio of a copy
/// hearing a share q of its peaks against chance hearing a share p, which weighs most the peaks
/// heard where the item has few others. A plain count treats a peak heard in a row of the item
/// crowded with its own notes (a held chord, a voice) as much evidence as one heard where the
/// item is otherwise silent; chance lines are mostly the former.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Term {
    p: f64,
    /// ln(p / (1 − p)).
    logit: f64,
    weight: f64,
    heard: bool,
}

impl Term {
    /// The term of a track peak chance hears with probability `p`, weighed for a copy that
    /// hears a share `q`; none where `p` is 0 (no item peak in its row: it cannot be heard) or
    /// at least `q` (no weight).
    fn new(p: f64, q: f64, heard: bool) -> Option<Self> {
        (p > 0.0 && p < q).then(|| Term {
            p,
            logit: (p / (1.0 - p)).ln(),
            weight: (q * (1.0 - p) / (p * (1.0 - q))).ln(),
            heard,
        })
    }
}

/// ln of the Chernoff bound on the chance that independent track peaks, each heard with its
/// term's probability, score at least what `terms` score (the weights of the heard ones):
/// `min over θ ≥ 0 of Σ ln(1 − p + p·e^(θw)) − θ·score`. The bound is never below the true
/// chance; against exact binomial tails it is a few times above it (tested), and on random
/// alignments of real music every tail measured was 60 to 130 times below what it promises
/// (BENCHMARKS.md), so evidence errs on the side of not accusing.
fn log_chance(terms: &[Term]) -> f64 {
    let score: f64 = terms.iter().filter(|t| t.heard).map(|t| t.weight).sum();
    let mean: f64 = terms.iter().map(|t| t.p * t.weight).sum();
    // (Relative to the score: a score equal to the mean may round either way.)
    if score <= mean * (1.0 + 1e-12) {
        return 0.0;
    }
    if terms.iter().all(|t| t.heard) {
        // The infimum lies at θ → ∞: every peak heard, the product of their chances.
        return terms.iter().map(|t| t.p.ln()).sum();
    }
    // g(θ) is convex; its slope, Σ w·σ(θw + logit p) − score, rises from below 0 at θ = 0 to
    // (unheard weight) > 0, so the root is bracketed by doubling, then found by Newton steps
    // kept inside the bracket.
    let slope = |theta: f64| -> (f64, f64) {
        terms.iter().fold((-score, 0.0), |(d1, d2), t| {
            let s = logistic(theta * t.weight + t.logit);
            (d1 + t.weight * s, d2 + t.weight * t.weight * s * (1.0 - s))
        })
    };
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while slope(hi).0 < 0.0 && hi < 1e6 {
        lo = hi;
        hi *= 2.0;
    }
    let mut theta = 0.5 * (lo + hi);
    for _ in 0..100 {
        let (d1, d2) = slope(theta);
        if d1 > 0.0 {
            hi = theta;
        } else {
            lo = theta;
        }
        let newton = theta - d1 / d2;
        theta = if newton > lo && newton < hi && d2 > 0.0 {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo < 1e-12 * hi || d1.abs() < 1e-12 * score {
            break;
        }
    }
    let g: f64 = terms
        .iter()
        .map(|t| (1.0 - t.p).ln() + softplus(theta * t.weight + t.logit))
        .sum::<f64>()
        - theta * score;
    g.min(0.0)
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// ln(1 + e^x), without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The check at each of [`PITCH_STEPS`] around `a.pitch`: the best, and the pitch it was found
/// at (sixteenths). Of shifts matching as many peaks, the one whose matches lie nearer in pitch.
pub fn best_check(
    track: TrackPeaks<'_>,
    query: &[QueryPeak],
    a: &Alignment,
    scratch: &mut CheckScratch,
) -> (PeakCheck, f64) {
    // The stretch, and so its pitches, is the same at every shift.
    stretch_pitches(query, a, scratch);
    let mut own = None;
    let mut best: Option<(u32, f64, f64)> = None;
    for step in PITCH_STEPS {
        let pitch = a.pitch + step;
        let (c, error) = weigh(track, query, &Alignment { pitch, ..*a }, scratch, false);
        let matched = c.matched;
        if step == 0.0 {
            own = Some((matched, pitch));
        }
        if best.is_none_or(|(m, _, e)| matched > m || (matched == m && error < e)) {
            best = Some((matched, pitch, error));
        }
    }
    // The hits' own shift stands unless another matches clearly more peaks: a quarter more,
    // about the chance variation of a count of 16 (the counts of neighbouring shifts differ by
    // a peak or two on an unshifted copy; by three times on the corpus's off-pitch line).
    let (own_matched, own_pitch) = own.expect("PITCH_STEPS holds 0");
    let pitch = match best {
        Some((matched, pitch, _)) if 4 * matched > 5 * own_matched => pitch,
        _ => own_pitch,
    };
    let c = checked(track, query, &Alignment { pitch, ..*a }, scratch);
    (
        PeakCheck {
            trials: PITCH_STEPS.len() as u32,
            ..c
        },
        pitch,
    )
}

/// Whether `x` lies within `tolerance` of `centre`. Every test of the check is written this
/// way, so that the fast check and the brute-force one round alike at the edges.
fn near(x: f32, centre: f32, tolerance: f32) -> bool {
    x >= centre - tolerance && x <= centre + tolerance
}

/// Checks `alignment` against `track` with the item's peaks, `query` (sorted by time).
pub fn check(
    track: TrackPeaks<'_>,
    query: &[QueryPeak],
    a: &Alignment,
    scratch: &mut CheckScratch,
) -> PeakCheck {
    stretch_pitches(query, a, scratch);
    checked(track, query, a, scratch)
}

/// The check of `a`, once [`stretch_pitches`] are in `scratch`.
fn checked(
    track: TrackPeaks<'_>,
    query: &[QueryPeak],
    a: &Alignment,
    scratch: &mut CheckScratch,
) -> PeakCheck {
    let (c, _) = weigh(track, query, a, scratch, true);
    PeakCheck {
        log_chance: log_chance(&scratch.terms),
        ..c
    }
}

/// The stretch of the item the check reads.
fn stretch<'q>(query: &'q [QueryPeak], a: &Alignment) -> &'q [QueryPeak] {
    let (from, to) = (a.item_from as f32, a.item_to as f32);
    &query[query.partition_point(|p| p.time < from)..query.partition_point(|p| p.time <= to)]
}

/// The pitches of the item's ordinary and fine peaks in the checked stretch, each ascending,
/// into `scratch`.
fn stretch_pitches(query: &[QueryPeak], a: &Alignment, scratch: &mut CheckScratch) {
    let (ordinary, fine) = (&mut scratch.pitches, &mut scratch.fine_pitches);
    ordinary.clear();
    fine.clear();
    for p in stretch(query, a) {
        if p.fine { &mut *fine } else { &mut *ordinary }.push(p.pitch);
    }
    ordinary.sort_unstable_by(f32::total_cmp);
    fine.sort_unstable_by(f32::total_cmp);
}

/// The chance that the item's peaks at `pitches` put one within the box of a track peak at
/// `pitch`: the share of the stretch that those in its row cover.
fn row_chance(pitches: &[f32], pitch: f32, occupancy: f64) -> f64 {
    let rows = pitches.partition_point(|&p| p <= pitch + PITCH_TOLERANCE)
        - pitches.partition_point(|&p| p < pitch - PITCH_TOLERANCE);
    (rows as f64 * occupancy).min(1.0)
}

/// The share of the stretch one item peak covers: 2·TIME_TOLERANCE, plus a frame for the stored
/// frame's rounding. (Without that frame, chance lines rose to evidence 9 on the corpus, and the
/// threshold keeping the same margin found less.)
fn occupancy(a: &Alignment) -> f64 {
    (2.0 * f64::from(TIME_TOLERANCE) + 1.0) / (a.item_to - a.item_from).max(1.0)
}

/// Counts the track's peaks that `a` maps into the stretch, and those heard, and where `weighed`
/// weighs into `scratch.terms` the ones chance could hear ([`Term::new`]; choosing the shift
/// needs only the counts). Returns the check (its chance not yet bounded, its `expected` 0
/// unless weighed) and the summed pitch distance of the heard peaks to their nearest item peak
/// (sixteenths): of two pitch shifts hearing as many peaks, the nearer is the shift. Only the
/// stretch's own peaks can hear a track peak, as only they are counted in its row: a peak just
/// beyond the stretch would be a match that the chance count says cannot happen.
///
/// Where the item has fine peaks, each track peak has two terms: heard by an ordinary peak,
/// and heard by a fine one where no ordinary one hears it, each with its own kind's row
/// chance. The two are one peak's exclusive outcomes, but the bound treats them as
/// independent, which only raises the chance it bounds (the product of the two moment
/// generating functions exceeds their exclusive mixture by a positive cross term).
fn weigh(
    track: TrackPeaks<'_>,
    query: &[QueryPeak],
    a: &Alignment,
    scratch: &mut CheckScratch,
    weighed: bool,
) -> (PeakCheck, f64) {
    let (from, to) = (a.item_from as f32, a.item_to as f32);
    let stretch = stretch(query, a);
    let (pitches, fine_pitches) = (&scratch.pitches, &scratch.fine_pitches);
    let occupancy = occupancy(a);
    scratch.terms.clear();
    scratch.heard.clear();
    let mut c = PeakCheck {
        reference: 0,
        matched: 0,
        expected: 0.0,
        trials: 1,
        log_chance: 0.0,
    };
    let mut error = 0.0;
    for i in track_range(track, a) {
        let r = track.get(i);
        let (time, pitch) = item_position(r.frame(), r.pitch(), a);
        if time < from || time > to {
            continue;
        }
        c.reference += 1;
        let around = &stretch[stretch.partition_point(|p| p.time < time - TIME_TOLERANCE)..];
        let closest = |fine: bool| {
            around
                .iter()
                .take_while(|p| p.time <= time + TIME_TOLERANCE)
                .filter(|p| p.fine == fine && near(p.pitch, pitch, PITCH_TOLERANCE))
                .map(|p| (p.pitch - pitch).abs())
                .min_by(f32::total_cmp)
        };
        let ordinary = closest(false);
        let fine = match ordinary {
            None if !fine_pitches.is_empty() => closest(true),
            _ => None,
        };
        if let Some(distance) = ordinary.or(fine) {
            c.matched += 1;
            error += f64::from(distance);
            scratch.heard.push(semitone(pitch));
        }
        if !weighed {
            continue;
        }
        let p = row_chance(pitches, pitch, occupancy);
        c.expected += p;
        scratch
            .terms
            .extend(Term::new(p, HEARD_SHARE, ordinary.is_some()));
        if !fine_pitches.is_empty() {
            let p = row_chance(fine_pitches, pitch, occupancy);
            c.expected += p;
            scratch
                .terms
                .extend(Term::new(p, FINE_HEARD_SHARE, fine.is_some()));
        }
    }
    (c, error)
}

/// The semitone of a pitch in sixteenths.
fn semitone(pitch: f32) -> i32 {
    (pitch / 16.0).round() as i32
}

/// Where the item should hold track peak (`frame`, `pitch`) under `a`.
fn item_position(frame: u32, pitch: u32, a: &Alignment) -> (f32, f32) {
    let time = a.item_at + (f64::from(frame) - a.track_at) / a.speed;
    (time as f32, (f64::from(pitch) + a.pitch) as f32)
}

/// The track's peaks whose item position can fall in the checked stretch.
fn track_range(track: TrackPeaks<'_>, a: &Alignment) -> std::ops::Range<usize> {
    let at = |q: f64| a.track_at + a.speed * (q - a.item_at);
    let first = at(a.item_from).floor().max(0.0) as u32;
    let last = at(a.item_to).ceil().clamp(0.0, f64::from(u32::MAX)) as u32;
    track.first_at(first)..track.first_at(last.saturating_add(1))
}

#[cfg(test)]
/// [`CheckScratch::heard_semitones`] by brute force, for tests.
pub fn reference_heard_semitones(
    track: TrackPeaks<'_>,
    query: &[QueryPeak],
    a: &Alignment,
) -> usize {
    let (from, to) = (a.item_from as f32, a.item_to as f32);
    let mut heard: Vec<i32> = track
        .iter()
        .map(|r| item_position(r.frame(), r.pitch(), a))
        .filter(|&(time, pitch)| {
            time >= from
                && time <= to
                && query.iter().any(|p| {
                    p.time >= from
                        && p.time <= to
                        && near(p.time, time, TIME_TOLERANCE)
                        && near(p.pitch, pitch, PITCH_TOLERANCE)
                })
        })
        .map(|(_, pitch)| semitone(pitch))
        .collect();
    heard.sort_unstable();
    heard.dedup();
    heard.len()
}

#[cfg(test)]
/// The same check by brute force, for tests.
pub fn reference_check(track: TrackPeaks<'_>, query: &[QueryPeak], a: &Alignment) -> PeakCheck {
    let (from, to) = (a.item_from as f32, a.item_to as f32);
    let stretch: Vec<&QueryPeak> = query
        .iter()
        .filter(|p| p.time >= from && p.time <= to)
        .collect();
    let (mut reference, mut matched, mut expected) = (0u32, 0u32, 0f64);
    let mut terms = Vec::new();
    for r in track.iter() {
        let (time, pitch) = item_position(r.frame(), r.pitch(), a);
        if time < from || time > to {
            continue;
        }
        reference += 1;
        let heard = |fine: bool| {
            stretch.iter().any(|p| {
                p.fine == fine
                    && near(p.time, time, TIME_TOLERANCE)
                    && near(p.pitch, pitch, PITCH_TOLERANCE)
            })
        };
        let chance = |fine: bool| {
            let rows = stretch
                .iter()
                .filter(|p| p.fine == fine && near(p.pitch, pitch, PITCH_TOLERANCE))
                .count();
            (rows as f64 * occupancy(a)).min(1.0)
        };
        let (ordinary, fine) = (heard(false), !heard(false) && heard(true));
        matched += u32::from(ordinary || fine);
        expected += chance(false);
        terms.extend(Term::new(chance(false), HEARD_SHARE, ordinary));
        if stretch.iter().any(|p| p.fine) {
            expected += chance(true);
            terms.extend(Term::new(chance(true), FINE_HEARD_SHARE, fine));
        }
    }
    PeakCheck {
        reference,
        matched,
        expected,
        trials: 1,
        log_chance: log_chance(&terms),
    }
}

/// The check's evidence for `per` random alignments of each item (audio at the analysis rate,
/// holding no catalogue recording) against each track of `index`: how often chance reaches
/// evidence t, which the bound keeps below 10^-t (`benches/calibration.rs` reads it for a
/// corpus; a test holds it on the shipped music).
pub fn null_evidence<D: AsRef<[u8]>>(
    index: &crate::index::Index<D>,
    items: &[Vec<f32>],
    per: usize,
) -> Vec<f64> {
    use crate::fingerprint::{Density, Fingerprinter};
    let params = *index.params();
    let q = crate::tuning::QueryParams::default();
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    let mut below = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut scratch = CheckScratch::default();
    let mut evidence = Vec::new();
    for audio in items {
        let mut fingerprinter = Fingerprinter::new(&params, Density::query(&q)).keeping_peaks();
        fingerprinter.push(audio);
        let rest = fingerprinter.finish_all();
        let mut query: Vec<QueryPeak> = (rest.peaks.iter())
            .map(|p| QueryPeak::of(p, &params))
            .chain(rest.fine_peaks.iter().map(|p| QueryPeak::fine(p, &params)))
            .collect();
        query.sort_by(|a, b| a.time.total_cmp(&b.time));
        let item_frames = query.last().map_or(1, |p| p.time as u64).max(1);
        let half = 0.5 * MIN_CHECK_SECONDS / params.frame_seconds();
        for track in 0..index.tracks() {
            let track = crate::index::TrackId(track);
            let frames = u64::from(index.track_frames(track).unwrap_or(1)).max(1);
            for _ in 0..per {
                let item_at = below(item_frames) as f64;
                let a = Alignment {
                    item_at,
                    track_at: below(frames) as f64,
                    speed: 0.92 + below(17) as f64 / 100.0,
                    pitch: below(65) as f64 - 32.0,
                    item_from: (item_at - half).max(0.0),
                    item_to: (item_at + half).min(item_frames as f64),
                };
                let (c, _) = best_check(index.track_peaks(track), &query, &a, &mut scratch);
                evidence.push(c.evidence());
            }
        }
    }
    evidence
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::PeakCode;

    fn stored(codes: &[PeakCode]) -> Vec<u8> {
        let mut sorted = codes.to_vec();
        sorted.sort_unstable();
        sorted.iter().flat_map(|c| c.0.to_le_bytes()).collect()
    }

    #[test]
    fn the_fast_check_matches_a_brute_force_one() {
        let mut below = crate::test_support::below(0x1234_5678_9ABC_DEF1);
        let mut scratch = CheckScratch::default();
        for round in 0..300 {
            let n = below(200) as usize;
            // Pitches from a few rows, so that matches and near misses both occur.
            let codes: Vec<PeakCode> = (0..n)
                .map(|_| {
                    let pitch = 100 + 16 * below(12) as u32 + below(5) as u32;
                    PeakCode::new(below(2000) as u32, pitch).unwrap()
                })
                .collect();
            let bytes = stored(&codes);
            let track = TrackPeaks::from_bytes(&bytes);
            let mut query: Vec<QueryPeak> = (0..below(400))
                .map(|_| QueryPeak {
                    time: below(8000) as f32 / 8.0,
                    pitch: (100 + 16 * below(12)) as f32 + below(80) as f32 / 10.0,
                    // Some rounds without fine peaks, others with a few or many.
                    fine: below(4) < round % 4,
                })
                .collect();
            query.sort_by(|a, b| a.time.total_cmp(&b.time));
            let speed = 0.9 + below(21) as f64 / 100.0;
            let item_at = below(500) as f64;
            let a = Alignment {
                item_at,
                track_at: below(1500) as f64 + 0.25,
                speed,
                pitch: below(33) as f64 - 16.0,
                item_from: (item_at - below(400) as f64).max(0.0),
                item_to: item_at + below(600) as f64,
            };
            assert_eq!(
                check(track, &query, &a, &mut scratch),
                reference_check(track, &query, &a),
                "round {round}: {a:?}"
            );
            assert_eq!(
                scratch.heard_semitones(),
                reference_heard_semitones(track, &query, &a),
                "round {round}: {a:?}"
            );
        }
    }

    /// ln of the exact chance that `n` peaks, each heard with probability `p`, give `k` or more.
    fn ln_binomial_tail(n: u64, p: f64, k: u64) -> f64 {
        let ln_term = |i: u64| {
            let ln_choose: f64 = (0..i).map(|j| ((n - j) as f64 / (j + 1) as f64).ln()).sum();
            ln_choose + i as f64 * p.ln() + (n - i) as f64 * (1.0 - p).ln()
        };
        let terms: Vec<f64> = (k..=n).map(ln_term).collect();
        let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        max + terms.iter().map(|t| (t - max).exp()).sum::<f64>().ln()
    }

    fn terms(rows: &[(f64, usize, usize)]) -> Vec<Term> {
        rows.iter()
            .flat_map(|&(p, n, heard)| {
                (0..n).map(move |i| Term::new(p, HEARD_SHARE, i < heard).unwrap())
            })
            .collect()
    }

    #[test]
    fn the_chance_bound_is_above_the_exact_chance_and_close_to_it() {
        // With equal odds the weighted score is a count, whose exact tail is binomial.
        for k in [6, 8, 10, 15, 20, 30, 60] {
            let bound = log_chance(&terms(&[(0.05, 100, k)]));
            let exact = ln_binomial_tail(100, 0.05, k as u64);
            assert!(bound >= exact - 1e-9, "{k}: {bound} < {exact}");
            // Within a factor of 12 (the bound's slack grows slowly with the count).
            assert!(bound - exact < 12f64.ln(), "{k}: {bound} against {exact}");
        }
        // No more than chance (5 of 100 expected): no evidence.
        for k in 0..=5 {
            assert_eq!(log_chance(&terms(&[(0.05, 100, k)])), 0.0);
        }
        // Everything heard: exactly the chance of that.
        let all = log_chance(&terms(&[(0.05, 10, 10), (0.2, 5, 5)]));
        assert!((all - (10.0 * 0.05f64.ln() + 5.0 * 0.2f64.ln())).abs() < 1e-9);
        assert_eq!(log_chance(&[]), 0.0);
    }

    #[test]
    fn peaks_heard_where_chance_rarely_hears_weigh_more() {
        // Half the track's peaks fall where the item has few others, half in crowded rows.
        let rare = log_chance(&terms(&[(0.02, 50, 12), (0.25, 50, 12)]));
        let crowded = log_chance(&terms(&[(0.02, 50, 2), (0.25, 50, 22)]));
        assert!(rare < crowded - 4.0, "{rare} against {crowded}");
        // Evidence grows with every peak heard.
        let e: Vec<f64> = (10..30)
            .map(|k| log_chance(&terms(&[(0.02, 50, k / 2), (0.25, 50, k - k / 2)])))
            .collect();
        assert!(e.windows(2).all(|w| w[1] < w[0]), "{e:?}");
        // Peaks chance hears at least HEARD_SHARE of the time carry no weight.
        assert_eq!(Term::new(HEARD_SHARE, HEARD_SHARE, true), None);
        assert_eq!(Term::new(0.0, HEARD_SHARE, false), None);
    }

    #[test]
    fn evidence_counts_the_shifts_tried() {
        let at = |trials| PeakCheck {
            reference: 80,
            matched: 30,
            expected: 10.0,
            trials,
            log_chance: -20.0,
        };
        assert!((at(1).evidence() - 20.0 / std::f64::consts::LN_10).abs() < 1e-9);
        assert!((at(1).evidence() - at(5).evidence() - 5f64.log10()).abs() < 1e-9);
        assert_eq!(
            PeakCheck {
                log_chance: 0.0,
                ..at(5)
            }
            .evidence(),
            0.0
        );
    }

    /// The evidence of `per` random alignments (speed within ±8 %, pitch within ±2 semitones,
    /// 10 s of the item) of each item against each track of `index`, at every shift tried.
    /// How often `evidence` reaches 1, 2, 3...: at most 10^-t of the time where the chance
    /// model and its bound hold.
    fn tails(evidence: &[f64]) -> Vec<(u32, usize)> {
        (1..=8)
            .map(|t| (t, evidence.iter().filter(|&&e| e >= f64::from(t)).count()))
            .collect()
    }

    #[test]
    fn unrelated_music_at_random_alignments_stays_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let index = crate::test_support::catalogue(dir.path());
        let song = crate::test_support::decode("testdata/dump/not-in-catalogue.mp3");
        let noise = crate::test_support::noise(15 * 8000, 7);
        let evidence = null_evidence(&index, &[song, noise], 400);
        let n = evidence.len() as f64;
        for (t, count) in tails(&evidence) {
            assert!(
                count as f64 <= n * 10f64.powi(-(t as i32)),
                "evidence {t} reached {count} times in {n}: {:?}",
                tails(&evidence)
            );
        }
    }

    #[test]
    fn the_best_pitch_is_found_and_reported() {
        // A track of peaks on a scale, and an item holding them 0.25 semitone higher.
        let codes: Vec<PeakCode> = (0..100)
            .map(|i| PeakCode::new(10 * i, 200 + 16 * (i % 7) * 2).unwrap())
            .collect();
        let bytes = stored(&codes);
        let query: Vec<QueryPeak> = codes
            .iter()
            .map(|c| QueryPeak {
                time: c.frame() as f32,
                pitch: c.pitch() as f32 + 4.0,
                fine: false,
            })
            .collect();
        let a = Alignment {
            item_at: 0.0,
            track_at: 0.0,
            speed: 1.0,
            pitch: -4.0,
            item_from: 0.0,
            item_to: 1000.0,
        };
        let (c, pitch) = best_check(
            TrackPeaks::from_bytes(&bytes),
            &query,
            &a,
            &mut CheckScratch::default(),
        );
        assert_eq!((c.matched, c.reference, c.trials), (100, 100, 5));
        assert_eq!(pitch, 4.0);
    }
}
