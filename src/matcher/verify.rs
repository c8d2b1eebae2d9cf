//! The peak check: a candidate match, a line from hashes, is mapped onto the catalogue track's
//! stored peaks, and the track's peaks that the query holds at the mapped time and pitch are
//! counted against how many a recording unrelated to the track would hold there.
//!
//! Why: hashes need three or four of the track's peaks to survive together, in the right cells,
//! so a pitch-shifted, echoed or noisy copy can leave only a few hashes on its true line, no
//! more than chance lines gather. But most of the track's single peaks survive (MP3 97–100 %,
//! a 2-semitone pitch shift 36–71 %, speech at 0 dB 23–44 %), and an unrelated recording holds
//! a peak near a given time and pitch only as often as its own peak density says. So the check
//! tells a weak true line from a chance line where the hash score cannot (ARCHITECTURE.md,
//! "The peak check").

use crate::index::reader::TrackPeaks;

/// A query peak may lie this many frames from where the line puts the track's peak...
pub const TIME_TOLERANCE: f32 = 2.0;
/// ...and this many sixteenths of a semitone (0.4 semitone) from its pitch after the shift.
pub const PITCH_TOLERANCE: f32 = 6.4;
/// The check covers at least this many seconds of the item around the candidate's stretch,
/// where the item lasts that long: a true copy goes on beyond the hashes that found it, and a
/// chance line's evidence is its few hits.
pub const MIN_CHECK_SECONDS: f64 = 10.0;

/// One query peak: time in frames, pitch in sixteenths of a semitone above `min_freq_hz`
/// (unquantised).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueryPeak {
    pub time: f32,
    pub pitch: f32,
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
    /// How many an unrelated recording with the item's peaks would hold by chance.
    pub expected: f64,
    /// Pitch shifts tried; the best is reported, so the chance is this many times as large.
    pub trials: u32,
}

impl PeakCheck {
    /// −log10 of the chance of matching at least `matched` peaks when `expected` are expected
    /// (Poisson), over `trials` tries: the evidence that the item holds the track here, 0 when
    /// it holds no more than chance would.
    pub fn evidence(&self) -> f64 {
        let ln_chance = super::log_poisson_tail(u64::from(self.matched), self.expected)
            + f64::from(self.trials.max(1)).ln();
        (-ln_chance / std::f64::consts::LN_10).max(0.0)
    }
}

