//! Which triplet keys a query landmark is looked up under ([`probes`]), and which fourth-peak
//! cells of a common triplet it reads ([`fourth_cells`]).
//!
//! The index stores one hash per landmark; a query looks up a small set of triplet keys: the
//! cells that jitter near a cell edge could have moved a feature to, every anchor band within
//! the pitch range searched, and every span level within the tempo range searched. Intervals
//! and the time ratio do not change under pitch, speed or tempo changes, so they need no such
//! search, but a short triplet's ratio moves with its peaks' timing (the far blocks).

use crate::codec::Hash;
use crate::fingerprint::{HashLayout, Landmark};
use crate::tuning::QueryParams;

/// The fourth-peak cells a query reads of a common triplet, as a set (bit `c` for cell
/// `c`): each candidate's cell, its neighbour when the candidate lies near the edge, and
/// "none" when the query's zone ran out of candidates (so the index's may have too). Empty
/// for an index without fourth peaks.
pub fn fourth_cells(layout: &HashLayout, m: &Landmark, q: &QueryParams) -> u64 {
    let Some(axis) = layout.keys.fourth else {
        return 0;
    };
    let margin = q.probe_margin.clamp(0.0, 0.5);
    let real = layout.no_fourth() - 1;
    let mut cells = 0u64;
    for &d in m.fourths() {
        let x = layout.fourth_coordinate(d);
        for c in axis.range(x - margin, x + margin) {
            cells |= 1 << c.min(real);
        }
    }
    if m.fourths().len() < q.fourth_peak_candidates as usize {
        cells |= 1 << layout.no_fourth();
    }
    cells
}

/// Every triplet key a query looks up for a landmark, as hashes with fourth-peak cell 0
/// (appended to `out`; [`HashLayout::hash`]'s triplet key is always among them).
/// [`HashLayout::triplet_range`] widens each to every fourth peak.
///
/// They come in blocks, one per time-ratio cell, each holding every anchor, interval and
/// span cell within reach in the same order (the returned [`ProbeBlocks`]). The *near*
/// blocks, first, are the ratio cells within the probe margin; the rest are the cells that B
/// or C moved by [`QueryParams::ratio_jitter_frames`] could reach, worth reading where the
/// same position of a near block met a rare triplet.
pub fn probes(
    layout: &HashLayout,
    m: &Landmark,
    q: &QueryParams,
    out: &mut Vec<Hash>,
) -> ProbeBlocks {
    let [a, b, c, r, s] = layout.coordinates(m);
    let k = &layout.keys;
    let margin = q.probe_margin.clamp(0.0, 0.5);
    let pitch = layout.pitch_cells(q.max_pitch_semitones.max(0.0));
    let tempo = layout.tempo_cells(q.max_tempo_change.clamp(0.0, 0.9));
    let anchors = k.anchor.range(a - pitch - margin, a + pitch + margin);
    let ivb = k.interval.range(b - margin, b + margin);
    let ivc = k.interval.range(c - margin, c + margin);
    let spans = k.span.range(s - tempo - margin, s + tempo + margin);
    let block = |cr: u32, out: &mut Vec<Hash>| {
        for ca in anchors.clone() {
            for cb in ivb.clone() {
                for cc in ivc.clone() {
                    for cs in spans.clone() {
                        out.push(k.pack([ca, cb, cc, cr, cs]));
                    }
                }
            }
        }
    };
    let start = out.len();
    let near = k.ratio.range(r - margin, r + margin);
    for cr in near.clone() {
        block(cr, out);
    }
    let near_count = out.len() - start;
    // Moving B by j frames moves the ratio by j/span, and moving C by j moves it by
    // ratio·j/span: short triplets' ratios are the least precise.
    let jitter =
        q.ratio_jitter_frames.max(0.0) * (1.0 + m.ratio) / m.span.max(1.0) * k.ratio.cells as f32;
    if jitter > margin {
        for far in k.ratio.range(r - jitter, r + jitter) {
            if !near.contains(&far) {
                block(far, out);
            }
        }
    }
    ProbeBlocks {
        near: near_count,
        block: near_count / near.count(),
    }
}

