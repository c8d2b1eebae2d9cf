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

pub use hash::{Detail, Hash, HashLayout, Keyed, ProbeBlocks};
pub use landmark::Landmark;
pub use peaks::Peak;

use crate::config::{FingerprintParams, QueryParams};
use landmark::Landmarker;
use peaks::PeakPicker;
use spectrum::Spectrogram;

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
    peaks: Vec<Peak>,
    landmarks: Vec<Landmark>,
    /// Whether every picked peak is kept ([`Self::keeping_peaks`]), and those kept.
    keep_peaks: bool,
    kept: Vec<Peak>,
}

impl Fingerprinter {
    pub fn new(params: &FingerprintParams, density: Density) -> Self {
        let mut landmarker = Landmarker::new(params, density.fanout, density.fourths);
        let mut picked = density.peaks_per_second;
        if density.has_dense_layer() {
            // One picker at the dense layer's density: the core layer is its top-ranked peaks.
            picked = density.dense_peaks_per_second;
            landmarker = landmarker.with_dense_layer(
                peaks::peaks_per_block(params, density.peaks_per_second),
                density.dense_fanout,
            );
        }
        Fingerprinter {
            spectrogram: Spectrogram::new(params),
            picker: PeakPicker::new(params, picked),
            landmarker,
            peaks: Vec::new(),
            landmarks: Vec::new(),
            keep_peaks: false,
            kept: Vec::new(),
        }
    }

    /// Also keeps every peak picked, for [`Self::take_peaks`]: the index stores a catalogue
    /// track's peaks and the matcher checks candidates against the query's.
    pub fn keeping_peaks(mut self) -> Self {
        self.keep_peaks = true;
        self
    }

    /// The peaks kept so far, in the order picked; they are removed from the fingerprinter,
    /// which keeps the buffer (this runs once per decoded packet).
    pub fn take_peaks(&mut self) -> std::vec::Drain<'_, Peak> {
        self.kept.drain(..)
    }

    /// Feeds mono samples at the analysis rate.
    pub fn push(&mut self, samples: &[f32]) {
        let Fingerprinter {
            spectrogram,
            picker,
            peaks,
            ..
        } = self;
        spectrogram.push(samples, &mut |frame| picker.push_frame(frame, peaks));
        self.forward_peaks();
    }

    fn forward_peaks(&mut self) {
        if self.keep_peaks {
            self.kept.extend_from_slice(&self.peaks);
        }
        for peak in self.peaks.drain(..) {
            self.landmarker.push(peak, &mut self.landmarks);
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
    pub fn finish_with_peaks(mut self) -> (Vec<Landmark>, Vec<Peak>, u64) {
        self.picker.finish(&mut self.peaks);
        self.forward_peaks();
        self.landmarker.finish(&mut self.landmarks);
        let peaks = std::mem::take(&mut self.kept);
        (self.landmarks, peaks, self.spectrogram.frames())
    }
}

/// Fingerprints a whole buffer at once.
pub fn fingerprint(samples: &[f32], params: &FingerprintParams, density: Density) -> Vec<Landmark> {
    let mut f = Fingerprinter::new(params, density);
    f.push(samples);
    f.finish().0
}

/// A whole catalogue track at index density, as the index stores it: its keyed landmarks, its
/// peaks, and its length in frames.
pub fn catalogue_track(
    samples: &[f32],
    params: &FingerprintParams,
) -> (Vec<Keyed>, Vec<crate::index::format::PeakCode>, u64) {
    let mut f = Fingerprinter::new(params, Density::index(params)).keeping_peaks();
    f.push(samples);
    let (landmarks, peaks, frames) = f.finish_with_peaks();
    let layout = HashLayout::new(params);
    (
        landmarks.iter().map(|m| layout.keyed(m)).collect(),
        peaks.iter().filter_map(|p| p.code(params)).collect(),
        frames,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On real music under speech: the dense layer leaves the core layer's triplets exactly as
    /// they were, and adds triplets of its own, none of them a core one again.
    #[test]
    fn a_dense_layer_adds_triplets_and_keeps_the_core_ones() {
        let params = FingerprintParams::default();
        let bytes = std::fs::read("testdata/dump/clip-quiet-speech.m4a").unwrap();
        let limits = crate::config::Limits::default();
        let (samples, _) =
            crate::audio::decode_to_vec(&bytes, Some("m4a"), params.sample_rate, &limits).unwrap();
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
}