/// The check at each of [`PITCH_STEPS`] around `a.pitch`: the best, and the pitch it was found
/// at (sixteenths). Of shifts matching as many peaks, the one whose matches lie nearer in pitch.
pub fn best_check(
    track: TrackPeaks<'_>,
    query: &[QueryPeak],
    a: &Alignment,
    scratch: &mut Vec<f32>,
) -> (PeakCheck, f64) {
    // The stretch, and so its pitches, is the same at every shift.
    stretch_pitches(query, a, scratch);
    let mut own = None;
    let mut best: Option<(PeakCheck, f64, f64)> = None;
    for step in PITCH_STEPS {
        let pitch = a.pitch + step;
        let (c, error) = check_and_error(track, query, &Alignment { pitch, ..*a }, scratch);
        if step == 0.0 {
            own = Some((c, pitch, error));
        }
        if best
            .is_none_or(|(b, _, e)| c.matched > b.matched || (c.matched == b.matched && error < e))
        {
            best = Some((c, pitch, error));
        }
    }
    // The hits' own shift stands unless another matches clearly more peaks: a quarter more,
    // about the chance variation of a count of 16 (the counts of neighbouring shifts differ by
    // a peak or two on an unshifted copy; by three times on the corpus's off-pitch line).
    let own = own.expect("PITCH_STEPS holds 0");
    let (c, pitch, _) = match best {
        Some(b) if 4 * b.0.matched > 5 * own.0.matched => b,
        _ => own,
    };
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

/// Checks `alignment` against `track` with the item's peaks, `query` (sorted by time), using
/// `scratch` for the checked stretch's pitches.
pub fn check(
    track: TrackPeaks<'_>,
    query: &[QueryPeak],
    a: &Alignment,
    scratch: &mut Vec<f32>,
) -> PeakCheck {
    stretch_pitches(query, a, scratch);
    check_and_error(track, query, a, scratch).0
}

/// The pitches of the item's peaks in the checked stretch, ascending, into `out`.
fn stretch_pitches(query: &[QueryPeak], a: &Alignment, out: &mut Vec<f32>) {
    let (from, to) = (a.item_from as f32, a.item_to as f32);
    let stretch =
        &query[query.partition_point(|p| p.time < from)..query.partition_point(|p| p.time <= to)];
    out.clear();
    out.extend(stretch.iter().map(|p| p.pitch));
    out.sort_unstable_by(f32::total_cmp);
}

/// The check, and the summed pitch distance of the matched peaks to their nearest match in the
/// item (sixteenths): of two pitch shifts matching as many peaks, the nearer is the shift.
/// `pitches` are the stretch's ([`stretch_pitches`]).
fn check_and_error(
    track: TrackPeaks<'_>,
    query: &[QueryPeak],
    a: &Alignment,
    pitches: &[f32],
) -> (PeakCheck, f64) {
    let (from, to) = (a.item_from as f32, a.item_to as f32);
    // The share of the stretch one item peak covers: 2·TIME_TOLERANCE, plus a frame for the
    // stored frame's rounding. (Without that frame, chance lines rose to evidence 9 on the
    // corpus, and the threshold keeping the same margin found less.)
    let occupancy = (2.0 * f64::from(TIME_TOLERANCE) + 1.0) / f64::from((to - from).max(1.0));
    let (mut reference, mut matched, mut expected, mut error) = (0u32, 0u32, 0f64, 0f64);
    for i in track_range(track, a) {
        let r = track.get(i);
        let (time, pitch) = item_position(r.frame(), r.pitch(), a);
        if time < from || time > to {
            continue;
        }
        reference += 1;
        let close = query[query.partition_point(|p| p.time < time - TIME_TOLERANCE)..]
            .iter()
            .take_while(|p| p.time <= time + TIME_TOLERANCE)
            .filter(|p| near(p.pitch, pitch, PITCH_TOLERANCE))
            .map(|p| (p.pitch - pitch).abs())
            .min_by(f32::total_cmp);
        if let Some(distance) = close {
            matched += 1;
            error += f64::from(distance);
        }
        let rows = pitches.partition_point(|&p| p <= pitch + PITCH_TOLERANCE)
            - pitches.partition_point(|&p| p < pitch - PITCH_TOLERANCE);
        expected += (rows as f64 * occupancy).min(1.0);
    }
    let c = PeakCheck {
        reference,
        matched,
        expected,
        trials: 1,
    };
    (c, error)
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

/// The same check by brute force, for tests.
pub fn reference_check(track: TrackPeaks<'_>, query: &[QueryPeak], a: &Alignment) -> PeakCheck {
    let (from, to) = (a.item_from as f32, a.item_to as f32);
    let stretch: Vec<&QueryPeak> = query
        .iter()
        .filter(|p| p.time >= from && p.time <= to)
        .collect();
    let occupancy = (2.0 * f64::from(TIME_TOLERANCE) + 1.0) / f64::from((to - from).max(1.0));
    let (mut reference, mut matched, mut expected) = (0u32, 0u32, 0f64);
    for r in track.iter() {
        let (time, pitch) = item_position(r.frame(), r.pitch(), a);
        if time < from || time > to {
            continue;
        }
        reference += 1;
        if query
            .iter()
            .any(|p| near(p.time, time, TIME_TOLERANCE) && near(p.pitch, pitch, PITCH_TOLERANCE))
        {
            matched += 1;
        }
        let rows = stretch
            .iter()
            .filter(|p| near(p.pitch, pitch, PITCH_TOLERANCE))
            .count();
        expected += (rows as f64 * occupancy).min(1.0);
    }
    PeakCheck {
        reference,
        matched,
        expected,
        trials: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::format::PeakCode;

    fn stored(codes: &[PeakCode]) -> Vec<u8> {
        let mut sorted = codes.to_vec();
        sorted.sort_unstable();
        sorted.iter().flat_map(|c| c.0.to_le_bytes()).collect()
    }

    #[test]
    fn the_fast_check_matches_a_brute_force_one() {
        let mut below = crate::test_support::below(0x1234_5678_9ABC_DEF1);
        let mut scratch = Vec::new();
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
        }
    }

    #[test]
    fn evidence_grows_with_matches_beyond_chance() {
        let at = |matched, expected| PeakCheck {
            reference: 80,
            matched,
            expected,
            trials: 5,
        };
        // No more than chance: no evidence.
        assert_eq!(at(10, 10.0).evidence(), 0.0);
        assert_eq!(at(0, 10.0).evidence(), 0.0);
        // A true copy's peaks (half of them heard, ten expected) are overwhelming evidence...
        assert!(at(40, 10.0).evidence() > 10.0);
        // ...and evidence grows with every peak more.
        let e: Vec<f64> = (20..30).map(|m| at(m, 10.0).evidence()).collect();
        assert!(e.windows(2).all(|w| w[1] > w[0]), "{e:?}");
        // The five pitch shifts tried cost log10(5) of it.
        let once = PeakCheck {
            trials: 1,
            ..at(30, 10.0)
        };
        assert!((once.evidence() - at(30, 10.0).evidence() - 5f64.log10()).abs() < 1e-9);
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
        let (c, pitch) = best_check(TrackPeaks::from_bytes(&bytes), &query, &a, &mut Vec::new());
        assert_eq!((c.matched, c.reference, c.trials), (100, 100, 5));
        assert_eq!(pitch, 4.0);
    }
}
