//! Hits grouped for the line search: by track ([`for_each_track`], a counting sort), by pitch
//! shift ([`split_by_pitch`]), and the cheap tests that rule a group out before any line is
//! searched ([`offsets_cluster`], [`unchanged_cluster`]). Each fast grouping is tested against
//! a plain sort or search.

use super::line::{Hit, Line};
use super::lookup::{PITCH_TOLERANCE, SPAN_TOLERANCE};

/// Calls `f` with each track's distinct hits, sorted, in track order, for the tracks with at
/// least `min` of them. Most tracks of a large index get chance hits: grouping by track first
/// (a counting sort) and then sorting each track's few costs a fraction of one sort of them all,
/// which was a third of a query's time at 10^8 postings (BENCHMARKS.md). Tracks with too few
/// hits are left out before the grouping. Only the hits before query frame `below` count (a
/// chunk's: [`Matcher::resolve_chunk`](super::Matcher::resolve_chunk)); once grouped, only
/// those from `keep_from` on stay in `hits`, which keeps its allocation for the next item
/// (`Spare`).
pub(super) fn for_each_track(
    hits: &mut Vec<(u32, Hit)>,
    (below, keep_from): (u32, u32),
    tracks: usize,
    min: usize,
    scratch: &mut Grouping,
    mut f: impl FnMut(u32, &[Hit]),
) {
    if hits.is_empty() {
        // Silence, or an item's end just after a chunk: no table of every track to clear.
        return;
    }
    let Grouping {
        slot,
        kept,
        grouped,
    } = scratch;
    slot.clear();
    slot.resize(tracks, 0);
    for &(track, _) in hits.iter().filter(|(_, h)| h.q < below) {
        slot[track as usize] += 1;
    }
    kept.clear();
    let mut total = 0;
    for (t, entry) in slot.iter_mut().enumerate() {
        let n = *entry;
        if n > 0 && n as usize >= min {
            *entry = total;
            total += n;
            kept.push(t as u32);
        } else {
            *entry = u32::MAX;
        }
    }
    grouped.clear();
    grouped.resize(total as usize, Hit::default());
    for &(track, hit) in hits.iter().filter(|(_, h)| h.q < below) {
        let at = &mut slot[track as usize];
        if *at != u32::MAX {
            grouped[*at as usize] = hit;
            *at += 1;
        }
    }
    hits.retain(|(_, h)| h.q >= keep_from);
    // Kept tracks' hits lie in track order, each run ending where the next begins.
    let mut start = 0;
    for &t in kept.iter() {
        let end = slot[t as usize] as usize;
        let run = &mut grouped[start..end];
        start = end;
        // Landmarks arrive in time order, so (unless probes were batched and sorted by hash)
        // each track's hits already ascend in query frame and only each frame's few need
        // sorting.
        if run.is_sorted_by_key(|h| h.q) {
            for frame in run.chunk_by_mut(|a, b| a.q == b.q) {
                frame.sort_unstable();
            }
        } else {
            run.sort_unstable();
        }
        // Several probes and triplets of one anchor can hit the same posting: count it once.
        let run = dedup_sorted(run);
        if run.len() >= min {
            f(t, run);
        }
    }
}

/// [`for_each_track`]'s buffers, kept from chunk to chunk: a chunk of a long item among a
/// large catalogue's chance hits groups hundreds of megabytes.
#[derive(Default)]
pub(super) struct Grouping {
    /// One entry per catalogue track (a million in a large catalogue), used three ways: each
    /// track's hit count; then where its hits go (u32::MAX for a track left out); after the
    /// scatter, where they end.
    slot: Vec<u32>,
    /// The tracks with enough hits, ascending.
    kept: Vec<u32>,
    /// Their hits, by track.
    grouped: Vec<Hit>,
}

/// The distinct coincidences of a sorted slice, moved to its front: hits that differ only in
/// how they were found count once, as found through a near cell (which sorts first).
fn dedup_sorted(run: &mut [Hit]) -> &[Hit] {
    let mut len = 0;
    for i in 0..run.len() {
        if len == 0 || !run[i].same_coincidence(&run[len - 1]) {
            run[len] = run[i];
            len += 1;
        }
    }
    &run[..len]
}

