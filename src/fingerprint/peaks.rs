//! [`PeakPicker`]: finds spectral peaks — cells that are the maximum of their time-frequency
//! neighbourhood — and keeps the strongest few per block of frames, streaming.
//!
//! The neighbourhood maximum is separable: a sliding maximum over frequency per frame (doubling
//! passes that run in vector lanes), then a comparison against the few frames around the
//! centre, done only for cells that survived the frequency test. [`reference_peaks`] is the
//! brute-force definition; tests hold the two equal.

use crate::codec::PeakCode;
use crate::config::FingerprintParams;

/// Peaks quieter than this, relative to a full-scale sine, are ignored (silence and dither).
pub const MIN_PEAK_DBFS: f32 = -75.0;

/// One spectral peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// Frame index (hops since the start of the item).
    pub frame: u32,
    /// FFT bin of the maximum.
    pub bin: u16,
    /// Frame position refined by parabolic interpolation, in frames.
    pub time: f32,
    /// Bin position refined by parabolic interpolation, in bins.
    pub freq: f32,
    /// Power at the maximum (linear).
    pub power: f32,
    /// Strength rank among the peaks kept in its density block (0: the strongest). A picker
    /// keeping `n` per block keeps exactly the peaks that one keeping `m < n` would keep, plus
    /// those ranked `m` and beyond: a query's sparser layer is a filter on its denser one.
    pub rank: u16,
}

impl Peak {
    /// The peak's pitch in semitones above `min_freq_hz`, as landmarks measure it.
    pub fn semitones(&self, params: &FingerprintParams) -> f32 {
        12.0 * (self.freq.max(0.5) * params.bin_hz() / params.min_freq_hz).log2()
    }

    /// The peak as the index stores it ([`PeakCode`]); `None` for a peak beyond what a code
    /// holds (after 18.6 hours, or outside the band).
    pub fn code(&self, params: &FingerprintParams) -> Option<PeakCode> {
        let sixteenths = (16.0 * self.semitones(params)).round();
        if !(0.0..=u32::MAX as f32).contains(&sixteenths) {
            return None;
        }
        PeakCode::new(self.time.round().max(0.0) as u32, sixteenths as u32)
    }
}

/// Geometry shared by the streaming picker and the reference.
#[derive(Debug, Clone, Copy)]
struct Shape {
    lo: usize,
    hi: usize,
    rt: usize,
    rf: usize,
    floor: f32,
    block: u32,
    per_block: usize,
}

impl Shape {
    fn new(params: &FingerprintParams, peaks_per_second: f32) -> Self {
        let bin_hz = params.bin_hz();
        let n = params.fft_size as f32;
        let nyquist_bin = params.fft_size as usize / 2;
        let lo = ((params.min_freq_hz / bin_hz).ceil() as usize).clamp(1, nyquist_bin - 1);
        let hi = (((params.max_freq_hz / bin_hz).floor() as usize) + 1).clamp(lo + 1, nyquist_bin);
        let full_scale = (n / 4.0) * (n / 4.0);
        let block = params.density_block_frames;
        let per_block = peaks_per_block(params, peaks_per_second);
        Shape {
            lo,
            hi,
            rt: params.peak_radius_frames as usize,
            rf: params.peak_radius_bins as usize,
            floor: full_scale * 10f32.powf(MIN_PEAK_DBFS / 10.0),
            block,
            per_block,
        }
    }
}

/// Peaks a picker at `peaks_per_second` keeps per density block (at least one, at most
/// `u16::MAX`, so ranks fit a [`Peak`]).
pub fn peaks_per_block(params: &FingerprintParams, peaks_per_second: f32) -> usize {
    (f64::from(peaks_per_second) * f64::from(params.density_block_frames) * params.frame_seconds())
        .round()
        .clamp(1.0, f64::from(u16::MAX)) as usize
}

