//! Matches compared with each other, once every track's lines are in: repeats of one passage
//! in a track fold into its best place ([`fold_repeats`]), and a weaker match of another track
//! that a stronger one explains is dropped ([`suppress_shadows`]). A [`Candidate`] is a match
//! with the query peaks it rests on, which tells a shared passage from two recordings heard
//! together.

use super::line::Hit;
use super::{Match, Repeat};

/// A repeat is listed when it scores at least this fraction (1/n) of the best place: weaker lines
/// are a part that recurs (a bass line, a drum loop), not the passage.
const REPEAT_RATIO: u32 = 2;

/// Places of a repeat closer than this, seconds, are one place.
const REPEAT_MERGE_SECONDS: f64 = 0.5;

/// A match with the query peaks it rests on, until matches are compared with each other.
#[derive(Debug)]
pub(super) struct Candidate {
    pub(super) m: Match,
    /// The query anchors of its inliers, `(frame << 8) | pitch cell`, ascending and distinct.
    pub(super) anchors: Vec<u64>,
}

impl Candidate {
    pub(super) fn new(m: Match, inliers: &[Hit]) -> Self {
        let mut anchors: Vec<u64> = inliers
            .iter()
            .map(|h| u64::from(h.q) << 8 | u64::from(h.anchor))
            .collect();
        anchors.sort_unstable();
        anchors.dedup();
        Candidate { m, anchors }
    }

