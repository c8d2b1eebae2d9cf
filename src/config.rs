//! Every tunable number, with its unit, in one place.
//!
//! [`FingerprintParams`] shape the hashes: they are written into every index and an index
//! refuses queries made with other values. [`QueryParams`] only change how a query is looked
//! up and judged, so they can differ per scan. [`Limits`] bound what one item may cost.
//! ARCHITECTURE.md explains why each default is what it is.

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
    /// postings (ARCHITECTURE.md, "Common triplets").
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
    /// The code stored in the index's parameter block.
    pub fn code(self) -> u32 {
        match self {
            FourthPeak::Off => 0,
            FourthPeak::First => 1,
            FourthPeak::Strongest => 2,
        }
    }

    /// Inverse of [`code`](Self::code); `None` for a rule this build does not know.
    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(FourthPeak::Off),
            1 => Some(FourthPeak::First),
            2 => Some(FourthPeak::Strongest),
            _ => None,
        }
    }

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

/// Byte length of [`FingerprintParams::to_bytes`].
pub const PARAMS_BYTES: usize = 68;

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
        let layout = crate::fingerprint::hash::HashLayout::new(self);
        if layout.total_bits() > 32 {
            return bad("the hash quantisation needs more than 32 bits");
        }
        if layout.no_fourth() > 63 {
            return bad(
                "fourth_peak allows at most 63 interval cells (2 zone_semitones / \
                 interval_step_semitones + 1)",
            );
        }
        Ok(())
    }

    /// Flat little-endian encoding stored in the index header (layout in docs/index-format.md).
    pub fn to_bytes(&self) -> [u8; PARAMS_BYTES] {
        let mut out = [0u8; PARAMS_BYTES];
        let fields: [u32; 17] = [
            self.sample_rate,
            self.fft_size,
            self.hop,
            self.min_freq_hz.to_bits(),
            self.max_freq_hz.to_bits(),
            self.peak_radius_frames,
            self.peak_radius_bins,
            self.peaks_per_second.to_bits(),
            self.density_block_frames,
            self.fanout,
            self.zone_frames,
            self.zone_semitones.to_bits(),
            self.anchor_band_semitones.to_bits(),
            self.interval_step_semitones.to_bits(),
            self.ratio_levels,
            self.span_levels,
            self.fourth_peak.code(),
        ];
        for (chunk, v) in out.chunks_exact_mut(4).zip(fields) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Inverse of [`to_bytes`](Self::to_bytes); `None` when the fourth-peak rule is unknown
    /// to this build.
    pub fn from_bytes(bytes: &[u8; PARAMS_BYTES]) -> Option<Self> {
        let mut f = [0u32; 17];
        for (v, chunk) in f.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = u32::from_le_bytes(chunk.try_into().expect("4-byte chunk"));
        }
        Some(FingerprintParams {
            sample_rate: f[0],
            fft_size: f[1],
            hop: f[2],
            min_freq_hz: f32::from_bits(f[3]),
            max_freq_hz: f32::from_bits(f[4]),
            peak_radius_frames: f[5],
            peak_radius_bins: f[6],
            peaks_per_second: f32::from_bits(f[7]),
            density_block_frames: f[8],
            fanout: f[9],
            zone_frames: f[10],
            zone_semitones: f32::from_bits(f[11]),
            anchor_band_semitones: f32::from_bits(f[12]),
            interval_step_semitones: f32::from_bits(f[13]),
            ratio_levels: f[14],
            span_levels: f[15],
            fourth_peak: FourthPeak::from_code(f[16])?,
        })
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

/// The neighbourhood, (frames, bins) either side, of which a fine peak
/// ([`QueryParams::fine_peaks_per_second`]) is the maximum: ±32 ms and ±23 Hz, against the
/// ±96 ms and ±78 Hz of every other peak. Voiced speech puts a harmonic every 90–250 Hz (its
/// pitch), so the wide neighbourhood of a music peak under it usually holds a louder one.
pub const FINE_PEAK_RADIUS: (u32, u32) = (2, 3);

/// Query-time settings: how densely a query is fingerprinted, how widely each hash is probed,
/// and when a candidate counts as a match. They do not change the index.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueryParams {
    /// Peaks kept per second of query audio. Denser than the index so that the index's peaks
    /// are (mostly) a subset of the query's even after degradation.
    pub peaks_per_second: f32,
    /// Anchor fan-out at query time (see [`FingerprintParams::fanout`]).
    pub fanout: u32,
    /// Peaks per second of the query's dense layer (none where this is at most
    /// `peaks_per_second` or `dense_fanout` is below 2). Its weaker peaks form triplets of their
    /// own, looked up in their own cells only ([`QueryParams::at_own_cells`]): where speech or
    /// a narrow band masks the music, the music's peaks are still local maxima but no longer
    /// among the strongest (ARCHITECTURE.md, "Dense layer").
    pub dense_peaks_per_second: f32,
    /// Zone peaks paired per anchor in the dense layer (every pair not already a core
    /// triplet).
    pub dense_fanout: u32,
    /// Fine peaks per second: picked in a smaller neighbourhood ([`FINE_PEAK_RADIUS`]), they
    /// form dense triplets of their own (`fine_fanout`) and the peak check reads them (0: none;
    /// the default depends on `key_sample`, [`Self::default_fine_peaks`]). Under speech a
    /// track's peak is often no longer the maximum of the wide neighbourhood that ordinary
    /// peaks need, because a louder harmonic lies within it, but still a maximum of its own few
    /// bins; the check weighs such a peak, heard where no ordinary one is, as weaker evidence
    /// (ARCHITECTURE.md, "Fine peaks").
    pub fine_peaks_per_second: f32,
    /// Zone peaks, fine ones included, that each anchor pairs into the dense layer's triplets
    /// holding a fine peak (below 2, or without a dense layer: fine peaks form no triplets).
    pub fine_fanout: u32,
    /// Largest pitch shift searched for, semitones (a speed change of s shifts pitch by 12·log2 s).
    pub max_pitch_semitones: f32,
    /// Largest tempo or speed change searched for, as a fraction (0.1 = ±10 %).
    pub max_tempo_change: f32,
    /// A quantised feature this close to a cell edge (fraction of a cell) is also looked up in
    /// the neighbouring cell, so small jitter does not lose the hash.
    pub probe_margin: f32,
    /// Peak-time error, frames, that a query's rare triplets are looked up across: their
    /// time-ratio cells within reach of B or C moved by this much are read too (only where a
    /// triplet holds at most `fourth_peak_above` postings). Peak times of sustained notes move
    /// by a frame or two under noise, echo and pitch shifts, and a short triplet's ratio moves
    /// by several cells with them (ARCHITECTURE.md, "Ratio jitter").
    pub ratio_jitter_frames: f32,
    /// Triplets holding more than this share of the index's postings (and more than
    /// [`COMMON_HASH_FLOOR`] postings) are skipped, whatever their fourth peak: they carry
    /// little information, and real music's most common triplets bring most of the chance
    /// postings a query meets. A share, not a count, so the same triplets are skipped whatever
    /// the catalogue's size.
    pub common_hash_share: f64,
    /// In an index whose hashes carry a fourth peak ([`FingerprintParams::fourth_peak`]): a
    /// triplet with more postings than this is read only where the fourth peak agrees with one
    /// of the query's. A probe of a common triplet then costs a few fourth-peak cells' postings
    /// rather than all of them, however large the catalogue grows; below it, a triplet is read
    /// whole and the fourth peak need not have survived.
    pub fourth_peak_above: u64,
    /// The same limit for the dense layer's triplets, higher: a dense landmark is looked up in
    /// its own cells only, one probe where a core landmark has about 17, so reading its
    /// triplets whole costs little, and under speech or noise a masked passage's fourth peak
    /// rarely survives with the other three (ARCHITECTURE.md, "Dense layer"). A dense triplet
    /// is read whole up to the larger of the two limits.
    pub dense_fourth_peak_above: u64,
    /// The query's candidates for the index's fourth peak: the top this many zone peaks after C
    /// by the index's [`FourthPeak`] rule (the query is denser than the index, and a
    /// degradation adds and removes peaks, so the index's fourth peak may rank second or third).
    pub fourth_peak_candidates: u32,
    /// Length of the sliding window over which a match is verified, seconds (times
    /// `key_sample`).
    pub window_seconds: f32,
    /// Looks up one triplet key in this many (1: all), chosen by the key, so the index's copy of
    /// a kept query landmark is always read and a match keeps one in `key_sample` of its
    /// evidence, as chance lines do. The verification window grows by the same factor, so a
    /// window's evidence, and the odds of a chance line, stay as they were: a recording is then
    /// found as reliably as before once it lasts about `key_sample` times as long, at about
    /// `1 / key_sample` of the matching cost. For dumps whose items hold catalogue recordings
    /// for minutes (whole songs) in catalogues too large to match every key of every item
    /// (ARCHITECTURE.md, "Sampled keys").
    pub key_sample: u32,
    /// Matched landmarks (inliers on one time line) needed to report a match changed in one way:
    /// pitch-shifted, time-stretched, or sped up (pitch and tempo together). A match changed in
    /// two ways at once (pitch and tempo independently) needs twice as many.
    pub min_inliers: u32,
    /// Matched landmarks needed to report an unchanged copy (speed 1, pitch 0). Fewer suffice:
    /// a chance line must fall in the one unchanged cell of the speed-and-pitch space searched,
    /// not anywhere in it (ARCHITECTURE.md, "Thresholds by transform").
    pub min_inliers_unchanged: u32,
    /// Distinct pitches (quarter-semitone cells of the query's anchor peaks) a match's inliers
    /// must start from. A repeated note, or a note and its octave, played at some tempo lines
    /// up with any other such figure at a similar tempo, once pitch and tempo may change, and
    /// gathers as many inliers as it has repeats: on the issue-3 corpus every chance line
    /// scoring 6 or more rested on at most 4 pitches, nearly every right answer on more
    /// (ARCHITECTURE.md, "Evidence from several pitches").
    pub min_pitches: u32,
    /// Where the index stores its tracks' peaks: hits on one time line that make a candidate
    /// worth checking against them (twice as many when pitch and tempo changed independently;
    /// one fewer for an unchanged copy when every key is read: `matcher::Transform`).
    /// A line this weak is common by chance; the peak check, not the count, tells a copy from
    /// it (ARCHITECTURE.md, "The peak check"). The command line's default depends on
    /// `key_sample` ([`Self::default_candidate_score`]).
    pub candidate_score: u32,
    /// Evidence a checked candidate needs: −log10 of the chance (bounded from above) that a
    /// recording unrelated to the track would hold its peaks where the line puts them as well
    /// as the item does, each heard peak weighted by how rarely chance would put an item peak
    /// there. 0 turns the check off, and every match then needs `min_inliers` and
    /// `min_pitches` as in an index without peaks.
    pub min_peak_evidence: f64,
    /// [`Self::min_pitches`] for a checked candidate. The check's chance model places the
    /// item at random against the track, which a figure repeated at a steady tempo defeats: it
    /// lines up with a similar figure of another track at every repeat, and holds many of its
    /// peaks there (a hyperrogue track against nexuiz's beast-of-insanity: 31–38 of 84–90
    /// peaks at four places, evidence 8–10 by a plain count of peaks and 3.9–7.5 weighted, every
    /// line resting on 2 pitches). Right answers rest on 3 or more (ARCHITECTURE.md, "The peak
    /// check"). A line of fewer landmarks than this cannot show them; its heard peaks must lie on
    /// `matcher::verify::MIN_HEARD_SEMITONES` semitones instead.
    pub min_pitches_checked: u32,
    /// Time tolerance of an inlier around the fitted line, frames.
    pub inlier_tolerance_frames: f32,
    /// Probes gathered before they are looked up together in hash order (1: each landmark's
    /// probes at once). Sorting turns the index reads of a batch into one forward sweep; within
    /// one item that bought nothing measurable, warm or cold (BENCHMARKS.md), so it is off by
    /// default and kept for scans that batch many items' probes.
    pub probe_batch: u32,
}

