//! [`Landmarker`]: groups peaks into triplets — an anchor and two later peaks of its target
//! zone — and describes each by features that survive speed, tempo and pitch changes. Each
//! triplet also names zone peaks that follow C, ranked by the index's [`FourthPeak`] rule
//! (strongest first, or first in time): the index keeps the top one as the hash's fourth peak,
//! a query offers the top few as candidates for it.
//!
//! A [`Landmark`] keeps its features continuous; [`super::hash`] quantises them. Keeping the
//! two apart lets a query look up the neighbouring cells of a feature that lies near a cell
//! edge, or every anchor band a pitch shift could have moved it to, without the index storing
//! anything twice.

use std::collections::VecDeque;

use super::peaks::Peak;
use crate::config::{FingerprintParams, FourthPeak};

/// The rank of a fine peak ([`Landmarker::with_fine_peaks`]): below every ordinary peak, so
/// never in the core layer.
pub const FINE_RANK: u16 = u16::MAX;

/// Most fourth-peak candidates a landmark carries.
pub const MAX_FOURTH_CANDIDATES: u32 = 4;

/// A triplet of peaks A (anchor), B, C with `tA < tB < tC`, described by:
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Landmark {
    /// Frame of the anchor: the time a match is placed at.
    pub frame: u32,
    /// Anchor frequency in semitones above `min_freq_hz` (moves with pitch and speed).
    pub anchor: f32,
    /// Frequency of B minus frequency of A, semitones (unchanged by pitch, speed and tempo).
    pub interval_b: f32,
    /// Frequency of C minus frequency of A, semitones.
    pub interval_c: f32,
    /// `(tB - tA) / (tC - tA)` (unchanged by tempo and speed).
    pub ratio: f32,
    /// `tC - tA` in frames (scales with tempo and speed).
    pub span: f32,
    /// Frequencies minus the anchor's, semitones, of the top zone peaks after C by the
    /// [`FourthPeak`] rule, best first (`fourths[..fourth_count]`): the candidates for the
    /// hash's fourth peak.
    pub fourths: [f32; MAX_FOURTH_CANDIDATES as usize],
    pub fourth_count: u8,
    /// Formed only by a query's dense layer ([`Landmarker::with_dense_layer`]): a triplet with
    /// weaker peaks, looked up in its own cells only
    /// (docs/decisions/0020-a-dense-layer-of-weaker-query-peaks).
    pub dense: bool,
    /// Holds a fine peak ([`Landmarker::with_fine_peaks`]); such a triplet is also `dense`.
    pub fine: bool,
}

impl Landmark {
    /// The fourth-peak candidates present.
    pub fn fourths(&self) -> &[f32] {
        &self.fourths[..usize::from(self.fourth_count)]
    }
}

/// Streaming triplet builder: peaks in, landmarks out, in anchor order.
pub struct Landmarker {
    zone_frames: u32,
    zone_semitones: f32,
    fanout: usize,
    /// Fourth-peak candidates to collect per triplet, and how to rank them.
    fourths: usize,
    rule: FourthPeak,
    bin_hz: f32,
    min_freq_hz: f32,
    /// Peaks whose target zone may still receive peaks, with their frequency in semitones.
    window: VecDeque<(Peak, f32)>,
    /// Peaks ranked below this in their density block form the core layer (all of them when
    /// there is no dense layer).
    core_rank: u16,
    /// Zone peaks of the dense layer paired per anchor (0: no dense layer).
    dense_fanout: usize,
    /// Zone peaks, fine ones included, paired per anchor into the dense layer's triplets that
    /// hold a fine peak (0: fine peaks form none).
    fine_fanout: usize,
    chosen: Vec<usize>,
    dense_chosen: Vec<usize>,
    fine_chosen: Vec<usize>,
    /// The fourth-peak candidates of the current anchor's triplets, by C's window position and
    /// layer: every B before one C shares them.
    fourths_of: Vec<Fourths>,
}

/// [`Landmark::fourths`] of a triplet whose C is window position `c`, in a dense triplet or not.
#[derive(Debug, Clone, Copy)]
struct Fourths {
    c: usize,
    dense: bool,
    fourths: [f32; MAX_FOURTH_CANDIDATES as usize],
    count: u8,
}

impl Landmarker {
    /// A landmarker forming triplets from the first `fanout` zone peaks of each anchor, each with
    /// up to `fourths` fourth-peak candidates.
    pub fn new(params: &FingerprintParams, fanout: u32, fourths: u32) -> Self {
        Landmarker {
            zone_frames: params.zone_frames,
            zone_semitones: params.zone_semitones,
            fanout: fanout as usize,
            fourths: fourths.min(MAX_FOURTH_CANDIDATES) as usize,
            rule: params.fourth_peak,
            bin_hz: params.bin_hz(),
            min_freq_hz: params.min_freq_hz,
            window: VecDeque::new(),
            core_rank: u16::MAX,
            dense_fanout: 0,
            fine_fanout: 0,
            chosen: Vec::with_capacity(16),
            dense_chosen: Vec::with_capacity(16),
            fine_chosen: Vec::with_capacity(16),
            fourths_of: Vec::with_capacity(32),
        }
    }

