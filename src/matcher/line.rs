//! Finding the time line `r = speed · (q - centre) + offset` that the most hits agree with.
//!
//! For each candidate speed the hits' offsets are sorted and a two-pointer sweep finds the
//! interval of width `2·tolerance` holding the most of them: exact, O(n log n) per speed. The
//! offsets are re-sorted from the previous speed's order ([`LineScratch`]): neighbouring speeds
//! move a hit's offset by at most the tolerance, so that order is nearly right.
//! [`reference_best_count`] is the quadratic definition that sweep is tested against, and
//! [`reference_best_line`] (every speed swept) the definition of [`best_line`], which skips
//! groups of speeds whose upper bound falls short.

/// One query-to-catalogue coincidence: query frame `q` matched reference frame `r`, with the
/// pitch shift and span change that this one landmark pair shows (see
/// [`Detail::since`](crate::fingerprint::Detail::since)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hit {
    pub q: u32,
    pub r: u32,
    pub pitch: i16,
    pub span: i16,
    /// Found through a time-ratio cell beyond the probe margin (a wider search): it scores as
    /// any other hit, and tells the two searches apart where their yield is measured.
    pub far: bool,
    /// The query anchor's pitch cell (quarter semitones): with `q`, which query peak this
    /// evidence rests on, so that matches of two tracks resting on the same peaks can be told
    /// from two recordings heard together (`matcher::candidates::suppress_shadows`).
    pub anchor: u8,
}

// A query gathers millions of hits at scale (with their track, 20 bytes each): the anchor cell
// fits in what was padding.
const _: () = assert!(std::mem::size_of::<Hit>() == 16);

impl Hit {
    /// The same query frame, reference frame, pitch and span: one coincidence, however found.
    pub fn same_coincidence(&self, other: &Hit) -> bool {
        (self.q, self.r, self.pitch, self.span) == (other.q, other.r, other.pitch, other.span)
    }
}

/// The best line found and how many hits lie on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub speed: f64,
    /// Reference frame at query frame `centre`.
    pub offset: f64,
    pub centre: f64,
    pub count: usize,
}

impl Line {
    /// Reference frame predicted for query frame `q`.
    pub fn at(&self, q: f64) -> f64 {
        self.speed * (q - self.centre) + self.offset
    }
}

/// Candidate speeds covering ±`max_change` finely enough that, over `half_span` frames either
/// side of the centre, the line moves by at most `tolerance` between neighbouring candidates.
pub fn speeds(max_change: f64, half_span: f64, tolerance: f64) -> Vec<f64> {
    let step = (tolerance / half_span.max(1.0)).max(1e-4);
    let (lo, hi) = (1.0 / (1.0 + max_change), 1.0 + max_change);
    // Unchanged speed first, then outwards: on equal counts the speed nearest 1 wins, because
    // unchanged copies are by far the most common and short stretches cannot tell speeds apart.
    let mut v = vec![1.0];
    for i in 1.. {
        let (down, up) = (1.0 - step * i as f64, 1.0 + step * i as f64);
        if down < lo && up > hi {
            break;
        }
        v.extend([down, up].into_iter().filter(|s| (lo..=hi).contains(s)));
    }
    v
}

/// The line search's working memory: the hits' offsets at the last speed searched, sorted, each
/// with its hit. Kept between speeds (and windows), because at a neighbouring speed the same
/// order is nearly sorted and an insertion sort puts it right in about one pass; whatever it
/// holds, the next search sorts from scratch where that would be cheaper, so results never
/// depend on it.
#[derive(Debug, Default)]
pub struct LineScratch {
    pairs: Vec<(f64, u32)>,
}

/// Speeds per group whose common upper bound is checked before any of them is swept.
const SPEED_GROUP: usize = 8;

