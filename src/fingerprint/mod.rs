//! Fingerprinting: mono samples at the analysis rate in, [`Landmark`]s out.
//!
//! [`spectrum::Spectrogram`] → [`peaks::PeakPicker`] → [`landmark::Landmarker`], all streaming,
//! wrapped by [`Fingerprinter`]. [`hash::HashLayout`] turns landmarks into index keys. The same
//! code serves indexing and querying; only the [`Density`] differs (queries are denser so the
//! index's peaks are, mostly, a subset of theirs, and add a dense layer of weaker peaks).

pub mod hash;
pub mod landmark;
pub mod peaks;
pub mod spectrum;

pub use hash::HashLayout;
pub use landmark::Landmark;
pub use peaks::Peak;

use crate::config::FingerprintParams;
use crate::tuning::QueryParams;
use landmark::{FINE_RANK, Landmarker};
use peaks::PeakPicker;
use spectrum::Spectrogram;

/// The neighbourhood, (frames, bins) either side, of which a fine peak
/// ([`QueryParams::fine_peaks_per_second`]) is the maximum: ±32 ms and ±23 Hz, against the
/// ±96 ms and ±78 Hz of every other peak. Voiced speech puts a harmonic every 90–250 Hz (its
/// pitch), so the wide neighbourhood of a music peak under it usually holds a louder one.
pub const FINE_PEAK_RADIUS: (u32, u32) = (2, 3);

/// How many peaks and triplets to extract.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Density {
    pub peaks_per_second: f32,
    pub fanout: u32,
    /// Peaks per second of a dense layer ([`QueryParams::dense_peaks_per_second`]); none
    /// unless it is denser than `peaks_per_second` and `dense_fanout` is at least 2.
    pub dense_peaks_per_second: f32,
    /// Zone peaks paired per anchor in the dense layer.
    pub dense_fanout: u32,
    /// Fourth-peak candidates per triplet (see [`Landmark::fourths`]).
    pub fourths: u32,
    /// Fine peaks per second ([`QueryParams::fine_peaks_per_second`]; 0: none), kept for the
    /// peak check...
    pub fine_peaks_per_second: f32,
    /// ...and zone peaks paired per anchor into the dense layer's triplets that hold one
    /// ([`QueryParams::fine_fanout`]; below 2: none).
    pub fine_fanout: u32,
}

impl Density {
    /// The density used when indexing.
    pub fn index(params: &FingerprintParams) -> Self {
        Density {
            peaks_per_second: params.peaks_per_second,
            fanout: params.fanout,
            dense_peaks_per_second: 0.0,
            dense_fanout: 0,
            fourths: u32::from(params.fourth_peak.is_on()),
            fine_peaks_per_second: 0.0,
            fine_fanout: 0,
        }
    }

    /// The density used for queries.
    pub fn query(q: &QueryParams) -> Self {
        Density {
            peaks_per_second: q.peaks_per_second,
            fanout: q.fanout,
            dense_peaks_per_second: q.dense_peaks_per_second,
            dense_fanout: q.dense_fanout,
            fourths: q.fourth_peak_candidates,
            fine_peaks_per_second: q.fine_peaks_per_second,
            fine_fanout: q.fine_fanout,
        }
    }

    fn has_dense_layer(&self) -> bool {
        self.dense_fanout >= 2 && self.dense_peaks_per_second > self.peaks_per_second
    }
}

/// Streaming fingerprinter. Push samples; take landmarks as they become final.
pub struct Fingerprinter {
    spectrogram: Spectrogram,
    picker: PeakPicker,
    landmarker: Landmarker,
    /// Picked and not yet passed on: the ordinary peaks, and where there are fine peaks, both
    /// kinds wait until both pickers have released the frames they lie in.
    peaks: Vec<Peak>,
    landmarks: Vec<Landmark>,
    /// Whether every picked peak is kept ([`Self::keeping_peaks`]), and those kept.
    keep_peaks: bool,
    kept: Vec<Peak>,
    /// The fine peaks kept that are not ordinary ones (rank [`FINE_RANK`]).
    kept_fine: Vec<Peak>,
    fine: Option<FinePeaks>,
}

/// The fine peaks ([`Density::fine_peaks_per_second`]): their picker, those picked and not yet
/// passed on, whether they join the dense layer, and a buffer for merging.
struct FinePeaks {
    picker: PeakPicker,
    pending: Vec<Peak>,
    layer: bool,
    merged: Vec<Peak>,
}

