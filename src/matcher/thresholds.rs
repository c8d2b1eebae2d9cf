//! When a line is a match: how sure its count must make us ([`MIN_CONFIDENCE`]), and how many
//! landmarks each kind of copy needs ([`Transform`]), with or without the peak check.

use crate::tuning::QueryParams;

/// Evidence beyond `--min-peak-evidence` that a checked line of fewer hashes than
/// `--candidate-score` needs (an unchanged copy's line of 2, [`Matcher::unchanged_line`]). Chance
/// tracks' lines of 2 reach the check far more often than lines of 3: among 10^8 postings, 59
/// against 3.3 per 10 s clip (the synthetic tracks' lines, which would be checked had those
/// tracks peaks), so to be accused as rarely they need log10(18) ≈ 1.3 more; 2 leaves room for
/// larger catalogues. The right answers of 2 hashes on both corpora, at both sizes, scored
/// 13–29.
pub(super) const SHORT_LINE_EVIDENCE: f64 = 2.0;

/// Matches less certain than this are not reported.
pub(super) const MIN_CONFIDENCE: f64 = 0.99;
/// How a match's copy was changed, judged from its speed and pitch. The classes differ in how
/// much of the searched speed-and-pitch space a chance line could have fallen in, so each needs
/// its own evidence: on the issue-3 corpus, of the answers scoring 6 to 9, unchanged ones were
/// right 17 times in 18 and pitch-only ones 13 times in 23, while all 17 scoring 6 to 12 with
/// pitch and tempo changed independently were false (docs/decisions/0011-thresholds-by-transform).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Speed 1, pitch 0.
    Unchanged,
    /// Pitch shifted, tempo kept.
    Pitch,
    /// Tempo changed, pitch kept.
    Tempo,
    /// Played faster or slower: pitch moved by 12·log2(speed), as resampling does.
    Speed,
    /// Pitch and tempo changed independently.
    PitchAndTempo,
}

impl Transform {
    /// Pitch within this many semitones of 12·log2(speed) counts as a plain speed change (two
    /// quarter-semitone steps of the pitch measure).
    const SPEED_PITCH_TOLERANCE: f64 = 0.5;

    /// The class of a match with this speed and pitch shift (semitones).
    pub fn of(speed: f64, pitch: f64) -> Self {
        match (speed == 1.0, pitch == 0.0) {
            (true, true) => Transform::Unchanged,
            (true, false) => Transform::Pitch,
            (false, true) => Transform::Tempo,
            (false, false)
                if (pitch - 12.0 * speed.log2()).abs() <= Self::SPEED_PITCH_TOLERANCE =>
            {
                Transform::Speed
            }
            (false, false) => Transform::PitchAndTempo,
        }
    }

    /// The score a candidate of this class needs to be checked against the track's peaks:
    /// twice as much when pitch and tempo changed independently, as for [`Self::min_score`];
    /// one less (but at least 2, a line's fewest points) for an unchanged copy in an item read
    /// at every key, whose line is searched on its own odds (`Matcher::unchanged_line`).
    pub fn candidate_score(self, q: &QueryParams) -> usize {
        let floor = q.candidate_score.max(1) as usize;
        match self {
            Transform::PitchAndTempo => 2 * floor,
            Transform::Unchanged if q.key_sample <= 1 => floor.saturating_sub(1).max(2).min(floor),
            _ => floor,
        }
    }

    /// The score a match of this class needs without a peak check.
    pub fn min_score(self, q: &QueryParams) -> usize {
        match self {
            // Never more than a changed copy needs, whatever the two options say.
            Transform::Unchanged => q.min_evidence(),
            Transform::Pitch | Transform::Tempo | Transform::Speed => q.min_inliers as usize,
            Transform::PitchAndTempo => 2 * q.min_inliers as usize,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TrackId;
    use crate::matcher::testing::*;
    use crate::matcher::{Hit, Matcher};
    use crate::tuning::QueryParams;

    #[test]
    fn transforms_are_told_apart_and_need_their_own_evidence() {
        use Transform::*;
        assert_eq!(Transform::of(1.0, 0.0), Unchanged);
        assert_eq!(Transform::of(1.0, -1.5), Pitch);
        assert_eq!(Transform::of(0.92, 0.0), Tempo);
        // Resampling to 0.95 lowers pitch by 0.89 semitones; measured to a quarter semitone.
        assert_eq!(Transform::of(0.95, -0.75), Speed);
        assert_eq!(Transform::of(1.05, 0.5), Speed);
        assert_eq!(Transform::of(1.05, -0.5), PitchAndTempo);
        assert_eq!(Transform::of(0.96, 2.0), PitchAndTempo);
        let q = QueryParams::default();
        assert!(Unchanged.min_score(&q) < Pitch.min_score(&q));
        assert_eq!(Tempo.min_score(&q), Speed.min_score(&q));
        assert_eq!(PitchAndTempo.min_score(&q), 2 * Pitch.min_score(&q));
        assert_eq!(q.min_evidence(), Unchanged.min_score(&q));
        let loose = QueryParams {
            min_inliers: 5,
            ..q
        };
        assert_eq!(
            Unchanged.min_score(&loose),
            5,
            "an unchanged copy never needs more"
        );
    }

    /// A figure of one or two notes repeated at a steady tempo lines up with any such figure of a
    /// catalogue track at a similar tempo and gathers one hit per repeat; a copy's hits start
    /// from many pitches. The same line of 16 hits, with its query anchors on two pitches and
    /// then on sixteen.
    #[test]
    fn a_line_resting_on_a_note_or_two_is_not_a_match() {
        let index = fixture_index();
        let find = |cells: &dyn Fn(u32) -> u8, query: QueryParams| {
            let mut m = Matcher::new(&index, query);
            m.hits = (0..16u32)
                .map(|i| {
                    let q = 40 + 14 * i;
                    let h = Hit {
                        q,
                        r: q + 300,
                        anchor: cells(i),
                        ..Hit::default()
                    };
                    (0, h)
                })
                .collect();
            m.finish()
        };
        let (octave, melody) = (
            |i: u32| if i.is_multiple_of(2) { 97 } else { 143 },
            |i: u32| 60 + 5 * i as u8,
        );
        let q = QueryParams::default();
        assert!(find(&octave, q).is_empty());
        let found = find(&melody, q);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].track, found[0].score), (TrackId(0), 16));
        let off = QueryParams {
            min_pitches: 1,
            ..q
        };
        assert_eq!(find(&octave, off).len(), 1, "the rule is what drops it");
    }
}
