//! [`FingerprintParams`]: the numbers that shape a recording's hashes, each with its unit.
//! They are written into every index (`codec` encodes them), and a query always uses its
//! index's own. What a query does with them is [`QueryParams`](crate::QueryParams)'s
//! (`tuning`); what an item may cost is [`Limits`](crate::Limits)'s. docs/decisions/ says why
//! each default is what it is.

use crate::error::{Error, Result};

/// Parameters that decide which hashes a recording produces. Recorded in the index header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FingerprintParams {
    /// Analysis sample rate in Hz; every decoded item is downmixed and resampled to it.
    pub sample_rate: u32,
    /// STFT window length in samples (Hann window).
    pub fft_size: u32,
    /// STFT hop in samples; one "frame" is this many samples (16 ms at the defaults).
    pub hop: u32,
    /// Lowest frequency considered for peaks, Hz.
    pub min_freq_hz: f32,
    /// Highest frequency considered for peaks, Hz.
    pub max_freq_hz: f32,
    /// A peak is the maximum of its neighbourhood of ± this many frames...
    pub peak_radius_frames: u32,
    /// ...and ± this many FFT bins.
    pub peak_radius_bins: u32,
    /// Peaks kept per second of audio when indexing (the strongest of each block).
    pub peaks_per_second: f32,
    /// Length of the block over which the strongest peaks are kept, in frames.
    pub density_block_frames: u32,
    /// Each anchor peak pairs with this many following peaks of its target zone when indexing;
    /// every pair of them makes one triplet, so an anchor yields `fanout*(fanout-1)/2` hashes.
    pub fanout: u32,
    /// Target zone: the other two peaks of a triplet lie at most this many frames after the anchor.
    pub zone_frames: u32,
    /// Target zone: and within ± this many semitones of the anchor's frequency.
    pub zone_semitones: f32,
    /// Hash quantisation: width of the anchor-frequency band, semitones.
    pub anchor_band_semitones: f32,
    /// Hash quantisation: step of the two frequency differences, semitones.
    pub interval_step_semitones: f32,
    /// Hash quantisation: number of levels of the time ratio (tB-tA)/(tC-tA).
    pub ratio_levels: u32,
    /// Hash quantisation: number of log-spaced levels of the triplet's time span.
    pub span_levels: u32,
    /// Which zone peak after C extends each hash by its interval, in `interval_step_semitones`
    /// cells. A query reads a whole triplet's postings while they are few and only those whose
    /// fourth peak agrees once they are many, so a common triplet costs a fraction of its
    /// postings (docs/decisions/0014-common-triplets-skipped-by-share).
    pub fourth_peak: FourthPeak,
}

/// The rule that picks a triplet's fourth peak among the zone peaks after C. The query applies
/// the index's rule to offer its candidates, so an index keeps the rule it was built with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FourthPeak {
    /// No fourth peak: the hash is the triplet key alone (format 2's hashes).
    Off,
    /// The first zone peak after C in time (format-3 indexes written before the strongest
    /// became the default).
    First,
    /// The strongest zone peak after C. Strong peaks survive degradation best, and a denser
    /// query's extra peaks are its weaker ones, so the query's strongest candidates are the
    /// index's more often than its first ones are: with every triplet read at its fourth peak,
    /// 1, 2 and 3 candidates find 85.9, 88.0 and 88.6 % of the issue-3 corpus, against 82.2,
    /// 86.0 and 88.3 % for the first peaks (BENCHMARKS.md).
    Strongest,
}

impl FourthPeak {
    pub fn is_on(self) -> bool {
        self != FourthPeak::Off
    }

    fn name(self) -> &'static str {
        match self {
            FourthPeak::Off => "off",
            FourthPeak::First => "first",
            FourthPeak::Strongest => "strongest",
        }
    }
}

impl Default for FingerprintParams {
    fn default() -> Self {
        FingerprintParams {
            sample_rate: 8000,
            fft_size: 1024,
            hop: 128,
            min_freq_hz: 125.0,
            max_freq_hz: 3800.0,
            peak_radius_frames: 6,
            peak_radius_bins: 10,
            peaks_per_second: 10.0,
            density_block_frames: 64,
            fanout: 3,
            zone_frames: 48,
            zone_semitones: 12.0,
            anchor_band_semitones: 2.0,
            interval_step_semitones: 0.5,
            ratio_levels: 16,
            span_levels: 16,
            fourth_peak: FourthPeak::Strongest,
        }
    }
}