/// How many distinct query pitches (anchor cells) the hits start from.
pub(super) fn pitches_of(hits: &[Hit]) -> usize {
    let mut seen = [false; 256];
    hits.iter()
        .filter(|h| !std::mem::replace(&mut seen[usize::from(h.anchor)], true))
        .count()
}

/// The centre of the pitch interval of width 2·tolerance holding the most hits (the lowest such
/// centre on ties), and how many it holds.
pub(super) fn densest_pitch(hits: &[Hit]) -> Option<(i32, usize)> {
    with_pitch_counts(hits, |counts, base| {
        let (at, count) = densest_interval(counts);
        (
            base + at as i32 + i32::from(PITCH_TOLERANCE),
            count as usize,
        )
    })
}

/// The hits split by pitch shift, for the line search: `shifts[i]` is the centre of an
/// interval of width 2·tolerance (quarter semitones), and `groups[i]` holds its hits in their
/// order. The first is [`densest_pitch`]'s, the next the
/// densest among the hits outside it, and so on while an interval holds at least `needed`
/// hits. `group_of` is scratch.
pub(super) fn split_by_pitch(
    hits: &[Hit],
    needed: usize,
    shifts: &mut Vec<i32>,
    group_of: &mut Vec<u16>,
    groups: &mut Vec<Vec<Hit>>,
) {
    shifts.clear();
    if hits.len() < needed {
        return;
    }
    let t = usize::from(PITCH_TOLERANCE.unsigned_abs());
    let width = 2 * t + 1;
    let Some(base) = with_pitch_counts(hits, |counts, base| {
        group_of.clear();
        group_of.resize(counts.len(), u16::MAX);
        // Shifts are numbered in u16; a range that wide is absurd.
        while shifts.len() < usize::from(u16::MAX) {
            let (at, count) = densest_interval(counts);
            if count == 0 || (count as usize) < needed {
                break;
            }
            shifts.push(base + (at + t) as i32);
            counts[at..at + width].fill(0);
            // Intervals may overlap: the hits in both are the earlier one's.
            for owner in &mut group_of[at..at + width] {
                if *owner == u16::MAX {
                    *owner = (shifts.len() - 1) as u16;
                }
            }
        }
        base
    }) else {
        return;
    };
    if groups.len() < shifts.len() {
        groups.resize_with(shifts.len(), Vec::new);
    }
    groups.iter_mut().for_each(Vec::clear);
    // One pass for all of them.
    for h in hits {
        let g = group_of[(i32::from(h.pitch) - base) as usize];
        if g != u16::MAX {
            groups[usize::from(g)].push(*h);
        }
    }
}

/// Calls `f` with the hits' count per pitch shift (quarter semitones) and the shift of the
/// first count. Counts are padded by 2·tolerance on both sides, so that intervals of width
/// 2·tolerance can centre anywhere within tolerance of a hit. Pitch shifts are small integers
/// spanning little more than the searched range: on the stack unless a caller allows unusual
/// shifts.
fn with_pitch_counts<R>(hits: &[Hit], f: impl FnOnce(&mut [u32], i32) -> R) -> Option<R> {
    let lo = i32::from(hits.iter().map(|h| h.pitch).min()?);
    let hi = i32::from(hits.iter().map(|h| h.pitch).max()?);
    let t = i32::from(PITCH_TOLERANCE);
    let len = (hi - lo + 1 + 4 * t) as usize;
    let (mut stack, mut heap) = ([0u32; 64], Vec::new());
    let counts: &mut [u32] = if len <= stack.len() {
        &mut stack[..len]
    } else {
        heap.resize(len, 0);
        &mut heap
    };
    for h in hits {
        counts[(i32::from(h.pitch) - lo + 2 * t) as usize] += 1;
    }
    Some(f(counts, lo - 2 * t))
}

/// The first start of the densest run of 2·tolerance + 1 counts, and its sum.
fn densest_interval(counts: &[u32]) -> (usize, u32) {
    let width = 2 * usize::from(PITCH_TOLERANCE.unsigned_abs()) + 1;
    let mut sum: u32 = counts[..width].iter().sum();
    let (mut best, mut best_at) = (sum, 0usize);
    for start in 1..=counts.len() - width {
        sum = sum + counts[start + width - 1] - counts[start - 1];
        if sum > best {
            (best, best_at) = (sum, start);
        }
    }
    (best_at, best)
}