/// The line with the most hits within `tolerance`, over the given speeds, if it has at least
/// `min` (the earliest speed of `speeds` wins ties). The same answer as
/// [`reference_best_line`], with most speeds never swept: the speeds are taken in groups, and a
/// group is swept only if an upper bound on its best count, one sweep at the group's middle
/// speed with the tolerance widened by how far its speeds can move a hit, could beat the best
/// line so far and reach `min`. A long window (`--key-sample`) searches hundreds of speeds, and
/// most tracks are chance hits whose bound already falls short.
pub fn best_line(
    hits: &[Hit],
    centre: f64,
    speeds: &[f64],
    tolerance: f64,
    min: usize,
    scratch: &mut LineScratch,
) -> Option<Line> {
    let reach = hits
        .iter()
        .map(|h| (f64::from(h.q) - centre).abs())
        .fold(0.0, f64::max);
    let mut best: Option<Line> = None;
    // An upper bound on the best count among `group`'s speeds.
    let bound = |group: &[f64], scratch: &mut LineScratch| {
        // Speeds run outwards from 1 on both sides: bound each side's interval separately.
        [false, true]
            .into_iter()
            .filter_map(|above| {
                let (lo, hi) = group
                    .iter()
                    .filter(|&&s| (s >= 1.0) == above)
                    .fold((f64::MAX, f64::MIN), |(lo, hi), &s| (lo.min(s), hi.max(s)));
                (lo <= hi).then(|| {
                    // A hit's offset moves by at most (hi - lo) / 2 · reach between the middle
                    // speed and any speed of the side, so a pair by twice that.
                    let widened = tolerance + 0.5 * (hi - lo) * reach + 1e-6;
                    densest(hits, centre, 0.5 * (lo + hi), widened, scratch).0
                })
            })
            .max()
            .unwrap_or(0)
    };
    // Two levels of groups where there are many speeds: a long window's hundreds are first
    // bounded in blocks of SPEED_GROUP² (a chance track's few hits rarely gather even then),
    // then in groups. (An unsampled window's two dozen speeds go straight to groups: a block
    // bound over all of them prunes too little to pay.)
    let blocks = speeds.len() > SPEED_GROUP * SPEED_GROUP;
    let block_len = if blocks {
        SPEED_GROUP * SPEED_GROUP
    } else {
        speeds.len().max(1)
    };
    let need = |best: Option<Line>| best.map_or(min, |b| min.max(b.count + 1));
    for block in speeds.chunks(block_len) {
        if blocks && bound(block, scratch) < need(best) {
            continue;
        }
        for group in block.chunks(SPEED_GROUP) {
            if bound(group, scratch) < need(best) {
                continue;
            }
            for &speed in group {
                sweep(hits, centre, speed, tolerance, scratch, &mut best);
            }
        }
    }
    best.filter(|b| b.count >= min)
}

/// Hits beyond which [`may_reach`] answers yes without looking: its quadratic cost is for the
/// few hits of chance tracks, and a window with more usually holds a line.
pub const PAIR_BOUND_MAX_HITS: usize = 48;