impl Default for QueryParams {
    fn default() -> Self {
        QueryParams {
            peaks_per_second: 15.0,
            fanout: 5,
            dense_peaks_per_second: 30.0,
            dense_fanout: 4,
            fine_peaks_per_second: Self::default_fine_peaks(1),
            fine_fanout: 6,
            max_pitch_semitones: 2.5,
            max_tempo_change: 0.1,
            probe_margin: 0.1,
            ratio_jitter_frames: 0.5,
            common_hash_share: 5e-5,
            fourth_peak_above: 64,
            dense_fourth_peak_above: 1024,
            fourth_peak_candidates: 3,
            window_seconds: 12.0,
            key_sample: 1,
            min_inliers: 7,
            min_inliers_unchanged: 6,
            min_pitches: 5,
            candidate_score: Self::default_candidate_score(1),
            min_peak_evidence: 7.0,
            min_pitches_checked: 3,
            inlier_tolerance_frames: 3.0,
            probe_batch: 1,
        }
    }
}

/// A hash is never skipped as common while it holds this many postings or fewer.
pub const COMMON_HASH_FLOOR: u64 = 32;

impl QueryParams {
    /// The candidate score for a scan at `key_sample`: 3 when every key is read (10 s clips
    /// need lines that short), 4 once keys are sampled. Sampled keys are for whole songs, whose
    /// lines are long; among 10^9 postings and an emulated 10^10, lines of 4 find every song
    /// that lines of 3 find, at 70–95 % of the CPU time (ARCHITECTURE.md, "Sampled keys").
    pub fn default_candidate_score(key_sample: u32) -> u32 {
        if key_sample > 1 { 4 } else { 3 }
    }