/// Parabolic interpolation of a maximum from its two neighbours (log domain); offset in ±0.5.
fn vertex(left: Option<f32>, centre: f32, right: Option<f32>) -> f32 {
    let (Some(l), Some(r)) = (left, right) else {
        return 0.0;
    };
    let (l, c, r) = ((l + 1e-20).ln(), (centre + 1e-20).ln(), (r + 1e-20).ln());
    let denom = l - 2.0 * c + r;
    if denom >= -1e-9 {
        return 0.0;
    }
    (0.5 * (l - r) / denom).clamp(-0.5, 0.5)
}

/// A peak found before its density block is done, with its neighbours' power: only the peaks
/// a block keeps are interpolated (six logarithms each), and a block drops most candidates,
/// the fine picker's above all.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    peak: Peak,
    before: Option<f32>,
    after: Option<f32>,
    below: f32,
    above: f32,
}

/// What [`select_strongest`] ranks: a peak, final or still to be interpolated.
trait Ranked: Copy {
    fn peak(&self) -> &Peak;
    fn peak_mut(&mut self) -> &mut Peak;
    fn finish(self) -> Peak;
}

impl Ranked for Peak {
    fn peak(&self) -> &Peak {
        self
    }
    fn peak_mut(&mut self) -> &mut Peak {
        self
    }
    fn finish(self) -> Peak {
        self
    }
}

impl Ranked for Candidate {
    fn peak(&self) -> &Peak {
        &self.peak
    }
    fn peak_mut(&mut self) -> &mut Peak {
        &mut self.peak
    }
    fn finish(self) -> Peak {
        let p = self.peak;
        Peak {
            time: p.frame as f32 + vertex(self.before, p.power, self.after),
            freq: f32::from(p.bin) + vertex(Some(self.below), p.power, Some(self.above)),
            ..p
        }
    }
}

/// Keeps the `per_block` strongest candidates, ranks them, and appends them to `out` in time
/// order.
fn select_strongest<T: Ranked>(candidates: &mut Vec<T>, per_block: usize, out: &mut Vec<Peak>) {
    let by_strength = |a: &T, b: &T| {
        let (a, b) = (a.peak(), b.peak());
        b.power
            .total_cmp(&a.power)
            .then(a.frame.cmp(&b.frame))
            .then(a.bin.cmp(&b.bin))
    };
    if candidates.len() > per_block {
        candidates.select_nth_unstable_by(per_block, by_strength);
        candidates.truncate(per_block);
    }
    candidates.sort_unstable_by(by_strength);
    for (rank, c) in candidates.iter_mut().enumerate() {
        c.peak_mut().rank = rank as u16;
    }
    candidates.sort_unstable_by_key(|c| (c.peak().frame, c.peak().bin));
    out.extend(candidates.drain(..).map(Ranked::finish));
}

/// Streaming peak picker. Feed frames with [`push_frame`](Self::push_frame); peaks come out in
/// time order, a block (plus the neighbourhood radius) behind the input.
pub struct PeakPicker {
    shape: Shape,
    /// Ring of the last `2*rt+1` frames: power and frequency-maximum, band bins only.
    power: Vec<Vec<f32>>,
    fmax: Vec<Vec<f32>>,
    frames_in: u64,
    block_index: u64,
    candidates: Vec<Candidate>,
    scratch: MaxScratch,
    /// Bins of the centre frame that passed the frequency test.
    local: Vec<usize>,
    /// Ring slots of the frames before and after the centre that its neighbourhood covers.
    before: Vec<usize>,
    after: Vec<usize>,
}

impl PeakPicker {
    pub fn new(params: &FingerprintParams, peaks_per_second: f32) -> Self {
        let shape = Shape::new(params, peaks_per_second);
        let width = shape.hi - shape.lo;
        let ring = 2 * shape.rt + 1;
        PeakPicker {
            shape,
            power: vec![vec![0.0; width + 2]; ring],
            fmax: vec![vec![0.0; width]; ring],
            frames_in: 0,
            block_index: 0,
            candidates: Vec::new(),
            scratch: MaxScratch::default(),
            local: Vec::new(),
            before: Vec::new(),
            after: Vec::new(),
        }
    }

    /// Every peak in a frame before this one has been released (its density block is done).
    pub fn released_before(&self) -> u64 {
        self.block_index * u64::from(self.shape.block)
    }