/// Whether a line of [`best_line`] at some speed within `lo..=hi` could gather `min` of
/// `hits` (ordered by query frame, as a window's are): a necessary test, several times cheaper
/// for the few hits of a chance track than the block and group bounds that `best_line` starts
/// with. Hits on one line lie within `2·tolerance` of each other, so the first of them, `i`,
/// sees each later one at an offset `Δr − s·Δq` within `2·tolerance`: each such partner allows
/// an interval of speeds, and `min − 1` later partners of one hit must allow one speed
/// together. The deepest overlap of those intervals, over every hit, bounds the best line's
/// count from above (at every speed of the range, not only the grid's), so a window that fails
/// cannot yield a line.
pub fn may_reach(
    hits: &[Hit],
    (lo, hi): (f64, f64),
    tolerance: f64,
    min: usize,
    events: &mut Vec<(f64, i32)>,
) -> bool {
    if hits.len() > PAIR_BOUND_MAX_HITS || min <= 1 {
        return hits.len() >= min;
    }
    if hits.len() < min {
        return false;
    }
    // Rounding in `best_line`'s offsets must not exclude what it counts: widen a little.
    let width = 2.0 * tolerance + 1e-6;
    debug_assert!(hits.is_sorted_by_key(|h| h.q));
    for (i, a) in hits.iter().enumerate() {
        if hits.len() - i < min {
            break;
        }
        events.clear();
        let mut always = 0;
        for b in &hits[i + 1..] {
            let (dq, dr) = (
                f64::from(b.q) - f64::from(a.q),
                f64::from(b.r) - f64::from(a.r),
            );
            if dq == 0.0 {
                always += usize::from(dr.abs() <= width);
                continue;
            }
            let (x, y) = ((dr - width) / dq, (dr + width) / dq);
            let (from, to) = (x.min(y).max(lo), x.max(y).min(hi));
            if from <= to {
                events.push((from, 1));
                events.push((to, -1));
            }
        }
        if 1 + always + events.len() / 2 < min {
            continue;
        }
        // Closed intervals: at one speed, openings count before closings.
        events.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        let mut depth = 0;
        for &(_, step) in events.iter() {
            depth += step;
            if 1 + always + depth as usize >= min {
                return true;
            }
        }
        if 1 + always >= min {
            return true;
        }
    }
    false
}

#[cfg(test)]
/// [`best_line`] by sweeping every speed, each sorted afresh: the definition it is tested
/// against.
pub fn reference_best_line(
    hits: &[Hit],
    centre: f64,
    speeds: &[f64],
    tolerance: f64,
    min: usize,
) -> Option<Line> {
    let mut best: Option<Line> = None;
    for &speed in speeds {
        let mut offsets: Vec<f64> = hits
            .iter()
            .map(|h| f64::from(h.r) - speed * (f64::from(h.q) - centre))
            .collect();
        offsets.sort_unstable_by(f64::total_cmp);
        let (count, offset) = densest_sorted(&offsets, |&o| o, tolerance);
        if count > 0 && best.is_none_or(|b| count > b.count) {
            best = Some(Line {
                speed,
                offset,
                centre,
                count,
            });
        }
    }
    best.filter(|b| b.count >= min)
}

/// Replaces `best` by the densest line at `speed` if it has more hits.
fn sweep(
    hits: &[Hit],
    centre: f64,
    speed: f64,
    tolerance: f64,
    scratch: &mut LineScratch,
    best: &mut Option<Line>,
) {
    let (count, offset) = densest(hits, centre, speed, tolerance, scratch);
    if count > 0 && best.is_none_or(|b| count > b.count) {
        *best = Some(Line {
            speed,
            offset,
            centre,
            count,
        });
    }
}

/// The most hits whose offsets at `speed` lie within `2·tolerance` of each other, and the middle
/// of the first such interval.
fn densest(
    hits: &[Hit],
    centre: f64,
    speed: f64,
    tolerance: f64,
    scratch: &mut LineScratch,
) -> (usize, f64) {
    let pairs = &mut scratch.pairs;
    // `pairs` always holds a permutation of 0..its length: another window's order serves as a
    // starting point if it has as many hits, else start afresh.
    if pairs.len() != hits.len() {
        pairs.clear();
        pairs.extend((0..hits.len() as u32).map(|i| (0.0, i)));
    }
    for p in pairs.iter_mut() {
        let h = &hits[p.1 as usize];
        p.0 = f64::from(h.r) - speed * (f64::from(h.q) - centre);
    }
    sort_nearly_sorted(pairs);
    densest_sorted(pairs, |p| p.0, tolerance)
}