    /// Fine peaks per second for a scan at `key_sample`: 45 when every key is read, none once
    /// keys are sampled. They find 10 s clips under a voice; sampled keys are for whole songs,
    /// whose long lines need no such help, and there the fine peaks' picking and triplets, made
    /// before sampling, cost whole songs at K = 8 among 10^8 postings 41–42 % more CPU for the
    /// same answers (ARCHITECTURE.md, "Fine peaks").
    pub fn default_fine_peaks(key_sample: u32) -> f32 {
        if key_sample > 1 { 0.0 } else { 45.0 }
    }

    /// The most postings a hash may hold in an index of `postings` and still be looked up.
    pub fn max_postings_per_hash(&self, postings: u64) -> u64 {
        ((self.common_hash_share.max(0.0) * postings as f64) as u64).max(COMMON_HASH_FLOOR)
    }

    /// The fewest matched landmarks any match may have: candidates weaker than this are not
    /// pursued, whatever their transform.
    pub fn min_evidence(&self) -> usize {
        self.min_inliers.min(self.min_inliers_unchanged) as usize
    }

    /// Whether a query looks up this triplet key (a hash with fourth-peak cell 0) under
    /// [`key_sample`](Self::key_sample). The key is mixed first: its low bits are structured.
    pub fn samples_key(&self, triplet: u32) -> bool {
        self.key_sample <= 1
            || (u64::from(triplet).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32)
                % u64::from(self.key_sample)
                == 0
    }