    fn slot(&self, frame: u64) -> usize {
        (frame % self.power.len() as u64) as usize
    }

    /// Adds one power spectrum (all `fft_size/2+1` bins); appends finished peaks to `out`.
    pub fn push_frame(&mut self, spectrum: &[f32], out: &mut Vec<Peak>) {
        let Shape { lo, hi, rf, .. } = self.shape;
        let slot = self.slot(self.frames_in);
        // Keep one bin either side of the band for interpolation.
        let row = &mut self.power[slot];
        row[0] = spectrum[lo - 1];
        row[1..hi - lo + 1].copy_from_slice(&spectrum[lo..hi]);
        row[hi - lo + 1] = spectrum.get(hi).copied().unwrap_or(0.0);
        sliding_max(
            &row[1..hi - lo + 1],
            rf,
            &mut self.fmax[slot],
            &mut self.scratch,
        );
        self.frames_in += 1;
        if self.frames_in > self.shape.rt as u64 {
            self.evaluate(self.frames_in - 1 - self.shape.rt as u64, out);
        }
    }

    /// Evaluates the frames still waiting for their future neighbours and flushes the last block.
    pub fn finish(&mut self, out: &mut Vec<Peak>) {
        let first = self.frames_in.saturating_sub(self.shape.rt as u64);
        for centre in first..self.frames_in {
            self.evaluate(centre, out);
        }
        select_strongest(&mut self.candidates, self.shape.per_block, out);
    }

    fn evaluate(&mut self, centre: u64, out: &mut Vec<Peak>) {
        let Shape { rt, block, .. } = self.shape;
        let block_index = centre / u64::from(block);
        if block_index != self.block_index {
            select_strongest(&mut self.candidates, self.shape.per_block, out);
            self.block_index = block_index;
        }
        let first = centre.saturating_sub(rt as u64);
        let last = (centre + rt as u64).min(self.frames_in - 1);
        let ring = self.power.len() as u64;
        // The ring slots of the frames around the centre, computed once: a division per
        // candidate and frame cost more than the comparisons themselves.
        self.before.clear();
        self.before
            .extend((first..centre).map(|j| (j % ring) as usize));
        self.after.clear();
        self.after
            .extend((centre + 1..=last).map(|j| (j % ring) as usize));
        let c = (centre % ring) as usize;
        let (lo, rf, floor) = (self.shape.lo, self.shape.rf, self.shape.floor);
        let row = &self.power[c][1..];
        // Cheap pass first: only frequency maxima above the floor go on to the time test. Few
        // bins pass, at places no branch predictor guesses, so the test is branch-free and
        // gathered 64 bins to a mask.
        self.local.clear();
        for (chunk, (values, maxima)) in row.chunks(64).zip(self.fmax[c].chunks(64)).enumerate() {
            let mut mask = 0u64;
            for (j, (&v, &m)) in values.iter().zip(maxima).enumerate() {
                mask |= u64::from((v >= floor) & (v == m)) << j;
            }
            while mask != 0 {
                self.local.push(chunk * 64 + mask.trailing_zeros() as usize);
                mask &= mask - 1;
            }
        }
        for &i in &self.local {
            let v = row[i];
            // Ties inside the frame go to the lowest bin, so a flat top yields one peak.
            if row[i.saturating_sub(rf)..i].iter().any(|&w| w >= v) {
                continue;
            }
            // Earlier frames must be strictly lower so a steady tone peaks once, at its start.
            let dominates = self.before.iter().all(|&j| self.fmax[j][i] < v)
                && self.after.iter().all(|&j| self.fmax[j][i] <= v);
            if dominates {
                let before = self.before.last().map(|&j| self.power[j][i + 1]);
                let after = self.after.first().map(|&j| self.power[j][i + 1]);
                let full = &self.power[c];
                self.candidates.push(Candidate {
                    peak: Peak {
                        frame: centre as u32,
                        bin: (lo + i) as u16,
                        time: 0.0,
                        freq: 0.0,
                        power: v,
                        rank: 0,
                    },
                    before,
                    after,
                    below: full[i],
                    above: full[i + 2],
                });
            }
        }
    }
}