    /// Adds a dense layer: the peaks come from a denser picker, those ranked below
    /// `core_per_block` in their block form the core layer's triplets exactly as a landmarker
    /// fed only them would, and every peak, weak ones too, pairs with the first `fanout` of its
    /// zone into triplets marked [`Landmark::dense`] (those the core layer did not form).
    pub fn with_dense_layer(mut self, core_per_block: usize, fanout: u32) -> Self {
        self.core_rank = core_per_block.min(usize::from(u16::MAX)) as u16;
        self.dense_fanout = fanout as usize;
        self
    }

    /// Lets fine peaks (rank [`FINE_RANK`], fed among the others in time order) into the dense
    /// layer: every anchor pairs the first `fanout` peaks of its zone, fine ones included, into
    /// triplets that hold a fine peak. The core and dense layers' triplets stay exactly those of
    /// a landmarker fed no fine peaks.
    pub fn with_fine_peaks(mut self, fanout: u32) -> Self {
        self.fine_fanout = fanout as usize;
        self
    }

    fn semitones(&self, peak: &Peak) -> f32 {
        12.0 * (peak.freq.max(0.5) * self.bin_hz / self.min_freq_hz).log2()
    }

    /// Adds a peak (peaks must arrive in time order); finished landmarks go to `out`.
    pub fn push(&mut self, peak: Peak, out: &mut Vec<Landmark>) {
        while let Some((front, _)) = self.window.front() {
            if peak.frame <= front.frame + self.zone_frames {
                break;
            }
            self.emit_front(out);
        }
        let st = self.semitones(&peak);
        self.window.push_back((peak, st));
    }

    /// Emits the landmarks of every peak still waiting.
    pub fn finish(&mut self, out: &mut Vec<Landmark>) {
        while !self.window.is_empty() {
            self.emit_front(out);
        }
    }

    fn in_zone(&self, a: &Peak, sa: f32, p: &Peak, s: f32) -> bool {
        p.frame > a.frame
            && p.frame <= a.frame + self.zone_frames
            && (s - sa).abs() <= self.zone_semitones
    }

    fn emit_front(&mut self, out: &mut Vec<Landmark>) {
        let (a, sa) = self.window.pop_front().expect("caller checked");
        let a_core = a.rank < self.core_rank;
        let a_fine = a.rank == FINE_RANK;
        let mut core = std::mem::take(&mut self.chosen);
        let mut dense = std::mem::take(&mut self.dense_chosen);
        let mut fine = std::mem::take(&mut self.fine_chosen);
        let mut seen = std::mem::take(&mut self.fourths_of);
        seen.clear();
        core.clear();
        dense.clear();
        fine.clear();
        for (i, (p, s)) in self.window.iter().enumerate() {
            let core_full = !a_core || core.len() == self.fanout;
            let dense_full = a_fine || dense.len() == self.dense_fanout;
            let fine_full = fine.len() == self.fine_fanout;
            if (core_full && dense_full && fine_full) || p.frame > a.frame + self.zone_frames {
                break;
            }
            if self.in_zone(&a, sa, p, *s) {
                if !core_full && p.rank < self.core_rank {
                    core.push(i);
                }
                if !dense_full && p.rank != FINE_RANK {
                    dense.push(i);
                }
                if !fine_full {
                    fine.push(i);
                }
            }
        }
        for (k, &i) in core.iter().enumerate() {
            for &j in &core[k + 1..] {
                self.emit(&a, sa, (i, j), (false, false), &mut seen, out);
            }
        }
        // The dense layer's pairs that the core layer did not form already.
        for (k, &i) in dense.iter().enumerate() {
            for &j in &dense[k + 1..] {
                if !(core.contains(&i) && core.contains(&j)) {
                    self.emit(&a, sa, (i, j), (true, false), &mut seen, out);
                }
            }
        }
        // Pairs of the first zone peaks, fine ones included, that hold a fine peak: no other
        // layer formed them.
        for (k, &i) in fine.iter().enumerate() {
            for &j in &fine[k + 1..] {
                let holds_fine = |at: usize| self.window[at].0.rank == FINE_RANK;
                if a_fine || holds_fine(i) || holds_fine(j) {
                    self.emit(&a, sa, (i, j), (true, true), &mut seen, out);
                }
            }
        }
        self.chosen = core;
        self.dense_chosen = dense;
        self.fine_chosen = fine;
        self.fourths_of = seen;
    }

