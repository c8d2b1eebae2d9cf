//! [`Hash`](struct@Hash) and [`HashLayout`]: how a [`Landmark`]'s continuous features become a 32-bit key.
//!
//! A hash is a triplet key followed by the fourth peak (31 bits at the defaults):
//!
//! ```text
//! | scrambled triplet key (25)                                          | fourth peak (6) |
//!   triplet key before scrambling:
//! | anchor band (5) | interval B (6) | interval C (6) | time ratio (4) | span (4) |
//! ```
//!
//! The triplet key is scrambled by a bijection (odd multiply, xor-shift) so the index's
//! directory, which is addressed by the top bits, fills evenly. The fourth peak (the interval of
//! the strongest zone peak after C, or [`HashLayout::no_fourth`] when the zone has none) is not:
//! every posting of one triplet lies in one contiguous range ([`HashLayout::triplet_range`]), so
//! a query can read a rare triplet whole and, of a common one, only the fourth peaks it names
//! ([`HashLayout::fourth_cells`]). Real music's triplets carry about 19 usable bits of their
//! 25 (ARCHITECTURE.md), so in a large catalogue most probes meet common triplets, and the
//! fourth peak is what narrows them.
//!
//! The index stores one hash per landmark ([`HashLayout::hash`]); a query looks up a small set
//! of triplet keys ([`HashLayout::probes`]): the cells that jitter near a cell edge could have
//! moved a feature to, every anchor band within the pitch range searched, and every span level
//! within the tempo range searched. Intervals and the time ratio do not change under pitch,
//! speed or tempo changes, so they need no such search.
//!
//! Changing anything here changes every hash: bump `index::format::VERSION` with it.

use super::landmark::Landmark;
use crate::config::{FingerprintParams, QueryParams};

/// A quantised landmark, `HashLayout::total_bits` wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash(pub u32);

/// What the index keeps of a landmark besides its hash: the anchor's pitch (high byte, quarter
/// semitones) and the triplet's span (low byte, log-scaled), finely quantised. A hit found
/// through a coarse hash cell is then checked for the same pitch shift and time scale as the
/// other hits of its match, which random hits almost never share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Detail(pub u16);

impl Detail {
    /// How a query landmark's detail differs from a stored one: the pitch shift in quarter
    /// semitones and the log span ratio in span-byte units (query minus stored, for both).
    pub fn since(self, stored: Detail) -> (i16, i16) {
        let pitch = i16::from(self.anchor_cell()) - i16::from(stored.anchor_cell());
        let span = (self.0 & 0xff) as i16 - (stored.0 & 0xff) as i16;
        (pitch, span)
    }

    /// The anchor's pitch cell, quarter semitones above `min_freq_hz`.
    pub fn anchor_cell(self) -> u8 {
        (self.0 >> 8) as u8
    }
}

/// Bits of a [`Detail`].
pub const DETAIL_BITS: u32 = 16;

/// Quarter semitones per unit of the pitch byte.
const PITCH_UNITS_PER_SEMITONE: f32 = 4.0;

/// A landmark as the index stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Keyed {
    pub hash: Hash,
    /// Anchor frame.
    pub frame: u32,
    pub detail: Detail,
}

/// Quantisation of one feature: `cells` cells of equal width, `bits` wide in the key.
#[derive(Debug, Clone, Copy)]
struct Axis {
    cells: u32,
    bits: u32,
}

impl Axis {
    fn new(cells: u32) -> Self {
        Axis {
            cells,
            bits: 32 - (cells.max(2) - 1).leading_zeros(),
        }
    }

    fn cell(&self, x: f32) -> u32 {
        (x.floor().max(0.0) as u32).min(self.cells - 1)
    }

    /// Cells overlapping `[lo, hi]` (in cell units).
    fn range(&self, lo: f32, hi: f32) -> std::ops::RangeInclusive<u32> {
        self.cell(lo)..=self.cell(hi)
    }
}

/// Turns landmarks into hashes for a given set of fingerprint parameters.
#[derive(Debug, Clone)]
pub struct HashLayout {
    anchor: Axis,
    interval: Axis,
    ratio: Axis,
    span: Axis,
    /// Interval cells of the fourth peak plus one for "none" (`None`: the index has no
    /// fourth peak).
    fourth: Option<Axis>,
    anchor_band: f32,
    interval_step: f32,
    zone_semitones: f32,
    ln_zone: f32,
}

