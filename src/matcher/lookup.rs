//! Step 1 of matching: query landmarks in, [`Hit`]s out. [`Lookup`] turns each landmark into
//! probes ([`super::probes`]), decides per probed triplet how much of it to read
//! ([`Lookup::read_of`]), and keeps the postings that some allowed pitch shift and time scale
//! could explain.
//!
//! How much of a triplet is read depends on how many postings it holds:
//! - more than [`QueryParams::max_postings_per_hash`]: skipped as common (it says least about
//!   which track plays, and brought most of the chance postings);
//! - at most [`QueryParams::fourth_peak_limit`] (a count, or a share of the index if more):
//!   read whole ("rare");
//! - between the two: read only at the fourth-peak cells the landmark offers, except that a
//!   dense-layer landmark reads it whole up to [`QueryParams::dense_fourth_peak_above`].
//!
//! A far probe (a time-ratio cell beyond the probe margin) is read only where its triplet is
//! rare, its near sibling met a rare or empty triplet, and some near probe of its landmark a
//! rare, non-empty one: where the near ones are common, the far ones nearly always are too.

use super::line::Hit;
use super::probes::{fourth_cells, probes};
use crate::codec::{Detail, Hash};
use crate::fingerprint::{HashLayout, Landmark};
use crate::index::{Index, Posting, Postings};
use crate::tuning::QueryParams;

/// Hits of one match agree on the pitch shift within this many quarter semitones...
pub(super) const PITCH_TOLERANCE: i16 = 2;
/// ...and on the time scale within this many span units (1.5 % each).
pub(super) const SPAN_TOLERANCE: f64 = 4.0;

/// One triplet key to look up for one query landmark.
#[derive(Debug, Clone, Copy)]
struct Probe {
    /// The triplet key, fourth-peak cell 0.
    hash: Hash,
    frame: u32,
    detail: Detail,
    /// The probe's landmark in `Lookup::landmarks`.
    landmark: u32,
    /// A time-ratio cell beyond the probe margin ([`probes`]): read only where the triplet is
    /// rare, and its near sibling's was too.
    far: bool,
    /// Its place in `Lookup::rare`: the same for probes that differ only in the ratio cell.
    sibling: u32,
}

/// How much of a probed triplet is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    /// Nothing: common, or a far probe of a triplet that is not rare.
    Skip,
    /// Every posting.
    Whole,
    /// The fourth-peak cells each landmark offers; a dense landmark's whole where `dense_whole`.
    Fourths { dense_whole: bool },
}

/// The postings counts at which a triplet stops being read whole, for core and dense probes,
/// and is skipped as common.
#[derive(Debug, Clone, Copy)]
struct Limits {
    common: u64,
    core_whole: u64,
    dense_whole: u64,
}

/// Looks landmarks up and keeps the hits a match could use. One per matcher.
pub(super) struct Lookup {
    pub(super) layout: HashLayout,
    /// How core landmarks are probed, and how dense-layer ones are
    /// ([`QueryParams::at_own_cells`]).
    query: QueryParams,
    dense_query: QueryParams,
    limits: Limits,
    /// Largest pitch and span differences a hit may show and still fit a shift and time scale
    /// within the query's limits (with the verification tolerances on top).
    max_pitch: i16,
    max_span: i16,
    /// One landmark's probe hashes (kept to reuse the allocation).
    probes: Vec<Hash>,
    /// Probes waiting for [`Self::run`].
    pending: Vec<Probe>,
    /// The pending probes' landmarks, for the fourth peaks of common triplets.
    landmarks: Vec<Landmark>,
    /// Per pending anchor, interval and span cell of each landmark ([`Probe::sibling`]): whether
    /// its near probe met a rare or empty triplet...
    rare: Vec<bool>,
    /// ...and per pending landmark: whether one of its near probes met a rare, non-empty one.
    landmark_rare: Vec<bool>,
    /// The fourth-peak cells of one triplet's probes (kept to reuse the allocation).
    fourth_cells: Vec<u64>,
}