/// How [`probes`] laid out one landmark's probes: the first `near` are the near
/// blocks, and probes `i` and `j` differ only in their time-ratio cell when
/// `i % block == j % block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeBlocks {
    pub near: usize,
    pub block: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FingerprintParams;

    fn landmark() -> Landmark {
        Landmark {
            frame: 100,
            anchor: 20.3,
            interval_b: 3.1,
            interval_c: -5.2,
            ratio: 0.4,
            span: 20.0,
            fourths: [7.1, 0.0, 0.0, 0.0],
            fourth_count: 1,
            dense: false,
            fine: false,
        }
    }

    #[test]
    fn a_query_offers_the_stored_fourth_peak_among_its_candidates() {
        let layout = HashLayout::new(&FingerprintParams::default());
        let q = QueryParams::default();
        let stored = landmark();
        // The query saw an extra peak before the index's fourth, which it found a little sharp.
        let query = Landmark {
            fourths: [2.0, 7.2, -8.0, 0.0],
            fourth_count: 3,
            ..stored
        };
        let cells = fourth_cells(&layout, &query, &q);
        let stored_cell = layout.hash(&stored).0 - layout.triplet_range(layout.hash(&stored)).0.0;
        assert!(cells & 1 << stored_cell != 0);
        // Three candidates, each in its cell and perhaps its neighbour's.
        assert!((3..=6).contains(&cells.count_ones()), "{cells:#b}");
        assert!(
            cells & 1 << layout.no_fourth() == 0,
            "three candidates: no 'none'"
        );
        // A zone that ran out of peaks may also have run out in the index.
        let short = Landmark {
            fourth_count: 1,
            ..query
        };
        assert!(fourth_cells(&layout, &short, &q) & 1 << layout.no_fourth() != 0);
    }

    #[test]
    fn probes_contain_the_stored_hash_even_after_pitch_and_tempo_changes() {
        let p = FingerprintParams::default();
        let layout = HashLayout::new(&p);
        let q = QueryParams::default();
        let original = landmark();
        // 2 semitones up and 8 % faster: intervals and ratio stay, anchor and span move.
        let changed = Landmark {
            anchor: original.anchor + 2.0,
            span: original.span / 1.08,
            ..original
        };
        let mut found = Vec::new();
        probes(&layout, &changed, &q, &mut found);
        let stored = layout.triplet_range(layout.hash(&original)).0;
        assert!(found.contains(&stored));
        // Without a search range the moved anchor is not found.
        let strict = QueryParams {
            max_pitch_semitones: 0.0,
            max_tempo_change: 0.0,
            probe_margin: 0.0,
            ratio_jitter_frames: 0.0,
            ..q
        };
        found.clear();
        assert_eq!(probes(&layout, &changed, &strict, &mut found).near, 1);
        assert_eq!(found.len(), 1);
        assert!(!found.contains(&stored));
    }

    #[test]
    fn far_probes_reach_a_ratio_that_one_moved_peak_changed() {
        let layout = HashLayout::new(&FingerprintParams::default());
        let q = QueryParams::default();
        // A short triplet: B at 4 of 10 frames. B peaking one frame late moves the ratio from
        // 0.4 to 0.5, 1.6 of its 16 cells.
        let stored = Landmark {
            ratio: 0.4,
            span: 10.0,
            ..landmark()
        };
        let moved = Landmark {
            ratio: 0.5,
            ..stored
        };
        let target = layout.triplet_range(layout.hash(&stored)).0;
        let mut found = Vec::new();
        let ProbeBlocks { near, block } = probes(&layout, &moved, &q, &mut found);
        assert!(near < found.len(), "far cells follow the near ones");
        // Each far block repeats a near block's anchor, interval and span cells.
        assert_eq!(found.len() % block, 0);
        let position = found.iter().position(|&h| h == target).unwrap();
        let sibling = layout.triplet_range(layout.hash(&moved)).0;
        assert_eq!(
            found[..near].iter().position(|&h| h == sibling).unwrap() % block,
            position % block,
            "the stored key's near sibling is the moved landmark's own key"
        );
        assert!(!found[..near].contains(&target));
        assert!(found[near..].contains(&target));
        // Without jitter, every probe is near, and they are the ones above.
        let plain = QueryParams {
            ratio_jitter_frames: 0.0,
            ..q
        };
        let mut without = Vec::new();
        assert_eq!(
            probes(&layout, &moved, &plain, &mut without).near,
            without.len()
        );
        assert_eq!(without, found[..near]);
        // A long triplet's ratio is precise: a ratio mid-cell (7.5 of 16) stays in its cell.
        let long = Landmark {
            span: 48.0,
            ratio: 7.5 / 16.0,
            ..stored
        };
        found.clear();
        assert_eq!(probes(&layout, &long, &q, &mut found).near, found.len());
    }
}