impl HashLayout {
    pub fn new(params: &FingerprintParams) -> Self {
        let octaves = (params.max_freq_hz / params.min_freq_hz).log2().max(0.0);
        let anchor_cells = ((12.0 * octaves) / params.anchor_band_semitones)
            .ceil()
            .max(1.0) as u32;
        let interval_cells = (2.0 * params.zone_semitones / params.interval_step_semitones)
            .ceil()
            .max(1.0) as u32
            + 1;
        HashLayout {
            anchor: Axis::new(anchor_cells),
            interval: Axis::new(interval_cells),
            ratio: Axis::new(params.ratio_levels),
            span: Axis::new(params.span_levels),
            fourth: params
                .fourth_peak
                .is_on()
                .then(|| Axis::new(interval_cells + 1)),
            anchor_band: params.anchor_band_semitones,
            interval_step: params.interval_step_semitones,
            zone_semitones: params.zone_semitones,
            ln_zone: (params.zone_frames as f32).ln(),
        }
    }

    /// Width of a hash in bits.
    pub fn total_bits(&self) -> u32 {
        self.triplet_bits() + self.fourth_bits()
    }

    /// Width of the triplet key.
    pub fn triplet_bits(&self) -> u32 {
        self.anchor.bits + 2 * self.interval.bits + self.ratio.bits + self.span.bits
    }

    /// Width of the fourth peak's cell (0 without one).
    pub fn fourth_bits(&self) -> u32 {
        self.fourth.map_or(0, |a| a.bits)
    }

    /// The fourth-peak cell of a triplet whose zone holds no peak after C (at most 63:
    /// [`FingerprintParams::validate`] sees to it, so a set of cells fits a `u64`).
    pub fn no_fourth(&self) -> u32 {
        self.fourth.map_or(0, |a| a.cells - 1)
    }

    /// The smallest and largest hash sharing `hash`'s triplet key: every fourth peak.
    pub fn triplet_range(&self, hash: Hash) -> (Hash, Hash) {
        let mask = (1u32 << self.fourth_bits()) - 1;
        (Hash(hash.0 & !mask), Hash(hash.0 | mask))
    }

    /// Feature positions in cell units: anchor, interval B, interval C, ratio, span.
    fn coordinates(&self, m: &Landmark) -> [f32; 5] {
        [
            m.anchor / self.anchor_band,
            (m.interval_b + self.zone_semitones) / self.interval_step,
            (m.interval_c + self.zone_semitones) / self.interval_step,
            m.ratio * self.ratio.cells as f32,
            self.span_coordinate(m.span),
        ]
    }

    fn span_coordinate(&self, span: f32) -> f32 {
        span.max(1.0).ln() / self.ln_zone * self.span.cells as f32
    }

    fn pack(&self, cells: [u32; 5]) -> Hash {
        let mut h = cells[0];
        h = (h << self.interval.bits) | cells[1];
        h = (h << self.interval.bits) | cells[2];
        h = (h << self.ratio.bits) | cells[3];
        h = (h << self.span.bits) | cells[4];
        Hash(scramble(h, self.triplet_bits()) << self.fourth_bits())
    }

    fn fourth_coordinate(&self, interval: f32) -> f32 {
        (interval + self.zone_semitones) / self.interval_step
    }

    fn span_byte(&self, span: f32) -> f32 {
        span.max(1.0).ln() / self.ln_zone * 255.0
    }

    /// The fine pitch and span kept beside the hash.
    pub fn detail(&self, m: &Landmark) -> Detail {
        let pitch = (m.anchor * PITCH_UNITS_PER_SEMITONE)
            .round()
            .clamp(0.0, 255.0) as u16;
        let span = self.span_byte(m.span).round().clamp(0.0, 255.0) as u16;
        Detail(pitch << 8 | span)
    }

    /// A landmark keyed for the index.
    pub fn keyed(&self, m: &Landmark) -> Keyed {
        Keyed {
            hash: self.hash(m),
            frame: m.frame,
            detail: self.detail(m),
        }
    }

    /// The span-byte difference a playback speed change of `speed` produces (a query played
    /// faster has shorter spans).
    pub fn span_units_for_speed(&self, speed: f64) -> f64 {
        -speed.ln() / f64::from(self.ln_zone) * 255.0
    }

    /// The one hash the index stores for a landmark: its triplet key and its top-ranked
    /// fourth-peak candidate.
    pub fn hash(&self, m: &Landmark) -> Hash {
        let [a, b, c, r, s] = self.coordinates(m);
        let triplet = self.pack([
            self.anchor.cell(a),
            self.interval.cell(b),
            self.interval.cell(c),
            self.ratio.cell(r),
            self.span.cell(s),
        ]);
        let fourth = match (self.fourth, m.fourths().first()) {
            (None, _) => 0,
            (Some(_), None) => self.no_fourth(),
            (Some(axis), Some(&d)) => axis
                .cell(self.fourth_coordinate(d))
                .min(self.no_fourth() - 1),
        };
        Hash(triplet.0 | fourth)
    }