/// Scratch buffers for [`sliding_max`], reused across frames.
#[derive(Default)]
struct MaxScratch {
    cur: Vec<f32>,
    next: Vec<f32>,
}

/// `out[i] = max(values[i-r ..= i+r])`, clipped to the slice, in O(n log r) by doubling: each
/// pass turns maxima over windows of `k` into maxima over `2k` (`m[i] = max(m[i], m[i+k])`),
/// and the last takes two overlapping windows of the largest power of two. Every pass is
/// independent per element, so it runs in vector lanes; the O(n) prefix and suffix maxima of van
/// Herk / Gil-Werman it replaced are a chain of dependent `max`es: with them, `push_frame` took
/// 2.9 % of an MP3 pipeline's cycles, and 0.8 % with this (r = 10, 475 bins; BENCHMARKS.md).
fn sliding_max(values: &[f32], r: usize, out: &mut [f32], s: &mut MaxScratch) {
    let w = 2 * r + 1;
    let n = values.len();
    // cur[j] = values[j - r], minus infinity outside: the window of out[i] is cur[i .. i + w].
    s.cur.clear();
    s.cur.resize(r, f32::NEG_INFINITY);
    s.cur.extend_from_slice(values);
    s.cur.resize(n + 2 * r, f32::NEG_INFINITY);
    let mut k = 1;
    while 2 * k <= w {
        let len = s.cur.len() - k;
        s.next.clear();
        s.next
            .extend(s.cur[..len].iter().zip(&s.cur[k..]).map(|(a, b)| a.max(*b)));
        std::mem::swap(&mut s.cur, &mut s.next);
        k *= 2;
    }
    // cur[j] is now the maximum of the k values from j; k <= w < 2k.
    for ((o, a), b) in out[..n].iter_mut().zip(&s.cur).zip(&s.cur[w - k..]) {
        *o = a.max(*b);
    }
}