/// Sorts by offset: by insertion while that stays cheap (an order from a neighbouring speed needs
/// few moves), else by a full sort.
fn sort_nearly_sorted(pairs: &mut [(f64, u32)]) {
    let mut budget = 4 * pairs.len() + 64;
    for i in 1..pairs.len() {
        let item = pairs[i];
        let mut j = i;
        while j > 0 && pairs[j - 1].0.total_cmp(&item.0).is_gt() {
            pairs[j] = pairs[j - 1];
            j -= 1;
        }
        pairs[j] = item;
        budget = match budget.checked_sub(i - j) {
            Some(left) => left,
            None => {
                pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                return;
            }
        };
    }
}

/// The densest interval of width `2·tolerance` among `sorted`'s offsets (ascending), and the
/// middle of the first such interval.
fn densest_sorted<T>(sorted: &[T], offset: impl Fn(&T) -> f64, tolerance: f64) -> (usize, f64) {
    let (mut lo, mut best) = (0, (0, 0.0));
    for hi in 0..sorted.len() {
        while offset(&sorted[hi]) - offset(&sorted[lo]) > 2.0 * tolerance {
            lo += 1;
        }
        if hi + 1 - lo > best.0 {
            best = (
                hi + 1 - lo,
                0.5 * (offset(&sorted[lo]) + offset(&sorted[hi])),
            );
        }
    }
    best
}

#[cfg(test)]
/// The quadratic definition of [`best_line`]'s count, for tests.
pub fn reference_best_count(hits: &[Hit], centre: f64, speeds: &[f64], tolerance: f64) -> usize {
    let mut best = 0;
    for &speed in speeds {
        let off = |h: &Hit| f64::from(h.r) - speed * (f64::from(h.q) - centre);
        for a in hits {
            let start = off(a);
            let n = hits
                .iter()
                .filter(|h| (off(h) - start) >= 0.0 && (off(h) - start) <= 2.0 * tolerance)
                .count();
            best = best.max(n);
        }
    }
    best
}