    /// The triplet of anchor `a` with the window's peaks `i` (B) and `j` (C), if C is later
    /// than B.
    /// `seen` holds the fourth-peak candidates worked out for this anchor so far.
    fn emit(
        &self,
        a: &Peak,
        sa: f32,
        (i, j): (usize, usize),
        (dense, fine): (bool, bool),
        seen: &mut Vec<Fourths>,
        out: &mut Vec<Landmark>,
    ) {
        let (b, sb) = self.window[i];
        let (c, sc) = self.window[j];
        if c.frame <= b.frame {
            return;
        }
        let span = (c.time - a.time).max(1.0);
        let mut m = Landmark {
            frame: a.frame,
            anchor: sa,
            interval_b: sb - sa,
            interval_c: sc - sa,
            ratio: ((b.time - a.time) / span).clamp(0.0, 1.0),
            span,
            fourths: [0.0; MAX_FOURTH_CANDIDATES as usize],
            fourth_count: 0,
            dense,
            fine,
        };
        if let Some(f) = seen.iter().find(|f| f.c == j && f.dense == dense) {
            m.fourths = f.fourths;
            m.fourth_count = f.count;
        } else {
            self.rank_fourths(a, sa, c.frame, j, &mut m);
            seen.push(Fourths {
                c: j,
                dense,
                fourths: m.fourths,
                count: m.fourth_count,
            });
        }
        out.push(m);
    }