    /// The fourth-peak cells a query reads of a common triplet, as a set (bit `c` for cell
    /// `c`): each candidate's cell, its neighbour when the candidate lies near the edge, and
    /// "none" when the query's zone ran out of candidates (so the index's may have too). Empty
    /// for an index without fourth peaks.
    pub fn fourth_cells(&self, m: &Landmark, q: &QueryParams) -> u64 {
        let Some(axis) = self.fourth else {
            return 0;
        };
        let margin = q.probe_margin.clamp(0.0, 0.5);
        let real = self.no_fourth() - 1;
        let mut cells = 0u64;
        for &d in m.fourths() {
            let x = self.fourth_coordinate(d);
            for c in axis.range(x - margin, x + margin) {
                cells |= 1 << c.min(real);
            }
        }
        if m.fourths().len() < q.fourth_peak_candidates as usize {
            cells |= 1 << self.no_fourth();
        }
        cells
    }

    /// Every triplet key a query looks up for a landmark, as hashes with fourth-peak cell 0
    /// (appended to `out`; [`hash`](Self::hash)'s triplet key is always among them).
    /// [`triplet_range`](Self::triplet_range) widens each to every fourth peak.
    ///
    /// They come in blocks, one per time-ratio cell, each holding every anchor, interval and
    /// span cell within reach in the same order (the returned [`ProbeBlocks`]). The *near*
    /// blocks, first, are the ratio cells within the probe margin; the rest are the cells that B
    /// or C moved by [`QueryParams::ratio_jitter_frames`] could reach, worth reading where the
    /// same position of a near block met a rare triplet.
    pub fn probes(&self, m: &Landmark, q: &QueryParams, out: &mut Vec<Hash>) -> ProbeBlocks {
        let [a, b, c, r, s] = self.coordinates(m);
        let margin = q.probe_margin.clamp(0.0, 0.5);
        let pitch = q.max_pitch_semitones.max(0.0) / self.anchor_band;
        let tempo =
            (1.0 + q.max_tempo_change.clamp(0.0, 0.9)).ln() / self.ln_zone * self.span.cells as f32;
        let anchors = self.anchor.range(a - pitch - margin, a + pitch + margin);
        let ivb = self.interval.range(b - margin, b + margin);
        let ivc = self.interval.range(c - margin, c + margin);
        let spans = self.span.range(s - tempo - margin, s + tempo + margin);
        let block = |cr: u32, out: &mut Vec<Hash>| {
            for ca in anchors.clone() {
                for cb in ivb.clone() {
                    for cc in ivc.clone() {
                        for cs in spans.clone() {
                            out.push(self.pack([ca, cb, cc, cr, cs]));
                        }
                    }
                }
            }
        };
        let start = out.len();
        let near = self.ratio.range(r - margin, r + margin);
        for cr in near.clone() {
            block(cr, out);
        }
        let near_count = out.len() - start;
        // Moving B by j frames moves the ratio by j/span, and moving C by j moves it by
        // ratio·j/span: short triplets' ratios are the least precise.
        let jitter = q.ratio_jitter_frames.max(0.0) * (1.0 + m.ratio) / m.span.max(1.0)
            * self.ratio.cells as f32;
        if jitter > margin {
            for far in self.ratio.range(r - jitter, r + jitter) {
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
}

/// How [`HashLayout::probes`] laid out one landmark's probes: the first `near` are the near
/// blocks, and probes `i` and `j` differ only in their time-ratio cell when
/// `i % block == j % block`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeBlocks {
    pub near: usize,
    pub block: usize,
}

/// A bijection on `bits`-bit values that spreads structured keys over the top bits.
fn scramble(h: u32, bits: u32) -> u32 {
    let mask = if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    };
    let mut x = h.wrapping_mul(0x9E37_79B1) & mask;
    x ^= x >> (bits / 2).max(1);
    x
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_fourth_peak_sits_below_the_triplet_key() {
        let layout = HashLayout::new(&FingerprintParams::default());
        assert_eq!(layout.fourth_bits(), 6);
        let m = landmark();
        let other = Landmark {
            fourths: [-3.0, 0.0, 0.0, 0.0],
            ..m
        };
        let none = Landmark {
            fourth_count: 0,
            ..m
        };
        let range = layout.triplet_range(layout.hash(&m));
        for h in [layout.hash(&m), layout.hash(&other), layout.hash(&none)] {
            assert_eq!(layout.triplet_range(h), range, "one triplet, one range");
            assert!(range.0 <= h && h <= range.1);
        }
        assert_ne!(layout.hash(&m), layout.hash(&other));
        assert_eq!(layout.hash(&none).0 - range.0.0, layout.no_fourth());
        // Without fourth peaks the hash is the triplet key alone.
        let plain = HashLayout::new(&FingerprintParams {
            fourth_peak: crate::config::FourthPeak::Off,
            ..FingerprintParams::default()
        });
        assert_eq!(plain.total_bits(), 25);
        assert_eq!(
            plain.triplet_range(plain.hash(&m)),
            (plain.hash(&m), plain.hash(&m))
        );
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
        let cells = layout.fourth_cells(&query, &q);
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
        assert!(layout.fourth_cells(&short, &q) & 1 << layout.no_fourth() != 0);
    }

    #[test]
    fn details_measure_pitch_shift_and_time_scale() {
        let layout = HashLayout::new(&FingerprintParams::default());
        let original = landmark();
        let changed = Landmark {
            anchor: original.anchor + 1.0,
            span: original.span / 1.05,
            ..original
        };
        let (pitch, span) = layout.detail(&changed).since(layout.detail(&original));
        assert_eq!(pitch, 4);
        assert!(
            (f64::from(span) - layout.span_units_for_speed(1.05)).abs() <= 1.0,
            "{span}"
        );
    }

    #[test]
    fn default_layout_is_31_bits() {
        let layout = HashLayout::new(&FingerprintParams::default());
        assert_eq!((layout.triplet_bits(), layout.total_bits()), (25, 31));
    }

    #[test]
    fn scramble_is_a_bijection() {
        let mut seen = vec![false; 1 << 12];
        for h in 0..1u32 << 12 {
            let s = scramble(h, 12) as usize;
            assert!(!seen[s]);
            seen[s] = true;
        }
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
        let mut probes = Vec::new();
        layout.probes(&changed, &q, &mut probes);
        let stored = layout.triplet_range(layout.hash(&original)).0;
        assert!(probes.contains(&stored));
        // Without a search range the moved anchor is not found.
        let strict = QueryParams {
            max_pitch_semitones: 0.0,
            max_tempo_change: 0.0,
            probe_margin: 0.0,
            ratio_jitter_frames: 0.0,
            ..q
        };
        probes.clear();
        assert_eq!(layout.probes(&changed, &strict, &mut probes).near, 1);
        assert_eq!(probes.len(), 1);
        assert!(!probes.contains(&stored));
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
        let mut probes = Vec::new();
        let ProbeBlocks { near, block } = layout.probes(&moved, &q, &mut probes);
        assert!(near < probes.len(), "far cells follow the near ones");
        // Each far block repeats a near block's anchor, interval and span cells.
        assert_eq!(probes.len() % block, 0);
        let position = probes.iter().position(|&h| h == target).unwrap();
        let sibling = layout.triplet_range(layout.hash(&moved)).0;
        assert_eq!(
            probes[..near].iter().position(|&h| h == sibling).unwrap() % block,
            position % block,
            "the stored key's near sibling is the moved landmark's own key"
        );
        assert!(!probes[..near].contains(&target));
        assert!(probes[near..].contains(&target));
        // Without jitter, every probe is near, and they are the ones above.
        let plain = QueryParams {
            ratio_jitter_frames: 0.0,
            ..q
        };
        let mut without = Vec::new();
        assert_eq!(
            layout.probes(&moved, &plain, &mut without).near,
            without.len()
        );
        assert_eq!(without, probes[..near]);
        // A long triplet's ratio is precise: a ratio mid-cell (7.5 of 16) stays in its cell.
        let long = Landmark {
            span: 48.0,
            ratio: 7.5 / 16.0,
            ..stored
        };
        probes.clear();
        assert_eq!(layout.probes(&long, &q, &mut probes).near, probes.len());
    }

    #[test]
    fn features_are_clamped_into_their_cells() {
        let layout = HashLayout::new(&FingerprintParams::default());
        let wild = Landmark {
            frame: 0,
            anchor: 500.0,
            interval_b: -90.0,
            interval_c: 90.0,
            ratio: 2.0,
            span: 1e6,
            fourths: [90.0, 0.0, 0.0, 0.0],
            fourth_count: 1,
            dense: false,
            fine: false,
        };
        assert!(layout.hash(&wild).0 < 1 << layout.total_bits());
    }
}