    /// The same query looking up only the cells of an unchanged copy: no anchor band or span
    /// cell beyond the probe margin, and no far time-ratio cell. How the dense layer's
    /// triplets are looked up.
    pub fn at_own_cells(&self) -> Self {
        QueryParams {
            max_pitch_semitones: 0.0,
            max_tempo_change: 0.0,
            ratio_jitter_frames: 0.0,
            ..*self
        }
    }

    /// The verification window, seconds: `window_seconds` stretched by the key sample.
    pub fn window(&self) -> f32 {
        self.window_seconds * self.key_sample.max(1) as f32
    }
}

/// What one item may cost before it is abandoned with an error record.
///
/// The wall-time and memory limits need the item to run in a worker process that can be
/// stopped (see `scan::worker`); scans in threads enforce the others only.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Largest item (file or archive member) read into memory, bytes.
    pub max_item_bytes: u64,
    /// Longest audio decoded per item, seconds; the rest is ignored and reported.
    pub max_audio_seconds: f64,
    /// Items decoding to less than this are reported as empty, seconds.
    pub min_audio_seconds: f64,
    /// Wall time one item may take in a worker process before the worker is killed, seconds.
    /// The default is far above what the longest allowed item needs (4 h of audio decodes in
    /// well under a minute), so only a stuck decoder meets it.
    pub item_timeout_seconds: f64,
    /// Heap a worker process may hold (its data segment, which leaves out the shared, read-only
    /// index mapping), bytes. It must fit the largest item plus decoding buffers.
    pub item_memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_item_bytes: 1 << 30,
            max_audio_seconds: 4.0 * 3600.0,
            min_audio_seconds: 1.0,
            item_timeout_seconds: 300.0,
            item_memory_bytes: 4 << 30,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_round_trip_through_bytes() {
        let p = FingerprintParams {
            fanout: 4,
            min_freq_hz: 100.5,
            ..FingerprintParams::default()
        };
        assert_eq!(FingerprintParams::from_bytes(&p.to_bytes()), Some(p));
        for rule in [FourthPeak::Off, FourthPeak::First, FourthPeak::Strongest] {
            assert_eq!(FourthPeak::from_code(rule.code()), Some(rule));
        }
        let mut unknown = p.to_bytes();
        unknown[64] = 3;
        assert_eq!(FingerprintParams::from_bytes(&unknown), None);
    }

    #[test]
    fn common_hashes_are_a_share_of_the_index_with_a_floor() {
        let q = QueryParams::default();
        assert_eq!(q.max_postings_per_hash(1_000), COMMON_HASH_FLOOR);
        assert_eq!(q.max_postings_per_hash(100_000_000), 5_000);
        assert_eq!(q.max_postings_per_hash(10_000_000_000), 500_000);
    }

    #[test]
    fn a_key_sample_keeps_its_share_of_triplet_keys_and_widens_the_window() {
        let all = QueryParams::default();
        let quarter = QueryParams {
            key_sample: 4,
            ..all
        };
        // Triplet keys as the hash stores them: 25 bits above a zero fourth-peak cell.
        let keys = (0..100_000u32).map(|k| (k.wrapping_mul(0x01F3_5A7B) & 0x01FF_FFFF) << 6);
        let kept = keys.clone().filter(|&k| quarter.samples_key(k)).count();
        assert!((23_000..27_000).contains(&kept), "{kept}");
        assert!(keys.into_iter().all(|k| all.samples_key(k)));
        assert_eq!(quarter.window(), 4.0 * all.window());
    }

    #[test]
    fn defaults_are_valid() {
        FingerprintParams::default().validate().unwrap();
    }

    #[test]
    fn a_fourth_peak_needs_its_cells_to_fit_a_set_of_64() {
        // Quarter-semitone intervals over ±12 semitones make 97 cells (coarse time cells keep
        // the hash within 32 bits).
        let fine = FingerprintParams {
            interval_step_semitones: 0.25,
            ratio_levels: 2,
            span_levels: 1,
            ..FingerprintParams::default()
        };
        let err = fine.validate().unwrap_err().to_string();
        assert!(err.contains("fourth_peak"), "{err}");
        FingerprintParams {
            fourth_peak: FourthPeak::Off,
            ..fine
        }
        .validate()
        .unwrap();
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