    /// Fills `m.fourths` with the top zone peaks after C (window position `j`) by the rule.
    fn rank_fourths(&self, a: &Peak, sa: f32, c_frame: u32, j: usize, m: &mut Landmark) {
        if self.fourths == 0 {
            return;
        }
        let mut power = [0f32; MAX_FOURTH_CANDIDATES as usize];
        for (d, sd) in self.window.range(j + 1..) {
            if d.frame > a.frame + self.zone_frames
                || (self.rule == FourthPeak::First && usize::from(m.fourth_count) == self.fourths)
            {
                break;
            }
            // Strictly later than C: peaks of one frame may come in either order. A core
            // triplet ranks core peaks only, so it is the triplet the core layer alone forms;
            // no triplet ranks fine peaks, too weak to be the index's strongest.
            if d.frame <= c_frame
                || (!m.dense && d.rank >= self.core_rank)
                || d.rank == FINE_RANK
                || !self.in_zone(a, sa, d, *sd)
            {
                continue;
            }
            let count = usize::from(m.fourth_count);
            // Time order for `First`; for `Strongest` an insertion into the ranking, where a
            // tie keeps the earlier peak ahead.
            let at = match self.rule {
                FourthPeak::Strongest => power[..count].partition_point(|&p| p >= d.power),
                FourthPeak::First | FourthPeak::Off => count,
            };
            if at == self.fourths {
                continue;
            }
            let end = (count + 1).min(self.fourths);
            power.copy_within(at..end - 1, at + 1);
            m.fourths.copy_within(at..end - 1, at + 1);
            power[at] = d.power;
            m.fourths[at] = sd - sa;
            m.fourth_count = end as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peak(frame: u32, bin: f32) -> Peak {
        Peak {
            frame,
            bin: bin as u16,
            time: frame as f32,
            freq: bin,
            power: 1.0,
            rank: 0,
        }
    }

    /// Every landmark `l` forms from `peaks`.
    fn landmarks_of(mut l: Landmarker, peaks: impl IntoIterator<Item = Peak>) -> Vec<Landmark> {
        let mut out = Vec::new();
        for pk in peaks {
            l.push(pk, &mut out);
        }
        l.finish(&mut out);
        out
    }

    #[test]
    fn forms_triplets_from_the_first_peaks_of_the_zone() {
        let p = FingerprintParams {
            fourth_peak: FourthPeak::First,
            ..FingerprintParams::default()
        };
        // 16 bins is 125 Hz at 7.8125 Hz per bin, so frequency 32 bins is 12 semitones up.
        let out = landmarks_of(
            Landmarker::new(&p, 3, 1),
            [
                peak(0, 16.0),
                peak(10, 32.0),
                peak(20, 16.0),
                peak(30, 24.0),
                peak(40, 20.0),
                peak(200, 16.0),
            ],
        );
        let first: Vec<_> = out.iter().filter(|m| m.frame == 0).collect();
        assert_eq!(first.len(), 3, "three chosen peaks make three pairs");
        let m = first[0];
        assert!((m.anchor - 0.0).abs() < 1e-4);
        assert!((m.interval_b - 12.0).abs() < 1e-4);
        assert!(m.interval_c.abs() < 1e-4);
        assert!((m.ratio - 0.5).abs() < 1e-6);
        assert!((m.span - 20.0).abs() < 1e-6);
        // The fourth peak is the next zone peak after C: 24 bins, a fifth above the anchor.
        assert_eq!(m.fourth_count, 1);
        assert!((m.fourths()[0] - 12.0 * 1.5f32.log2()).abs() < 1e-4);
        let last = first.last().unwrap();
        assert!((last.fourths()[0] - 12.0 * 1.25f32.log2()).abs() < 1e-4);
        assert!(
            out.iter().all(|m| m.frame != 200),
            "a lone peak makes no triplet"
        );
    }

    #[test]
    fn the_strongest_peaks_after_c_rank_first_and_ties_keep_time_order() {
        let params = FingerprintParams::default();
        let loud = |frame: u32, bin: f32, power: f32| Peak {
            power,
            ..peak(frame, bin)
        };
        let peaks = [
            loud(0, 16.0, 1.0),
            loud(4, 20.0, 1.0),
            loud(8, 24.0, 1.0),
            // After C (frame 8): a weak peak, two equally strong ones, a middling one, and a
            // strong one beyond the anchor's zone (48 frames), which does not count.
            loud(12, 17.0, 0.5),
            loud(16, 18.0, 3.0),
            loud(20, 19.0, 3.0),
            loud(24, 21.0, 2.0),
            loud(60, 22.0, 9.0),
        ];
        let semis = |bin: f32| 12.0 * (bin / 16.0).log2();
        let first_triplet = |rule: FourthPeak, fourths: u32| {
            let p = FingerprintParams {
                fourth_peak: rule,
                ..params
            };
            landmarks_of(Landmarker::new(&p, 2, fourths), peaks)
                .into_iter()
                .find(|m| m.frame == 0)
                .unwrap()
        };
        let strongest = first_triplet(FourthPeak::Strongest, 3);
        let expected = [semis(18.0), semis(19.0), semis(21.0)];
        assert_eq!(strongest.fourths().len(), 3);
        for (got, want) in strongest.fourths().iter().zip(expected) {
            assert!((got - want).abs() < 1e-4, "{strongest:?}");
        }
        // The index keeps one: the strongest, the earlier of a tie.
        let kept = first_triplet(FourthPeak::Strongest, 1);
        assert_eq!(kept.fourths().len(), 1);
        assert!((kept.fourths()[0] - semis(18.0)).abs() < 1e-4);
        // The older rule takes them in time order, the weak one first.
        let first = first_triplet(FourthPeak::First, 2);
        assert!((first.fourths()[0] - semis(17.0)).abs() < 1e-4);
        assert!((first.fourths()[1] - semis(18.0)).abs() < 1e-4);
        assert_eq!(first_triplet(FourthPeak::Off, 0).fourths().len(), 0);
    }

    #[test]
    fn a_dense_layer_pairs_weak_peaks_and_leaves_the_core_triplets_alone() {
        let p = FingerprintParams::default();
        let ranked = |frame: u32, bin: f32, rank: u16| Peak {
            rank,
            ..peak(frame, bin)
        };
        // A weak peak (rank 5) between a strong anchor and two strong partners; ranks below 3
        // are the core layer's.
        let peaks = [
            ranked(0, 16.0, 0),
            ranked(4, 17.0, 5),
            ranked(8, 18.0, 1),
            ranked(12, 19.0, 2),
        ];
        let layered = landmarks_of(Landmarker::new(&p, 2, 1).with_dense_layer(3, 3), peaks);
        let mut got: Vec<_> = layered
            .iter()
            .map(|m| (m.frame, m.span as u32, m.dense))
            .collect();
        got.sort_unstable();
        // Core: A with B and C. Dense: A with the weak peak and B or C (A with B and C is core
        // already), and the weak peak, as an anchor, with B and C.
        assert_eq!(
            got,
            [(0, 8, true), (0, 12, false), (0, 12, true), (4, 8, true)]
        );
        // The core triplets are those of a landmarker fed the core peaks alone.
        let core: Vec<Landmark> = layered.into_iter().filter(|m| !m.dense).collect();
        let core_peaks = peaks.into_iter().filter(|pk| pk.rank < 3);
        assert_eq!(core, landmarks_of(Landmarker::new(&p, 2, 1), core_peaks));
    }

    #[test]
    fn peaks_outside_the_zone_are_ignored() {
        let p = FingerprintParams::default();
        // 13 semitones up is outside the ±12 semitone zone.
        let far = 16.0 * 2f32.powf(13.0 / 12.0);
        let out = landmarks_of(
            Landmarker::new(&p, 3, 1),
            [peak(0, 16.0), peak(5, far), peak(6, 17.0), peak(7, 18.0)],
        );
        assert_eq!(out.iter().filter(|m| m.frame == 0).count(), 1);
    }
}