/// Least-squares refit of a line through `hits` (speed clamped to the searched range). The
/// speed is only re-estimated when the hits span at least `min_span` query frames.
pub fn refit(hits: &[Hit], centre: f64, fallback: Line, max_change: f64, min_span: u32) -> Line {
    let n = hits.len() as f64;
    if hits.len() < 3 {
        return fallback;
    }
    let mq = hits.iter().map(|h| f64::from(h.q) - centre).sum::<f64>() / n;
    let mr = hits.iter().map(|h| f64::from(h.r)).sum::<f64>() / n;
    let (mut sqq, mut sqr) = (0.0, 0.0);
    for h in hits {
        let dq = f64::from(h.q) - centre - mq;
        sqq += dq * dq;
        sqr += dq * (f64::from(h.r) - mr);
    }
    // Too short a stretch to measure a slope: keep the searched one.
    let span =
        hits.iter().map(|h| h.q).max().unwrap_or(0) - hits.iter().map(|h| h.q).min().unwrap_or(0);
    let speed = if sqq > 1e-9 && span >= min_span {
        (sqr / sqq).clamp(1.0 / (1.0 + max_change), 1.0 + max_change)
    } else {
        fallback.speed
    };
    Line {
        speed,
        offset: mr - speed * mq,
        centre,
        count: hits.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Hits on the line `r = origin + speed·q` at the query frames `line`, then the chance hits
    /// `noise` (query frame, reference frame).
    fn line_among(line: &[u32], origin: u32, speed: f64, noise: &[(u32, u32)]) -> Vec<Hit> {
        let on_line = line
            .iter()
            .map(|&q| (q, origin + (f64::from(q) * speed) as u32));
        on_line
            .chain(noise.iter().copied())
            .map(|(q, r)| Hit {
                q,
                r,
                ..Hit::default()
            })
            .collect()
    }

    proptest! {
        #[test]
        fn sweep_count_equals_the_quadratic_definition(
            raw in proptest::collection::vec((0u32..500, 0u32..800), 0..120),
            tolerance in 0.5f64..6.0,
        ) {
            let hits: Vec<Hit> = raw.into_iter().map(|(q, r)| Hit { q, r, ..Hit::default() }).collect();
            let s = speeds(0.1, 250.0, tolerance);
            let fast = best_line(&hits, 250.0, &s, tolerance, 0, &mut LineScratch::default()).map_or(0, |l| l.count);
            prop_assert_eq!(fast, reference_best_count(&hits, 250.0, &s, tolerance));
        }

        #[test]
        fn a_window_the_pair_bound_rejects_holds_no_line(
            line in proptest::collection::vec(0u32..3000, 0..8),
            noise in proptest::collection::vec((0u32..3000, 0u32..4000), 0..40),
            speed in 0.9f64..1.1,
            min in 2usize..8,
            tolerance in 0.5f64..4.0,
        ) {
            // A short line among chance hits, some of them at one query frame or on one row.
            let mut hits = line_among(&line, 500, speed, &noise);
            let s = speeds(0.1, 1500.0, tolerance);
            let range = (s.iter().copied().fold(f64::MAX, f64::min), s.iter().copied().fold(f64::MIN, f64::max));
            hits.sort_by_key(|h| h.q);
            let mut events = Vec::new();
            if !may_reach(&hits, range, tolerance, min, &mut events) {
                prop_assert_eq!(reference_best_line(&hits, 1500.0, &s, tolerance, min), None);
            }
            // A line of `min` hits at a searched speed is never rejected, whatever else is there.
            if (range.0..=range.1).contains(&speed) {
                let frames: Vec<u32> = (0..min as u32).map(|k| 100 * k).collect();
                let mut with_line = line_among(&frames, 500, speed, &noise);
                with_line.truncate(PAIR_BOUND_MAX_HITS);
                with_line.sort_by_key(|h| h.q);
                prop_assert!(may_reach(&with_line, range, tolerance, min, &mut events));
            }
        }

        #[test]
        fn pruned_search_equals_sweeping_every_speed(
            line in proptest::collection::vec(0u32..3000, 0..60),
            noise in proptest::collection::vec((0u32..3000, 0u32..9000), 0..200),
            speed in 0.9f64..1.1,
            min in 0usize..30,
            half_span in 100f64..3000.0,
        ) {
            // A line at some speed among chance hits, over short and long windows.
            let hits = line_among(&line, 2000, speed, &noise);
            let s = speeds(0.1, half_span, 3.0);
            let centre = 1500.0;
            // One scratch for both, holding another window's order first, as in the matcher.
            let mut scratch = LineScratch::default();
            let _ = best_line(&hits[hits.len() / 2..], centre, &s, 3.0, min, &mut scratch);
            prop_assert_eq!(
                best_line(&hits, centre, &s, 3.0, min, &mut scratch),
                reference_best_line(&hits, centre, &s, 3.0, min)
            );
        }
    }

    #[test]
    fn finds_a_sped_up_line_among_noise() {
        let mut hits: Vec<Hit> = (0..40)
            .map(|i| Hit {
                q: i * 15,
                r: 1000 + (f64::from(i * 15) * 1.05) as u32,
                ..Hit::default()
            })
            .collect();
        hits.extend((0..40).map(|i| Hit {
            q: (i * 37) % 600,
            r: (i * 7919) % 3000,
            ..Hit::default()
        }));
        let s = speeds(0.1, 300.0, 3.0);
        let line = best_line(&hits, 300.0, &s, 3.0, 10, &mut LineScratch::default()).unwrap();
        assert!(line.count >= 40);
        let inliers: Vec<Hit> = hits
            .iter()
            .copied()
            .filter(|h| (f64::from(h.r) - line.at(f64::from(h.q))).abs() <= 3.0)
            .collect();
        let fit = refit(&inliers, 300.0, line, 0.1, 100);
        assert!((fit.speed - 1.05).abs() < 0.002, "{}", fit.speed);
        assert!((fit.at(0.0) - 1000.0).abs() < 2.0);
    }
}