impl Lookup {
    pub(super) fn new<D: AsRef<[u8]>>(index: &Index<D>, query: QueryParams) -> Self {
        let layout = HashLayout::new(index.params());
        // A pitch shift moves the anchor (quarter semitones); a speed or tempo change scales
        // the span. Hits beyond both can never be verified, so they are dropped at lookup.
        let max_pitch = (query.max_pitch_semitones.max(0.0) * 4.0).ceil() as i16 + PITCH_TOLERANCE;
        let max_span = layout
            .span_units_for_speed(1.0 / (1.0 + f64::from(query.max_tempo_change.clamp(0.0, 0.9))))
            .abs()
            .ceil() as i16
            + SPAN_TOLERANCE as i16;
        let (core_whole, dense_whole) = if layout.fourth_bits() > 0 {
            (
                query.fourth_peak_limit(index.postings()),
                query.dense_fourth_peak_above,
            )
        } else {
            (u64::MAX, u64::MAX)
        };
        Lookup {
            limits: Limits {
                common: query.max_postings_per_hash(index.postings()),
                core_whole,
                dense_whole,
            },
            layout,
            query,
            dense_query: query.at_own_cells(),
            max_pitch,
            max_span,
            probes: Vec::new(),
            pending: Vec::new(),
            landmarks: Vec::new(),
            rare: Vec::new(),
            landmark_rare: Vec::new(),
            fourth_cells: Vec::new(),
        }
    }

    /// Adds one landmark's probes (those `key_sample` keeps) to the pending ones.
    pub(super) fn add(&mut self, m: Landmark) {
        self.probes.clear();
        // A dense landmark is looked up in its own cells only: the dense layer is for music
        // masked by other sound (speech, a narrow band) at the query's own pitch and speed,
        // and probed across every pitch and tempo cell its triplets would triple a query's
        // probes for one query more found.
        let cells = if m.dense {
            &self.dense_query
        } else {
            &self.query
        };
        let blocks = probes(&self.layout, &m, cells, &mut self.probes);
        let detail = self.layout.detail(&m);
        let landmark = self.landmarks.len() as u32;
        self.landmarks.push(m);
        self.landmark_rare.push(false);
        let base = self.rare.len();
        self.rare.resize(base + blocks.block, false);
        let query = &self.query;
        self.pending.extend(
            self.probes
                .iter()
                .enumerate()
                .filter(|(_, h)| query.samples_key(h.0))
                .map(|(i, &hash)| Probe {
                    hash,
                    frame: m.frame,
                    detail,
                    landmark,
                    far: i >= blocks.near,
                    sibling: (base + i % blocks.block) as u32,
                }),
        );
    }

    /// Whether probes wait to be looked up.
    pub(super) fn is_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// How much of a triplet holding `postings` postings a probe reads.
    fn read_of(&self, postings: u64, far: bool) -> Read {
        // The most common triplets are skipped, fourth peak or not: reading even a fraction of
        // them dominated the slowest queries and found nothing more.
        if postings > self.limits.common {
            Read::Skip
        } else if postings <= self.limits.core_whole {
            Read::Whole
        } else if far {
            Read::Skip
        } else {
            Read::Fourths {
                dense_whole: postings <= self.limits.dense_whole,
            }
        }
    }

