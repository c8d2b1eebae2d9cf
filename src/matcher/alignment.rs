//! What a plot of a match needs, carried out of the matcher so that nothing is scanned again:
//! the landmark pairs on the match's line ([`MatchAlignment`]), thinned to [`MAX_PAIRS`]
//! evenly spread, the fitted line, and the stretch each listed repeat of the passage covers
//! ([`Repeat`]). The matcher computes all of it to decide the match; none of it decides
//! anything here.

use serde::{Deserialize, Serialize};

use super::line::{Hit, Line};

/// Landmark pairs a match carries at most: a plot of a few hundred points shows a line as well
/// as one of thousands, and a record stays under a few kilobytes however long the match
/// (docs/decisions/0040-alignment-pairs-capped-at-200).
pub const MAX_PAIRS: usize = 200;

/// The evidence of a match as a plot draws it: item time against track time.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MatchAlignment {
    /// Distinct (item frame, track frame) landmark pairs on the match's line.
    pub pairs: u32,
    /// At most [`MAX_PAIRS`] of them, evenly spread in item time: the item's times and the
    /// track's, centiseconds, in item order.
    pub item_cs: Vec<u32>,
    pub track_cs: Vec<u32>,
    /// The fitted line: track seconds = `offset` + `speed` × item seconds (`speed` unrounded,
    /// where the match's own is rounded to thousandths).
    pub speed: f64,
    pub offset: f64,
    /// For each place of the match's `also_at`, in its order, the stretch of the item and of the
    /// track that was verified there.
    #[serde(default)]
    pub repeats: Vec<Repeat>,
}

/// Where a repeat of the passage lies, seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Repeat {
    pub item_start: f64,
    pub item_end: f64,
    pub track_start: f64,
    pub track_end: f64,
}

impl MatchAlignment {
    /// The alignment of `inliers` (sorted, as segments hold them) on `line`, whose frames last
    /// `frame_seconds`.
    pub(super) fn of(inliers: &[Hit], line: &Line, frame_seconds: f64) -> Self {
        let mut pairs: Vec<(u32, u32)> = inliers.iter().map(|h| (h.q, h.r)).collect();
        pairs.dedup();
        let centiseconds = |frame: u32| (f64::from(frame) * frame_seconds * 100.0).round() as u32;
        let kept = spread(pairs.len(), MAX_PAIRS);
        MatchAlignment {
            pairs: pairs.len() as u32,
            item_cs: kept.clone().map(|i| centiseconds(pairs[i].0)).collect(),
            track_cs: kept.map(|i| centiseconds(pairs[i].1)).collect(),
            speed: line.speed,
            offset: frame_seconds * (line.offset - line.speed * line.centre),
            repeats: Vec::new(),
        }
    }
}

/// `keep` indices of `0..n` evenly spread, first and last included (all of them where `n` is
/// no more than `keep`).
fn spread(n: usize, keep: usize) -> impl Iterator<Item = usize> + Clone {
    let step = (n > keep && keep > 1).then(|| (n - 1) as f64 / (keep - 1) as f64);
    (0..n.min(keep)).map(move |i| step.map_or(i, |s| (i as f64 * s).round() as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_thinned_evenly_and_keep_both_ends() {
        let all: Vec<usize> = spread(50, 200).collect();
        assert_eq!(all, (0..50).collect::<Vec<_>>());
        let thin: Vec<usize> = spread(1000, 200).collect();
        assert_eq!(thin.len(), 200);
        assert_eq!((thin[0], thin[199]), (0, 999));
        assert!(thin.windows(2).all(|w| (5..=6).contains(&(w[1] - w[0]))));
        assert_eq!(spread(0, 200).count(), 0);
    }

    #[test]
    fn an_alignment_holds_distinct_pairs_in_centiseconds_and_the_line_in_seconds() {
        // Two hits of one pair (other landmarks of the same anchor), then a pair per 10 frames,
        // on the line track = item + 300 frames, centred at frame 40.
        let mut hits: Vec<Hit> = (0..500u32)
            .map(|i| Hit {
                q: 10 * i,
                r: 10 * i + 300,
                ..Hit::default()
            })
            .collect();
        hits.insert(
            1,
            Hit {
                pitch: 4,
                ..hits[0]
            },
        );
        let line = Line {
            speed: 1.0,
            offset: 340.0,
            centre: 40.0,
            count: 500,
        };
        let a = MatchAlignment::of(&hits, &line, 0.016);
        assert_eq!(a.pairs, 500);
        assert_eq!(a.item_cs.len(), MAX_PAIRS);
        assert_eq!((a.item_cs[0], a.track_cs[0]), (0, 480));
        // The last pair, frame 4990: 79.84 s.
        assert_eq!(a.item_cs[MAX_PAIRS - 1], 7984);
        assert!((a.offset - 4.8).abs() < 1e-9, "{}", a.offset);
        for (i, t) in a.item_cs.iter().zip(&a.track_cs) {
            assert_eq!(t - i, 480);
        }
    }
}