impl FingerprintParams {
    /// Seconds per frame.
    pub fn frame_seconds(&self) -> f64 {
        f64::from(self.hop) / f64::from(self.sample_rate)
    }

    /// Hertz per FFT bin.
    pub fn bin_hz(&self) -> f32 {
        self.sample_rate as f32 / self.fft_size as f32
    }

    /// Checks that the numbers make sense together.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| {
            Err(Error::Invalid(format!(
                "invalid fingerprint parameters: {what}"
            )))
        };
        if !self.fft_size.is_power_of_two() || !(64..=16384).contains(&self.fft_size) {
            return bad("fft_size must be a power of two between 64 and 16384");
        }
        if self.hop == 0 || self.hop > self.fft_size {
            return bad("hop must be between 1 and fft_size");
        }
        if !(4000..=48000).contains(&self.sample_rate) {
            return bad("sample_rate must be between 4000 and 48000 Hz");
        }
        let nyquist = self.sample_rate as f32 / 2.0;
        if !(self.min_freq_hz > 0.0
            && self.min_freq_hz < self.max_freq_hz
            && self.max_freq_hz <= nyquist)
        {
            return bad("need 0 < min_freq_hz < max_freq_hz <= sample_rate/2");
        }
        if self.fanout < 2 || self.fanout > 16 {
            return bad("fanout must be between 2 and 16");
        }
        if self.zone_frames < 3 || self.zone_frames > 1024 {
            return bad("zone_frames must be between 3 and 1024");
        }
        if self.peaks_per_second <= 0.0 || self.density_block_frames == 0 {
            return bad("peaks_per_second and density_block_frames must be positive");
        }
        if !(self.anchor_band_semitones > 0.0
            && self.interval_step_semitones > 0.0
            && self.zone_semitones > 0.0)
        {
            return bad("semitone widths must be positive");
        }
        if !(2..=256).contains(&self.ratio_levels) || !(1..=256).contains(&self.span_levels) {
            return bad("ratio_levels must be 2..=256 and span_levels 1..=256");
        }
        Ok(())
    }

    /// Errors naming the first field that differs, so a query is never run against an index
    /// built with other parameters.
    pub fn ensure_same(&self, other: &FingerprintParams) -> Result<()> {
        let (a, b) = (self.describe(), other.describe());
        for ((name, left), (_, right)) in a.iter().zip(b.iter()) {
            if left != right {
                return Err(Error::ParamsMismatch {
                    what: name,
                    left: left.clone(),
                    right: right.clone(),
                });
            }
        }
        Ok(())
    }

    /// Name and value of every field, for `earmark info` and mismatch messages.
    pub fn describe(&self) -> Vec<(&'static str, String)> {
        vec![
            ("sample_rate_hz", self.sample_rate.to_string()),
            ("fft_size_samples", self.fft_size.to_string()),
            ("hop_samples", self.hop.to_string()),
            ("min_freq_hz", self.min_freq_hz.to_string()),
            ("max_freq_hz", self.max_freq_hz.to_string()),
            ("peak_radius_frames", self.peak_radius_frames.to_string()),
            ("peak_radius_bins", self.peak_radius_bins.to_string()),
            ("peaks_per_second", self.peaks_per_second.to_string()),
            (
                "density_block_frames",
                self.density_block_frames.to_string(),
            ),
            ("fanout", self.fanout.to_string()),
            ("zone_frames", self.zone_frames.to_string()),
            ("zone_semitones", self.zone_semitones.to_string()),
            (
                "anchor_band_semitones",
                self.anchor_band_semitones.to_string(),
            ),
            (
                "interval_step_semitones",
                self.interval_step_semitones.to_string(),
            ),
            ("ratio_levels", self.ratio_levels.to_string()),
            ("span_levels", self.span_levels.to_string()),
            ("fourth_peak", self.fourth_peak.name().to_string()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        FingerprintParams::default().validate().unwrap();
    }

    #[test]
    fn mismatch_names_the_field() {
        let a = FingerprintParams::default();
        let b = FingerprintParams { hop: 256, ..a };
        let err = a.ensure_same(&b).unwrap_err().to_string();
        assert!(
            err.contains("hop_samples") && err.contains("128") && err.contains("256"),
            "{err}"
        );
        a.ensure_same(&a).unwrap();
    }
}