    /// Looks up the pending probes, one triplet at a time, and appends to `hits` the postings
    /// that some allowed pitch shift and time scale could explain, with their track.
    pub(super) fn run<D: AsRef<[u8]>>(&mut self, index: &Index<D>, hits: &mut Vec<(u32, Hit)>) {
        let mut pending = std::mem::take(&mut self.pending);
        for p in pending.iter().filter(|p| !p.far) {
            index.prefetch(p.hash);
        }
        for same in pending.chunk_by(|a, b| a.hash == b.hash && a.far == b.far) {
            // A far probe is read only where its near sibling (same anchor, interval and span
            // cells) met a rare or empty triplet, and some near probe of its landmark a rare,
            // non-empty one; an empty sibling is where a moved ratio most often left the true
            // key. (A sibling that `key_sample` left out is not looked up, so neither is its
            // far probe.)
            let wanted = |p: &Probe| {
                self.landmark_rare[p.landmark as usize] && self.rare[p.sibling as usize]
            };
            if same[0].far && !same.iter().any(wanted) {
                continue;
            }
            let (first, last) = self.layout.triplet_range(same[0].hash);
            let whole = index.lookup_range(first, last);
            match self.read_of(whole.remaining(), same[0].far) {
                Read::Skip => {}
                Read::Whole => {
                    if !same[0].far {
                        for p in same {
                            self.rare[p.sibling as usize] = true;
                            self.landmark_rare[p.landmark as usize] |= whole.remaining() > 0;
                        }
                    }
                    self.collect(index, whole, same, hits);
                }
                Read::Fourths { dense_whole } => {
                    self.read_fourths(index, whole, first, same, dense_whole, hits)
                }
            }
        }
        pending.clear();
        self.pending = pending;
        self.landmarks.clear();
        self.rare.clear();
        self.landmark_rare.clear();
    }

    /// Reads a triplet held by more than the fourth-peak limit: a dense landmark's probe
    /// reads it whole where `dense_whole`, the others only the fourth-peak cells their
    /// landmarks offer.
    fn read_fourths<D: AsRef<[u8]>>(
        &mut self,
        index: &Index<D>,
        whole: Postings<'_, D>,
        first: Hash,
        same: &[Probe],
        dense_whole: bool,
        hits: &mut Vec<(u32, Hit)>,
    ) {
        let read_whole = |m: &Landmark| dense_whole && m.dense && !m.fine;
        if same
            .iter()
            .any(|p| read_whole(&self.landmarks[p.landmark as usize]))
        {
            for posting in whole {
                for probe in same {
                    if read_whole(&self.landmarks[probe.landmark as usize]) {
                        self.hit(index, posting, probe, hits);
                    }
                }
            }
        }
        let mut cells = std::mem::take(&mut self.fourth_cells);
        cells.clear();
        cells.extend(same.iter().map(|probe| {
            let m = &self.landmarks[probe.landmark as usize];
            if read_whole(m) {
                0
            } else {
                fourth_cells(&self.layout, m, &self.query)
            }
        }));
        // A search per cell (sweeping the whole triplet instead and keeping the offered cells
        // cost more at 10^8 postings: the bucket is in cache after the first search), each cell
        // once for every probe of the triplet that offers it.
        let mut rest = cells.iter().fold(0, |all, &offered| all | offered);
        while rest != 0 {
            let cell = rest.trailing_zeros();
            rest &= rest - 1;
            for p in index.lookup(Hash(first.0 | cell)) {
                for (probe, &offered) in same.iter().zip(&cells) {
                    if offered & 1 << cell != 0 {
                        self.hit(index, p, probe, hits);
                    }
                }
            }
        }
        self.fourth_cells = cells;
    }

    /// Turns postings into hits for each probe they could answer.
    fn collect<D: AsRef<[u8]>>(
        &self,
        index: &Index<D>,
        postings: Postings<'_, D>,
        probes: &[Probe],
        hits: &mut Vec<(u32, Hit)>,
    ) {
        for p in postings {
            for probe in probes {
                self.hit(index, p, probe, hits);
            }
        }
    }