/// Whether at least `min` hits have offsets `r - q` within one interval of width `2·drift`: a
/// necessary condition for a line with that many hits at any searched speed. Offsets are whole
/// frames, so they sort as integers; `scratch` keeps the allocation.
pub(super) fn offsets_cluster<'h>(
    hits: impl IntoIterator<Item = &'h Hit>,
    drift: f64,
    min: usize,
    scratch: &mut Vec<i64>,
) -> bool {
    scratch.clear();
    scratch.extend(hits.into_iter().map(|h| i64::from(h.r) - i64::from(h.q)));
    scratch.sort_unstable();
    let mut lo = 0;
    (0..scratch.len()).any(|hi| {
        while (scratch[hi] - scratch[lo]) as f64 > 2.0 * drift {
            lo += 1;
        }
        hi + 1 - lo >= min
    })
}

/// Whether a hit shows neither a pitch shift nor a time scale: it can lie on an unchanged
/// copy's line.
pub(super) fn unchanged(h: &Hit) -> bool {
    h.pitch.abs() <= PITCH_TOLERANCE && f64::from(h.span).abs() <= SPAN_TOLERANCE
}

/// Whether at least `min` of `hits` that show no change have offsets `r - q` within one
/// interval of width `2·tolerance`: a necessary condition for
/// [`Matcher::unchanged_line`](super::Matcher::unchanged_line), tested per track before any
/// window (among 10^8 postings a track holds about 65 hits of a clip, 13 % of them unchanged,
/// and 1 track in 27 passes). `offsets` is scratch.
pub(super) fn unchanged_cluster(
    hits: &[Hit],
    tolerance: f64,
    min: usize,
    offsets: &mut Vec<i64>,
) -> bool {
    offsets_cluster(
        hits.iter().filter(|h| unchanged(h)),
        tolerance,
        min,
        offsets,
    )
}

/// Distinct query anchors among hits sorted by query frame: the score of a match. Several
/// triplets of one anchor agreeing are one piece of evidence, not several.
pub(super) fn anchors_of(hits: &[Hit]) -> usize {
    hits.iter()
        .enumerate()
        .filter(|&(i, h)| i == 0 || hits[i - 1].q != h.q)
        .count()
}

pub(super) fn is_inlier(h: &Hit, line: &Line, tolerance: f64) -> bool {
    (f64::from(h.r) - line.at(f64::from(h.q))).abs() <= tolerance
}