impl Fingerprinter {
    pub fn new(params: &FingerprintParams, density: Density) -> Self {
        let mut landmarker = Landmarker::new(params, density.fanout, density.fourths);
        let mut picked = density.peaks_per_second;
        if density.has_dense_layer() {
            // One picker at the dense layer's density: the core layer is its top-ranked peaks.
            picked = density.dense_peaks_per_second;
            landmarker = landmarker
                .with_dense_layer(
                    peaks::peaks_per_block(params, density.peaks_per_second),
                    density.dense_fanout,
                )
                .with_fine_peaks(if density.fine_peaks_per_second > 0.0 {
                    density.fine_fanout
                } else {
                    0
                });
        }
        let fine = (density.fine_peaks_per_second > 0.0).then(|| {
            let (frames, bins) = FINE_PEAK_RADIUS;
            let fine = FingerprintParams {
                peak_radius_frames: frames,
                peak_radius_bins: bins,
                ..*params
            };
            FinePeaks {
                picker: PeakPicker::new(&fine, density.fine_peaks_per_second),
                pending: Vec::new(),
                layer: density.has_dense_layer() && density.fine_fanout >= 2,
                merged: Vec::new(),
            }
        });
        Fingerprinter {
            spectrogram: Spectrogram::new(params),
            picker: PeakPicker::new(params, picked),
            landmarker,
            peaks: Vec::new(),
            landmarks: Vec::new(),
            keep_peaks: false,
            kept: Vec::new(),
            kept_fine: Vec::new(),
            fine,
        }
    }

    /// Also keeps every peak picked, for [`Self::take_peaks`] and [`Self::take_fine_peaks`]:
    /// the index stores a catalogue track's peaks and the matcher checks candidates against the
    /// query's.
    pub fn keeping_peaks(mut self) -> Self {
        self.keep_peaks = true;
        self
    }

    /// The peaks kept so far, in the order picked; they are removed from the fingerprinter,
    /// which keeps the buffer (this runs once per decoded packet).
    pub fn take_peaks(&mut self) -> std::vec::Drain<'_, Peak> {
        self.kept.drain(..)
    }

    /// The fine peaks kept so far that are not also ordinary ones (ranked [`FINE_RANK`]),
    /// removed as by [`Self::take_peaks`].
    pub fn take_fine_peaks(&mut self) -> std::vec::Drain<'_, Peak> {
        self.kept_fine.drain(..)
    }

    /// Feeds mono samples at the analysis rate.
    pub fn push(&mut self, samples: &[f32]) {
        let Fingerprinter {
            spectrogram,
            picker,
            peaks,
            fine,
            ..
        } = self;
        spectrogram.push(samples, &mut |frame| {
            picker.push_frame(frame, peaks);
            if let Some(fine) = fine {
                fine.picker.push_frame(frame, &mut fine.pending);
            }
        });
        self.forward_peaks(false);
    }

    /// Passes on the peaks that are final: all of them at the end, else those in frames that
    /// both pickers have released.
    fn forward_peaks(&mut self, end: bool) {
        let Some(fine) = &mut self.fine else {
            if self.keep_peaks {
                self.kept.extend_from_slice(&self.peaks);
            }
            for peak in self.peaks.drain(..) {
                self.landmarker.push(peak, &mut self.landmarks);
            }
            return;
        };
        let before = if end {
            u32::MAX
        } else {
            let released = self
                .picker
                .released_before()
                .min(fine.picker.released_before());
            u32::try_from(released).unwrap_or(u32::MAX)
        };
        // Both pickers release whole blocks sorted by (frame, bin): merged in that order, a
        // fine peak in an ordinary peak's cell is that peak, seen twice.
        let ordinary = self.peaks.partition_point(|p| p.frame < before);
        let finer = fine.pending.partition_point(|p| p.frame < before);
        let cell = |p: &Peak| (p.frame, p.bin);
        let as_fine = |f: Peak| Peak {
            rank: FINE_RANK,
            ..f
        };
        let mut others = fine.pending.drain(..finer).peekable();
        fine.merged.clear();
        for peak in self.peaks.drain(..ordinary) {
            while let Some(f) = others.next_if(|f| cell(f) <= cell(&peak)) {
                if cell(&f) != cell(&peak) {
                    fine.merged.push(as_fine(f));
                }
            }
            fine.merged.push(peak);
        }
        fine.merged.extend(others.map(as_fine));
        for &peak in &fine.merged {
            let is_fine = peak.rank == FINE_RANK;
            if self.keep_peaks {
                if is_fine {
                    &mut self.kept_fine
                } else {
                    &mut self.kept
                }
                .push(peak);
            }
            if !is_fine || fine.layer {
                self.landmarker.push(peak, &mut self.landmarks);
            }
        }
    }

    /// Landmarks that are final so far, in anchor order; they are removed from the fingerprinter.
    pub fn take(&mut self) -> std::vec::Drain<'_, Landmark> {
        self.landmarks.drain(..)
    }

    /// Ends the stream; returns the remaining landmarks and the number of frames analysed.
    pub fn finish(self) -> (Vec<Landmark>, u64) {
        let (landmarks, _, frames) = self.finish_with_peaks();
        (landmarks, frames)
    }

    /// Ends the stream; returns the remaining landmarks, the remaining kept peaks and the
    /// number of frames analysed.
    pub fn finish_with_peaks(self) -> (Vec<Landmark>, Vec<Peak>, u64) {
        let Finished {
            landmarks,
            peaks,
            frames,
            ..
        } = self.finish_all();
        (landmarks, peaks, frames)
    }

    /// Ends the stream; returns everything that remains.
    pub fn finish_all(mut self) -> Finished {
        self.picker.finish(&mut self.peaks);
        if let Some(fine) = &mut self.fine {
            fine.picker.finish(&mut fine.pending);
        }
        self.forward_peaks(true);
        self.landmarker.finish(&mut self.landmarks);
        Finished {
            landmarks: self.landmarks,
            peaks: std::mem::take(&mut self.kept),
            fine_peaks: self.kept_fine,
            frames: self.spectrogram.frames(),
        }
    }
}