    /// How many of this candidate's query anchors `other` rests on too.
    fn shared_anchors(&self, other: &Candidate) -> usize {
        let (mut i, mut j, mut n) = (0, 0, 0);
        while i < self.anchors.len() && j < other.anchors.len() {
            match self.anchors[i].cmp(&other.anchors[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => (i, j, n) = (i + 1, j + 1, n + 1),
            }
        }
        n
    }

    /// Seconds of the item that this candidate and `other` both cover.
    fn overlap(&self, other: &Candidate) -> f64 {
        (self.m.item_end.min(other.m.item_end) - self.m.item_start.max(other.m.item_start)).max(0.0)
    }

    /// Whether at least half of this candidate's stretch of the item lies under `other`.
    fn under(&self, other: &Candidate) -> bool {
        2.0 * self.overlap(other) >= self.m.item_end - self.m.item_start
    }
}

/// Folds matches of one track that cover the same stretch of the item into the strongest of
/// them, whose `also_at` lists where the others place the stretch's start in the track. A
/// passage the track repeats (a loop, a chorus) fits every repeat; which one the item copied is
/// often undecidable, and one answer with its alternatives says so better than many answers.
/// A repeat scoring under half the best place's score (only a part of the passage recurs: a bass
/// line, a drum loop), or one that would place the stretch's start before the track's (only its
/// later part recurs, at the track's opening), is folded in without being listed; places closer
/// than half a second are listed once.
pub(super) fn fold_repeats(mut found: Vec<Candidate>) -> Vec<Candidate> {
    found.sort_by(|a, b| {
        b.m.score
            .cmp(&a.m.score)
            .then(a.m.item_start.total_cmp(&b.m.item_start))
    });
    // Each kept candidate with its repeats' places: where each puts the stretch's start in the
    // track, and the stretch it was verified on.
    let mut kept: Vec<(Candidate, Vec<(f64, Repeat)>)> = Vec::with_capacity(found.len());
    for c in found {
        match kept.iter_mut().find(|(k, _)| c.under(k)) {
            Some((k, places)) => {
                let (m, best) = (&c.m, &k.m);
                let at = m.track_start + (best.item_start - m.item_start) * m.speed;
                if at >= -REPEAT_MERGE_SECONDS && m.score * REPEAT_RATIO >= best.score {
                    let stretch = Repeat {
                        item_start: m.item_start,
                        item_end: m.item_end,
                        track_start: m.track_start,
                        track_end: m.track_end,
                    };
                    places.push(((at.max(0.0) * 1000.0).round() / 1000.0, stretch));
                }
                // The track's evidence in this stretch, wherever in the track it fits.
                k.anchors.extend_from_slice(&c.anchors);
            }
            None => kept.push((c, Vec::new())),
        }
    }
    for (k, places) in &mut kept {
        k.anchors.sort_unstable();
        k.anchors.dedup();
        places.sort_by(|a, b| a.0.total_cmp(&b.0));
        places.dedup_by(|b, a| b.0 - a.0 < REPEAT_MERGE_SECONDS);
        let best = k.m.track_start;
        places.retain(|(t, _)| (t - best).abs() >= REPEAT_MERGE_SECONDS);
        k.m.also_at = places.iter().map(|(t, _)| *t).collect();
        k.m.alignment.repeats = places.iter().map(|(_, r)| *r).collect();
    }
    kept.into_iter().map(|(k, _)| k).collect()
}

/// A match this many times weaker than an overlapping match of another track is dropped...
const SHADOW_RATIO: u32 = 4;

/// ...and so is a weaker one that rests on the stronger one's query peaks: at least this
/// fraction (1/n) of its anchors are the stronger match's too...
const SHARED_EVIDENCE_RATIO: usize = 2;

/// ...and the stronger one scores at least a quarter more (`SHARED_MARGIN.0 / .1` times): a
/// score is a count, whose chance part varies by about its square root, a quarter of a score of
/// 16 (scores near the thresholds are 8–20).
const SHARED_MARGIN: (u32, u32) = (5, 4);

/// Drops the matches that a stronger match of another track overshadows, covering at least
/// half of their time range. Within a soundtrack, a strong match's passage often echoes briefly
/// in another track (a shared motif), or two tracks share a whole passage (ufoai's
/// MarineUrbanWarfare and MarineBacktheAttack): the item's audio that fits the weaker track is
/// then the same audio that fits the stronger one better, and naming both would accuse a
/// recording on evidence that another explains. Two recordings really mixed together rest on
/// different peaks of the item and both stay, however unequal; two versions of one recording
/// that fit about equally well both stay too, since nothing tells which was copied.
pub(super) fn suppress_shadows(found: &mut Vec<Candidate>) {
    let mut drop = vec![false; found.len()];
    for (i, weak) in found.iter().enumerate() {
        drop[i] = found.iter().any(|strong| {
            let (s, w) = (strong.m.score, weak.m.score);
            if strong.m.track == weak.m.track || s <= w || !weak.under(strong) {
                return false;
            }
            let faint = s >= SHADOW_RATIO * w;
            let on_its_peaks = SHARED_MARGIN.1 * s >= SHARED_MARGIN.0 * w
                && SHARED_EVIDENCE_RATIO * weak.shared_anchors(strong) >= weak.anchors.len();
            faint || on_its_peaks
        });
    }
    let mut drop = drop.into_iter();
    found.retain(|_| !drop.next().unwrap_or(false));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TrackId;

    fn m(track: u32, score: u32, start: f64, end: f64) -> Match {
        Match {
            track: TrackId(track),
            score,
            confidence: 1.0,
            item_start: start,
            item_end: end,
            track_start: 0.0,
            track_end: end - start,
            speed: 1.0,
            pitch: 0.0,
            evidence: 10.0,
            also_at: Vec::new(),
            peak_check: None,
            alignment: Default::default(),
        }
    }

    /// A candidate whose query anchors are `anchors`.
    fn c(m: Match, anchors: impl IntoIterator<Item = u64>) -> Candidate {
        let mut anchors: Vec<u64> = anchors.into_iter().collect();
        anchors.sort_unstable();
        Candidate { m, anchors }
    }

    #[test]
    fn weak_echoes_under_a_strong_match_are_dropped_but_medleys_stay() {
        let mut v = vec![
            c(m(0, 60, 0.0, 10.0), 0..60),
            c(m(1, 10, 2.0, 4.0), 100..110),
            c(m(2, 40, 9.0, 20.0), 200..240),
            c(m(3, 30, 0.0, 10.0), 300..330),
        ];
        suppress_shadows(&mut v);
        let tracks: Vec<u32> = v.iter().map(|x| x.m.track.0).collect();
        assert_eq!(tracks, vec![0, 2, 3]);
    }

    /// A weaker match resting on the same query peaks as a stronger one of another track is the
    /// same audio fitting a shared passage; one resting on other peaks is another recording.
    #[test]
    fn a_match_on_a_stronger_ones_peaks_is_dropped_and_one_on_its_own_peaks_stays() {
        let suppressed = |weak: Candidate| {
            let mut v = vec![c(m(0, 30, 0.0, 10.0), 0..30), weak];
            suppress_shadows(&mut v);
            v.len() == 1
        };
        // Half of its anchors are the stronger match's: dropped.
        assert!(suppressed(c(m(1, 20, 1.0, 9.0), (20..30).chain(100..110))));
        // Fewer than half: kept, however much weaker (up to the shadow ratio).
        assert!(!suppressed(c(m(1, 20, 1.0, 9.0), (21..30).chain(100..111))));
        assert!(!suppressed(c(m(1, 8, 1.0, 9.0), 100..108)));
        // About as strong, on the very same peaks: two versions of one recording, both kept.
        assert!(!suppressed(c(m(1, 30, 0.0, 10.0), 0..30)));
        assert!(!suppressed(c(m(1, 25, 0.0, 10.0), 0..25)));
        assert!(suppressed(c(m(1, 24, 0.0, 10.0), 0..24)));
        // On the same peaks but mostly elsewhere in the item: kept.
        assert!(!suppressed(c(m(1, 20, 6.0, 20.0), 0..20)));
    }

    #[test]
    fn repeats_fold_into_the_best_place_and_only_strong_ones_are_listed() {
        let at = |score: u32, item_start: f64, track_start: f64| {
            let m = Match {
                track_start,
                ..m(0, score, item_start, item_start + 8.0)
            };
            c(m, [score.into()])
        };
        let folded = fold_repeats(vec![
            at(20, 0.0, 30.0),  // a full repeat: listed at 30
            at(40, 0.0, 10.0),  // the best place
            at(30, 0.2, 30.3),  // the same repeat seen from another window: listed once
            at(12, 0.0, 50.0),  // a part that recurs (under half the best score): not listed
            at(25, 4.0, 1.0),   // recurs at the track's opening, from 3 s before it: not listed
            at(25, 20.0, 70.0), // another stretch of the item: its own match
        ]);
        assert_eq!(folded.len(), 2, "{folded:?}");
        let (best, other) = (&folded[0].m, &folded[1].m);
        assert_eq!((best.score, best.track_start), (40, 10.0));
        assert_eq!(best.also_at, vec![30.0]);
        // Each place listed comes with the stretch verified there (of two places within half a
        // second, the earlier, as `also_at` keeps).
        let repeats: Vec<(f64, f64)> = (best.alignment.repeats.iter())
            .map(|r| (r.item_start, r.track_start))
            .collect();
        assert_eq!(repeats, vec![(0.0, 30.0)]);
        assert_eq!((other.score, other.item_start), (25, 20.0));
        assert!(other.also_at.is_empty());
        // The folded matches' evidence joins the best place's.
        assert_eq!(folded[0].anchors, vec![12, 20, 25, 30, 40]);
        assert_eq!(folded[1].anchors, vec![25]);
    }
}