    /// Keeps a posting as a hit of `probe` if some allowed pitch shift and time scale could
    /// explain it.
    fn hit<D: AsRef<[u8]>>(
        &self,
        index: &Index<D>,
        p: Posting,
        probe: &Probe,
        hits: &mut Vec<(u32, Hit)>,
    ) {
        if p.track.0 >= index.tracks() {
            return;
        }
        let (pitch, span) = probe.detail.since(p.detail);
        if pitch.abs() <= self.max_pitch && span.abs() <= self.max_span {
            hits.push((
                p.track.0,
                Hit {
                    q: probe.frame,
                    r: p.frame,
                    pitch,
                    span,
                    far: probe.far,
                    anchor: probe.detail.anchor_cell(),
                },
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::testing::*;
    use crate::tuning::QueryParams;

    /// Reading every triplet at its fourth peaks keeps some of the hits of reading them whole,
    /// and nothing else, on real music.
    #[test]
    fn triplets_read_at_their_fourth_peaks_keep_a_subset_of_their_hits() {
        let index = fixture_index();
        let hits = |fourth_peak_above: u64| {
            let query = QueryParams {
                fourth_peak_above,
                ..QueryParams::default()
            };
            fixture_hits(&index, "clip-mp3.mp3", query)
        };
        let (narrow, whole) = (hits(0), hits(u64::MAX));
        assert!(!narrow.is_empty() && narrow.len() < whole.len());
        assert!(
            narrow.iter().all(|h| whole.binary_search(h).is_ok()),
            "a hit that reading the triplets whole does not find"
        );
    }

    /// Far time-ratio cells, on real music under noise: they keep every coincidence the near
    /// cells find and add some on the true line; and they are read only where some near probe
    /// met a rare triplet, so reading every triplet as common reads none of them.
    #[test]
    fn far_ratio_cells_add_true_hits_where_triplets_are_rare() {
        let index = fixture_index();
        // testdata/truth.tsv: this clip is deep-path.ogg from 5.5 s, under white noise at 10 dB.
        let track = fixture_track(&index, "deep-path.ogg");
        let hits = |ratio_jitter_frames: f32, fourth_peak_above: u64| {
            let query = QueryParams {
                ratio_jitter_frames,
                fourth_peak_above,
                ..QueryParams::default()
            };
            fixture_hits(&index, "clip-noisy.mp3", query)
        };
        let (near, all) = (hits(0.0, 64), hits(0.5, 64));
        assert!(near.iter().all(|h| !h.1.far));
        let found = |h: &(u32, Hit)| {
            all.iter()
                .any(|a| a.0 == h.0 && a.1.same_coincidence(&h.1) && !a.1.far)
        };
        assert!(near.iter().all(found), "a near hit went missing");
        let far: Vec<(u32, Hit)> = all.iter().copied().filter(|h| h.1.far).collect();
        let true_far = on_line(&far, track, 5.5, index.params().frame_seconds());
        assert!(true_far >= 3, "{true_far} far hits on the true line");
        assert!(hits(0.5, 0).iter().all(|h| !h.1.far));
    }

    /// The dense layer, on real music under speech: it keeps every coincidence of the core
    /// layer and adds some on the true line.
    #[test]
    fn the_dense_layer_adds_true_hits_under_speech() {
        let core = QueryParams {
            dense_fanout: 0,
            ..QueryParams::default()
        };
        let (before, after) = speech_clip_true_hits(core, QueryParams::default());
        assert!(
            after >= before + 8,
            "{before} true-line hits, {after} with the dense layer"
        );
    }

    /// In a large catalogue nearly every triplet is read only at its fourth peaks, and a passage
    /// masked by speech rarely keeps all four; the dense layer's triplets are read whole below
    /// their own, higher limit. On the fixture index, with every core triplet read at its fourth
    /// peaks as in a large catalogue: reading the dense ones whole keeps every coincidence and
    /// adds true ones under speech.
    #[test]
    fn dense_triplets_read_whole_add_true_hits_where_triplets_are_common() {
        let large = QueryParams {
            fourth_peak_above: 0,
            ..QueryParams::default()
        };
        let narrow = QueryParams {
            dense_fourth_peak_above: 0,
            ..large
        };
        let (before, after) = speech_clip_true_hits(narrow, large);
        // 19 and 23 when written.
        assert!(
            after >= before + 3,
            "{before} true-line hits, {after} with dense triplets read whole"
        );
    }
}
