//! [`Spectrogram`]: a streaming short-time Fourier transform (Hann window, realfft) that turns
//! mono samples into frames of power per FFT bin.
//!
//! Power, not decibels: peak picking only compares values, so the logarithm is taken later and
//! only at the few cells that become peaks.

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::config::FingerprintParams;

/// Turns a stream of samples into power spectra, one per hop.
pub struct Spectrogram {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// Samples not yet consumed by a frame (at most `fft_size` plus one push).
    pending: Vec<f32>,
    input: Vec<f32>,
    output: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    power: Vec<f32>,
    hop: usize,
    frames: u64,
}

impl Spectrogram {
    pub fn new(params: &FingerprintParams) -> Self {
        let n = params.fft_size as usize;
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        // Periodic Hann window.
        let window = (0..n)
            .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / n as f32).cos())
            .collect();
        Spectrogram {
            input: fft.make_input_vec(),
            output: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            power: vec![0.0; n / 2 + 1],
            fft,
            window,
            pending: Vec::with_capacity(2 * n),
            hop: params.hop as usize,
            frames: 0,
        }
    }

    /// Number of bins per frame (`fft_size / 2 + 1`).
    pub fn bins(&self) -> usize {
        self.power.len()
    }

    /// Frames produced so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Feeds samples; `on_frame` gets each complete frame's power spectrum. Frame `k` covers
    /// samples `k*hop .. k*hop + fft_size`.
    pub fn push(&mut self, samples: &[f32], on_frame: &mut dyn FnMut(&[f32])) {
        let n = self.window.len();
        self.pending.extend_from_slice(samples);
        // Frames are read in place; consumed samples are dropped once per push, not per frame.
        let mut start = 0;
        while self.pending.len() - start >= n {
            self.transform(start);
            on_frame(&self.power);
            start += self.hop;
        }
        self.pending.drain(..start);
    }

    fn transform(&mut self, start: usize) {
        let frame = &self.pending[start..start + self.window.len()];
        for ((x, s), w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            *x = s * w;
        }
        self.fft
            .process_with_scratch(&mut self.input, &mut self.output, &mut self.scratch)
            .expect("buffers come from the plan itself");
        for (p, c) in self.power.iter_mut().zip(&self.output) {
            *p = c.norm_sqr();
        }
        self.frames += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sine_peaks_in_its_bin_and_frames_follow_the_hop() {
        let p = FingerprintParams::default();
        let hz = 1000.0;
        let samples: Vec<f32> = (0..8000)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / 8000.0).sin())
            .collect();
        let mut s = Spectrogram::new(&p);
        let mut peaks = Vec::new();
        // Odd piece sizes exercise the buffering.
        for piece in samples.chunks(333) {
            s.push(piece, &mut |frame| {
                let (bin, _) = frame.iter().enumerate().fold((0, 0.0f32), |best, (i, &v)| {
                    if v > best.1 { (i, v) } else { best }
                });
                peaks.push(bin);
            });
        }
        assert_eq!(peaks.len(), (8000 - 1024) / 128 + 1);
        assert!(
            peaks.iter().all(|&b| b == 128),
            "1000 Hz is bin 128 at 7.8125 Hz per bin"
        );
    }
}
