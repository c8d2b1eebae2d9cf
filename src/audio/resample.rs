//! [`MonoResampler`]: converts a mono stream from the rate the decoder delivers to the analysis
//! rate, with rubato's FFT resampler (a band-limited, anti-aliased conversion).
//!
//! The decoder's rate is taken from each decoded buffer, not from the container header:
//! HE-AAC, for one, decodes at a rate the header does not state. When the rate changes inside a
//! stream the resampler is flushed and rebuilt, so no sample is lost or misplaced in time.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::{Error, Result};

/// Input frames per resampler call: large enough to amortise the FFT, small enough to keep
/// latency and memory per worker low.
const CHUNK: usize = 4096;

/// Streams mono `f32` samples at one rate into a sink at another.
pub struct MonoResampler {
    out_rate: u32,
    /// `None` until the first push, so any first rate (even a bad one) is checked.
    in_rate: Option<u32>,
    stage: Option<Stage>,
}

struct Stage {
    fft: Fft<f32>,
    pending: Vec<f32>,
    out: Vec<f32>,
    /// Output frames still to drop: the resampler's delay, so output time 0 is input time 0.
    skip: usize,
    /// Input frames consumed and output frames emitted, to flush exactly the right amount.
    frames_in: u64,
    frames_out: u64,
}

impl MonoResampler {
    /// A resampler to `out_rate`; the input rate is set by [`push`](Self::push).
    pub fn new(out_rate: u32) -> Self {
        MonoResampler {
            out_rate,
            in_rate: None,
            stage: None,
        }
    }

    /// Feeds `samples` recorded at `rate` Hz; converted samples go to `sink`.
    pub fn push(&mut self, rate: u32, samples: &[f32], sink: &mut dyn FnMut(&[f32])) -> Result<()> {
        if Some(rate) != self.in_rate {
            self.finish(sink);
            self.start(rate)?;
        }
        match &mut self.stage {
            None => sink(samples),
            Some(stage) => stage.push(samples, sink),
        }
        Ok(())
    }

    /// Flushes everything still buffered, padding the tail with silence.
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[f32])) {
        if let Some(mut stage) = self.stage.take() {
            stage.finish(sink);
        }
        self.in_rate = None;
    }

    fn start(&mut self, rate: u32) -> Result<()> {
        if !(1000..=768_000).contains(&rate) {
            return Err(Error::Decode {
                reason: format!("implausible sample rate {rate} Hz"),
            });
        }
        self.in_rate = Some(rate);
        self.stage = if rate == self.out_rate {
            None
        } else {
            let fft = Fft::<f32>::new(
                rate as usize,
                self.out_rate as usize,
                CHUNK,
                1,
                FixedSync::Input,
            )
            .map_err(|e| Error::Decode {
                reason: format!("cannot resample {rate} Hz to {} Hz: {e}", self.out_rate),
            })?;
            let out = vec![0.0; fft.output_frames_max()];
            Some(Stage {
                skip: fft.output_delay(),
                pending: Vec::with_capacity(fft.input_frames_max()),
                fft,
                out,
                frames_in: 0,
                frames_out: 0,
            })
        };
        Ok(())
    }
}

impl Stage {
    fn push(&mut self, mut samples: &[f32], sink: &mut dyn FnMut(&[f32])) {
        while !samples.is_empty() {
            let need = self.fft.input_frames_next() - self.pending.len();
            let take = need.min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.pending.len() == self.fft.input_frames_next() {
                self.frames_in += self.pending.len() as u64;
                self.run(None, u64::MAX, sink);
                self.pending.clear();
            }
        }
    }

    fn finish(&mut self, sink: &mut dyn FnMut(&[f32])) {
        self.frames_in += self.pending.len() as u64;
        let wanted = (self.frames_in as f64 * self.fft.resample_ratio()).round() as u64;
        let mut partial = self.pending.len();
        // Silence pushes the delayed tail out; a few rounds at most.
        while self.frames_out < wanted {
            self.pending.resize(self.fft.input_frames_next(), 0.0);
            let before = self.frames_out;
            self.run(Some(partial), wanted, sink);
            partial = 0;
            if self.frames_out == before && self.skip == 0 {
                break;
            }
        }
        self.pending.clear();
    }

    fn run(&mut self, partial: Option<usize>, limit: u64, sink: &mut dyn FnMut(&[f32])) {
        let frames = self.fft.input_frames_next();
        let input = InterleavedSlice::new(&self.pending[..frames], 1, frames)
            .expect("mono input buffer sized to the chunk");
        let out_frames = self.out.len();
        let mut output = InterleavedSlice::new_mut(&mut self.out[..], 1, out_frames)
            .expect("output buffer sized to output_frames_max");
        let indexing = Indexing {
            partial_len: partial,
            ..Indexing::new()
        };
        let (_, produced) = self
            .fft
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .expect("buffers are sized from the resampler's own figures");
        let mut chunk = &self.out[..produced];
        let skip = self.skip.min(chunk.len());
        chunk = &chunk[skip..];
        self.skip -= skip;
        let room = limit
            .saturating_sub(self.frames_out)
            .min(chunk.len() as u64) as usize;
        chunk = &chunk[..room];
        self.frames_out += chunk.len() as u64;
        if !chunk.is_empty() {
            sink(chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, hz: f32, seconds: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * hz * i as f32 / rate as f32).sin())
            .collect()
    }

    fn resample(rate: u32, input: &[f32], piece: usize) -> Vec<f32> {
        let mut r = MonoResampler::new(8000);
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            r.push(rate, chunk, &mut |s| out.extend_from_slice(s))
                .unwrap();
        }
        r.finish(&mut |s| out.extend_from_slice(s));
        out
    }

    #[test]
    fn keeps_length_and_timing() {
        let input = sine(44100, 440.0, 2.0);
        let out = resample(44100, &input, 1000);
        assert_eq!(out.len(), 16000);
        // A 440 Hz sine stays a 440 Hz sine in phase: compare against the ideal output.
        let ideal = sine(8000, 440.0, 2.0);
        let err: f32 = out[800..15000]
            .iter()
            .zip(&ideal[800..15000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(err < 0.05, "max error {err}");
    }

    #[test]
    fn removes_content_above_the_new_nyquist() {
        let input = sine(44100, 6000.0, 1.0);
        let out = resample(44100, &input, 4410);
        let rms = (out[400..7600].iter().map(|x| x * x).sum::<f32>() / 7200.0).sqrt();
        assert!(rms < 0.01, "aliased energy left: rms {rms}");
    }

    #[test]
    fn passes_through_at_the_same_rate_and_follows_rate_changes() {
        let a = sine(8000, 300.0, 0.5);
        let b = sine(16000, 300.0, 0.5);
        let mut r = MonoResampler::new(8000);
        let mut out = Vec::new();
        r.push(8000, &a, &mut |s| out.extend_from_slice(s)).unwrap();
        r.push(16000, &b, &mut |s| out.extend_from_slice(s))
            .unwrap();
        r.finish(&mut |s| out.extend_from_slice(s));
        assert_eq!(out.len(), 8000);
        assert_eq!(&out[..4000], &a[..]);
    }

    #[test]
    fn rejects_absurd_rates() {
        let mut r = MonoResampler::new(8000);
        assert!(r.push(0, &[0.0], &mut |_| {}).is_err());
    }
}
