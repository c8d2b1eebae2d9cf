//! Fingerprinting: mono samples at the analysis rate in, [`Landmark`]s out.
//!
//! [`spectrum::Spectrogram`] → [`peaks::PeakPicker`] → [`landmark::Landmarker`], all streaming,
//! wrapped by [`Fingerprinter`]. [`hash::HashLayout`] turns landmarks into index keys. The same
//! code serves indexing and querying; only the [`Density`] differs (queries are denser so the
//! index's peaks are, mostly, a subset of theirs).

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
    /// Fourth-peak candidates per triplet (see [`Landmark::fourths`]).
    pub fourths: u32,
}

impl Density {
    /// The density used when indexing.
    pub fn index(params: &FingerprintParams) -> Self {
        Density {
            peaks_per_second: params.peaks_per_second,
            fanout: params.fanout,
            fourths: u32::from(params.fourth_peak.is_on()),
        }
    }

    /// The density used for queries.
    pub fn query(q: &QueryParams) -> Self {
        Density {
            peaks_per_second: q.peaks_per_second,
            fanout: q.fanout,
            fourths: q.fourth_peak_candidates,
        }
    }
}

/// Streaming fingerprinter. Push samples; take landmarks as they become final.
pub struct Fingerprinter {
    spectrogram: Spectrogram,
    picker: PeakPicker,
    landmarker: Landmarker,
    peaks: Vec<Peak>,
    landmarks: Vec<Landmark>,
}

impl Fingerprinter {
    pub fn new(params: &FingerprintParams, density: Density) -> Self {
        Fingerprinter {
            spectrogram: Spectrogram::new(params),
            picker: PeakPicker::new(params, density.peaks_per_second),
            landmarker: Landmarker::new(params, density.fanout, density.fourths),
            peaks: Vec::new(),
            landmarks: Vec::new(),
        }
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
        for peak in self.peaks.drain(..) {
            self.landmarker.push(peak, &mut self.landmarks);
        }
    }

    /// Landmarks that are final so far, in anchor order; they are removed from the fingerprinter.
    pub fn take(&mut self) -> std::vec::Drain<'_, Landmark> {
        self.landmarks.drain(..)
    }

    /// Ends the stream; returns the remaining landmarks and the number of frames analysed.
    pub fn finish(mut self) -> (Vec<Landmark>, u64) {
        self.picker.finish(&mut self.peaks);
        self.forward_peaks();
        self.landmarker.finish(&mut self.landmarks);
        (self.landmarks, self.spectrogram.frames())
    }
}

/// Fingerprints a whole buffer at once.
pub fn fingerprint(samples: &[f32], params: &FingerprintParams, density: Density) -> Vec<Landmark> {
    let mut f = Fingerprinter::new(params, density);
    f.push(samples);
    f.finish().0
}