/// What remains when a [`Fingerprinter`]'s stream ends.
pub struct Finished {
    pub landmarks: Vec<Landmark>,
    /// The kept peaks not yet taken...
    pub peaks: Vec<Peak>,
    /// ...and the fine ones that are not also ordinary ones.
    pub fine_peaks: Vec<Peak>,
    /// Frames analysed.
    pub frames: u64,
}

/// Fingerprints a whole buffer at once.
pub fn fingerprint(samples: &[f32], params: &FingerprintParams, density: Density) -> Vec<Landmark> {
    let mut f = Fingerprinter::new(params, density);
    f.push(samples);
    f.finish().0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On real music under speech: the dense layer leaves the core layer's triplets exactly as
    /// they were, and adds triplets of its own, none of them a core one again.
    #[test]
    fn a_dense_layer_adds_triplets_and_keeps_the_core_ones() {
        let params = FingerprintParams::default();
        let samples = crate::test_support::decode("testdata/dump/clip-quiet-speech.m4a");
        let layered = Density::query(&QueryParams::default());
        assert!(layered.has_dense_layer());
        let core_only = Density {
            dense_fanout: 0,
            ..layered
        };
        let all = fingerprint(&samples, &params, layered);
        let core = fingerprint(&samples, &params, core_only);
        assert!(core.iter().all(|m| !m.dense));
        let (dense, kept): (Vec<Landmark>, Vec<Landmark>) = all.into_iter().partition(|m| m.dense);
        assert_eq!(kept, core);
        assert!(
            dense.len() > core.len() / 2,
            "{} dense, {} core",
            dense.len(),
            core.len()
        );
        let key = |m: &Landmark| {
            (
                m.frame,
                [m.anchor, m.interval_b, m.interval_c, m.ratio, m.span].map(f32::to_bits),
            )
        };
        let core_keys: std::collections::HashSet<_> = core.iter().map(key).collect();
        assert!(dense.iter().all(|m| !core_keys.contains(&key(m))));
    }

    /// On the same clip: fine peaks leave the ordinary peaks, and the core and dense layers'
    /// triplets, exactly as they were; the fine peaks kept are none of the ordinary ones, and
    /// their triplets are dense ones that no other layer formed.
    #[test]
    fn fine_peaks_add_triplets_and_keep_the_other_layers() {
        let params = FingerprintParams::default();
        let samples = crate::test_support::decode("testdata/dump/clip-quiet-speech.m4a");
        let with = Density::query(&QueryParams::default());
        assert!(with.fine_peaks_per_second > 0.0 && with.fine_fanout >= 2);
        let without = Density {
            fine_peaks_per_second: 0.0,
            ..with
        };
        let run = |density: Density| {
            // Fed in uneven pieces, as decoded packets come.
            let mut f = Fingerprinter::new(&params, density).keeping_peaks();
            let (mut landmarks, mut peaks, mut fine) = (Vec::new(), Vec::new(), Vec::new());
            for piece in samples.chunks(1153) {
                f.push(piece);
                landmarks.extend(f.take());
                peaks.extend(f.take_peaks());
                fine.extend(f.take_fine_peaks());
            }
            let rest = f.finish_all();
            landmarks.extend(rest.landmarks);
            peaks.extend(rest.peaks);
            fine.extend(rest.fine_peaks);
            (landmarks, peaks, fine)
        };
        let (all, peaks, fine) = run(with);
        let (plain, plain_peaks, none) = run(without);
        assert!(none.is_empty());
        assert_eq!(peaks, plain_peaks);
        let ordinary: std::collections::HashSet<_> =
            peaks.iter().map(|p| (p.frame, p.bin)).collect();
        assert!(fine.len() > peaks.len() / 3, "{} fine", fine.len());
        assert!(fine.iter().all(|p| !ordinary.contains(&(p.frame, p.bin))));
        let (added, kept): (Vec<Landmark>, Vec<Landmark>) = all.into_iter().partition(|m| m.fine);
        assert_eq!(kept, plain);
        assert!(added.len() > plain.len() / 2, "{} added", added.len());
        assert!(added.iter().all(|m| m.dense));
        let key = |m: &Landmark| {
            (
                m.frame,
                [m.anchor, m.interval_b, m.interval_c, m.ratio].map(f32::to_bits),
            )
        };
        let plain_keys: std::collections::HashSet<_> = plain.iter().map(key).collect();
        assert!(added.iter().all(|m| !plain_keys.contains(&key(m))));
    }
}