pub(super) fn inliers_of(hits: &[Hit], line: &Line, tolerance: f64) -> Vec<Hit> {
    hits.iter()
        .copied()
        .filter(|h| is_inlier(h, line, tolerance))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::below;

    #[test]
    fn hits_grouped_by_track_match_one_sort_of_them_all() {
        let mut next = below(0x9E37_79B9_7F4A_7C15);
        for round in 0..400 {
            let tracks = 1 + next(12) as usize;
            let min = next(6) as usize;
            // Few distinct values, so that duplicates are common.
            let mut hits: Vec<(u32, Hit)> = (0..next(120))
                .map(|_| {
                    let hit = Hit {
                        q: next(8) as u32,
                        r: next(4) as u32,
                        pitch: next(3) as i16 - 1,
                        span: 0,
                        far: next(4) == 0,
                        anchor: next(2) as u8,
                    };
                    (next(tracks as u64) as u32, hit)
                })
                .collect();
            // Half the rounds in query-frame order, as landmarks arrive, which takes the
            // per-frame sort.
            if round % 2 == 0 {
                hits.sort_by_key(|&(_, h)| h.q);
            }
            // A chunk: the hits before `below` are grouped, those from `keep_from` on stay
            // (query frames run to 7; 8 takes them all).
            let (below, keep_from) = (1 + next(8) as u32, next(9) as u32);
            // The reference: one sort, then runs of tracks with `min` hits before and after
            // removing duplicates.
            let mut sorted: Vec<(u32, Hit)> =
                hits.iter().copied().filter(|(_, h)| h.q < below).collect();
            sorted.sort_unstable();
            let mut kept = hits.clone();
            kept.retain(|(_, h)| h.q >= keep_from);
            let mut expected = Vec::new();
            for run in sorted.chunk_by(|a, b| a.0 == b.0) {
                let mut distinct: Vec<Hit> = run.iter().map(|&(_, h)| h).collect();
                distinct.dedup_by(|b, a| a.same_coincidence(b));
                if run.len() >= min && distinct.len() >= min {
                    expected.push((run[0].0, distinct));
                }
            }
            let mut got = Vec::new();
            let mut scratch = Grouping::default();
            let span = (below, keep_from);
            for_each_track(&mut hits, span, tracks, min, &mut scratch, |t, run| {
                got.push((t, run.to_vec()))
            });
            assert_eq!(got, expected, "round {round}");
            assert_eq!(hits, kept, "round {round}");
        }
    }

    #[test]
    fn densest_pitch_matches_a_brute_force_search() {
        let mut next = below(0x2545_F491_4F6C_DD1D);
        for _ in 0..500 {
            let len = 1 + next(40) as usize;
            let hits: Vec<Hit> = (0..len)
                .map(|_| Hit {
                    pitch: next(30) as i16 - 15,
                    ..Hit::default()
                })
                .collect();
            let t = i32::from(PITCH_TOLERANCE);
            let count = |c: i32| {
                hits.iter()
                    .filter(|h| (i32::from(h.pitch) - c).abs() <= t)
                    .count()
            };
            // The lowest centre of the fullest window, over every centre that can hold a hit.
            let best = (-40..=40).max_by_key(|&c| (count(c), -c)).unwrap();
            assert_eq!(densest_pitch(&hits), Some((best, count(best))), "{hits:?}");
        }
        assert_eq!(densest_pitch(&[]), None);
    }

    /// The hits split by pitch shift as taking the densest shift, then the densest among the
    /// rest, and so on would split them.
    #[test]
    fn hits_split_by_pitch_as_repeated_densest_shifts_would() {
        let mut next = below(11);
        let (mut shifts, mut group_of, mut groups) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..500 {
            let n = next(60) as usize;
            let spread = 1 + next(30);
            let mut hits: Vec<Hit> = (0..n)
                .map(|_| Hit {
                    q: next(400) as u32,
                    r: next(5000) as u32,
                    pitch: next(spread) as i16 - (spread / 2) as i16,
                    ..Hit::default()
                })
                .collect();
            hits.sort_by_key(|h| h.q);
            let needed = 1 + next(6) as usize;
            split_by_pitch(&hits, needed, &mut shifts, &mut group_of, &mut groups);
            let mut rest = hits.clone();
            let mut expected = Vec::new();
            while let Some((pitch, count)) = densest_pitch(&rest)
                && count >= needed
            {
                let near = |h: &Hit| (i32::from(h.pitch) - pitch).abs() <= 2;
                expected.push((pitch, rest.iter().copied().filter(near).collect::<Vec<_>>()));
                rest.retain(|h| !near(h));
            }
            let got: Vec<(i32, Vec<Hit>)> = shifts
                .iter()
                .zip(&groups)
                .map(|(&pitch, g)| (pitch, g.clone()))
                .collect();
            assert_eq!(got, expected, "round {round}");
        }
    }

    #[test]
    fn offsets_cluster_matches_a_brute_force_search() {
        let mut next = below(0x9E37_79B9_7F4A_7C15);
        let mut scratch = Vec::new();
        for _ in 0..500 {
            let hits: Vec<Hit> = (0..1 + next(30))
                .map(|_| Hit {
                    q: next(400) as u32,
                    r: 1000 + next(60) as u32,
                    ..Hit::default()
                })
                .collect();
            let (drift, min) = (next(20) as f64 / 2.0, 1 + next(8) as usize);
            let offset = |h: &Hit| i64::from(h.r) - i64::from(h.q);
            // Some hit's offset starts an interval of width 2·drift holding `min` of them.
            let brute = hits.iter().any(|a| {
                let fits = |b: &&Hit| (0..=(2.0 * drift) as i64).contains(&(offset(b) - offset(a)));
                hits.iter().filter(fits).count() >= min
            });
            assert_eq!(offsets_cluster(&hits, drift, min, &mut scratch), brute);
        }
    }
}