#[cfg(test)]
/// The brute-force definition of [`PeakPicker`] over a whole spectrogram, for tests.
pub fn reference_peaks(
    frames: &[Vec<f32>],
    params: &FingerprintParams,
    peaks_per_second: f32,
) -> Vec<Peak> {
    let s = Shape::new(params, peaks_per_second);
    let mut out = Vec::new();
    let mut candidates = Vec::new();
    let mut block_index = 0;
    for (t, frame) in frames.iter().enumerate() {
        if (t as u64) / u64::from(s.block) != block_index {
            select_strongest(&mut candidates, s.per_block, &mut out);
            block_index = t as u64 / u64::from(s.block);
        }
        for b in s.lo..s.hi {
            let v = frame[b];
            if v < s.floor {
                continue;
            }
            let mut is_peak = true;
            for (dt, other) in frames
                .iter()
                .enumerate()
                .take(t + s.rt + 1)
                .skip(t.saturating_sub(s.rt))
            {
                for &w in &other[b.saturating_sub(s.rf).max(s.lo)..(b + s.rf + 1).min(s.hi)] {
                    let beaten = if dt < t { w >= v } else { w > v };
                    is_peak &= !beaten;
                }
            }
            for &w in &frame[b.saturating_sub(s.rf).max(s.lo)..b] {
                is_peak &= w < v;
            }
            if is_peak {
                let before = (t > 0).then(|| frames[t - 1][b]);
                let after = frames.get(t + 1).map(|f| f[b]);
                candidates.push(Peak {
                    frame: t as u32,
                    bin: b as u16,
                    time: t as f32 + vertex(before, v, after),
                    freq: b as f32
                        + vertex(
                            Some(frame[b - 1]),
                            v,
                            Some(frame.get(b + 1).copied().unwrap_or(0.0)),
                        ),
                    power: v,
                    rank: 0,
                });
            }
        }
    }
    select_strongest(&mut candidates, s.per_block, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn stream(frames: &[Vec<f32>], params: &FingerprintParams, pps: f32) -> Vec<Peak> {
        let mut picker = PeakPicker::new(params, pps);
        let mut out = Vec::new();
        for f in frames {
            picker.push_frame(f, &mut out);
        }
        picker.finish(&mut out);
        out
    }

    fn small_params() -> FingerprintParams {
        FingerprintParams {
            fft_size: 64,
            sample_rate: 8000,
            hop: 16,
            min_freq_hz: 300.0,
            max_freq_hz: 3500.0,
            peak_radius_frames: 2,
            peak_radius_bins: 3,
            density_block_frames: 8,
            ..FingerprintParams::default()
        }
    }

    /// Frames of 33 bins from `cells`, whose few distinct levels make ties common (which is
    /// where a streaming picker and the reference could differ).
    fn spectrogram_of(cells: &[u8]) -> Vec<Vec<f32>> {
        cells
            .chunks_exact(33)
            .map(|c| c.iter().map(|&x| f32::from(x) * 1000.0).collect())
            .collect()
    }

    proptest! {
        #[test]
        fn streaming_equals_reference(
            cells in proptest::collection::vec(0u8..40, 33..33 * 40),
            pps in 5.0f32..400.0,
        ) {
            let p = small_params();
            let frames = spectrogram_of(&cells);
            prop_assert_eq!(stream(&frames, &p, pps), reference_peaks(&frames, &p, pps));
        }

        #[test]
        fn no_peak_comes_out_after_its_frame_is_released(
            cells in proptest::collection::vec(0u8..40, 33..33 * 40),
            pps in 5.0f32..400.0,
        ) {
            let p = small_params();
            let frames = spectrogram_of(&cells);
            let mut picker = PeakPicker::new(&p, pps);
            let mut out = Vec::new();
            let mut released = 0;
            for f in &frames {
                let before = out.len();
                picker.push_frame(f, &mut out);
                prop_assert!(out[before..].iter().all(|pk| u64::from(pk.frame) >= released));
                prop_assert!(picker.released_before() >= released);
                released = picker.released_before();
                prop_assert!(out.iter().all(|pk| u64::from(pk.frame) < released));
            }
        }

        #[test]
        fn a_sparser_picker_keeps_the_top_ranked_peaks_of_a_denser_one(
            cells in proptest::collection::vec(0u8..40, 33..33 * 40),
            sparse in 5.0f32..200.0,
            extra in 0.0f32..200.0,
        ) {
            let p = small_params();
            let frames = spectrogram_of(&cells);
            let n = peaks_per_block(&p, sparse);
            let layer: Vec<Peak> = stream(&frames, &p, sparse + extra)
                .into_iter()
                .filter(|pk| usize::from(pk.rank) < n)
                .collect();
            prop_assert_eq!(layer, stream(&frames, &p, sparse));
        }
    }

    proptest! {
        #[test]
        fn sliding_max_matches_naive(
            v in proptest::collection::vec(0u8..32, 0..120),
            r in 0usize..20,
        ) {
            // Few distinct values, so windows hold ties.
            let v: Vec<f32> = v.into_iter().map(f32::from).collect();
            let mut out = vec![0.0; v.len()];
            sliding_max(&v, r, &mut out, &mut MaxScratch::default());
            for (i, &o) in out.iter().enumerate() {
                let naive = v[i.saturating_sub(r)..(i + r + 1).min(v.len())]
                    .iter()
                    .copied()
                    .fold(f32::NEG_INFINITY, f32::max);
                prop_assert_eq!(o, naive);
            }
        }
    }

    #[test]
    fn a_single_blob_gives_one_interpolated_peak() {
        let p = small_params();
        let mut frames = vec![vec![1e-9f32; 33]; 12];
        frames[5][10] = 1e6;
        frames[5][11] = 5e5;
        frames[4][10] = 2e5;
        frames[6][10] = 2e5;
        let peaks = stream(&frames, &p, 100.0);
        assert_eq!(peaks.len(), 1);
        let pk = peaks[0];
        assert_eq!((pk.frame, pk.bin), (5, 10));
        assert!(pk.freq > 10.0 && pk.freq < 10.5, "{}", pk.freq);
        assert!((pk.time - 5.0).abs() < 1e-4);
    }
}
