//! [`MonoResampler`]: converts a mono stream from the rate the decoder delivers to the analysis
//! rate, through a chain of FIR stages designed for the fingerprinter's band (`design.rs` says
//! which stages and why; `stage.rs` runs them). [`reference_resample`] is its direct definition,
//! for tests.
//!
//! The decoder's rate is taken from each decoded buffer, not from the container header:
//! HE-AAC, for one, decodes at a rate the header does not state. When the rate changes inside a
//! stream the resampler is flushed and rebuilt, so no sample is lost or misplaced in time.

mod design;
mod stage;

use stage::{Stage, designs};

use crate::error::{Error, Result};

/// Input samples taken through all stages at a time.
const PIECE: usize = 4096;

/// Streams mono `f32` samples at one rate into a sink at another.
pub struct MonoResampler {
    out_rate: u32,
    /// `None` until the first push, so any first rate (even a bad one) is checked.
    in_rate: Option<u32>,
    chain: Option<Chain>,
}

/// The stages of one stream at one input rate.
struct Chain {
    in_rate: u32,
    out_rate: u32,
    stages: Vec<Stage>,
    received: u64,
}

impl MonoResampler {
    /// A resampler to `out_rate`; the input rate is set by [`push`](Self::push).
    pub fn new(out_rate: u32) -> Self {
        MonoResampler {
            out_rate,
            in_rate: None,
            chain: None,
        }
    }

    /// Feeds `samples` recorded at `rate` Hz; converted samples go to `sink`.
    pub fn push(&mut self, rate: u32, samples: &[f32], sink: &mut dyn FnMut(&[f32])) -> Result<()> {
        if Some(rate) != self.in_rate {
            self.finish(sink);
            self.start(rate)?;
        }
        match &mut self.chain {
            None => sink(samples),
            Some(chain) => chain.push(samples, sink),
        }
        Ok(())
    }

    /// Flushes everything still buffered, padding the tail with silence, so that the stream
    /// comes out with `round(inputs · out_rate / rate)` samples in all.
    pub fn finish(&mut self, sink: &mut dyn FnMut(&[f32])) {
        if let Some(chain) = self.chain.take() {
            chain.finish(sink);
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
        self.chain = (rate != self.out_rate).then(|| Chain {
            in_rate: rate,
            out_rate: self.out_rate,
            stages: designs(rate, self.out_rate)
                .iter()
                .map(Stage::new)
                .collect(),
            received: 0,
        });
        Ok(())
    }
}

impl Chain {
    fn push(&mut self, samples: &[f32], sink: &mut dyn FnMut(&[f32])) {
        self.received += samples.len() as u64;
        // In pieces, so that every stage's buffers stay small and in cache.
        for piece in samples.chunks(PIECE) {
            for i in 0..self.stages.len() {
                let (done, todo) = self.stages.split_at_mut(i);
                todo[0].push(done.last().map_or(piece, |s| &s.out[..]));
                if let Some(previous) = done.last_mut() {
                    previous.out.clear();
                }
            }
            self.deliver(sink);
        }
    }

    fn finish(mut self, sink: &mut dyn FnMut(&[f32])) {
        let wanted = output_len(self.received, self.in_rate, self.out_rate);
        let last = self.stages.len() - 1;
        for i in 0..self.stages.len() {
            let (done, todo) = self.stages.split_at_mut(i);
            // Every stage but the last emits all the outputs its input reaches; the last pads
            // or stops at exactly the length wanted.
            let outputs = (i == last).then_some(wanted);
            todo[0].finish(done.last().map_or(&[][..], |s| &s.out[..]), outputs);
            if let Some(previous) = done.last_mut() {
                previous.out.clear();
            }
        }
        self.deliver(sink);
    }

    fn deliver(&mut self, sink: &mut dyn FnMut(&[f32])) {
        let out = &mut self.stages.last_mut().expect("a chain has stages").out;
        if !out.is_empty() {
            sink(out);
            out.clear();
        }
    }
}

/// `round(inputs · out_rate / in_rate)`.
fn output_len(inputs: u64, in_rate: u32, out_rate: u32) -> u64 {
    let (num, den) = (
        u128::from(inputs) * u128::from(out_rate),
        u128::from(in_rate),
    );
    ((2 * num + den) / (2 * den)) as u64
}

#[cfg(test)]
/// The direct definition of [`MonoResampler`] over one whole stream at one rate, for tests:
/// each stage of the same plan evaluates its kernel at every output instant, in `f64`.
pub fn reference_resample(samples: &[f32], in_rate: u32, out_rate: u32) -> Vec<f32> {
    let mut x: Vec<f64> = samples.iter().map(|&s| f64::from(s)).collect();
    for spec in design::plan(in_rate, out_rate) {
        let half = spec.kernel.half() as i64;
        let outputs = spec.outputs_reaching(x.len() as u64);
        x = (0..outputs)
            .map(|j| {
                let at = u128::from(j) * u128::from(spec.down);
                let whole = (at / u128::from(spec.up)) as i64;
                let frac = (at % u128::from(spec.up)) as f64 / spec.up as f64;
                let (mut sum, mut weights) = (0.0, 0.0);
                for n in whole - half + 1..=whole + half {
                    let w = spec.kernel.at((whole - n) as f64 + frac);
                    weights += w;
                    if let Some(v) = usize::try_from(n).ok().and_then(|n| x.get(n)) {
                        sum += w * v;
                    }
                }
                sum / weights
            })
            .collect();
    }
    let wanted = output_len(samples.len() as u64, in_rate, out_rate) as usize;
    x.resize(wanted, 0.0);
    x.into_iter().map(|v| v as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::noise;

    use std::f64::consts::PI;

    /// Rates decoders deliver, and odd ones: 44,101 Hz and 8,001 Hz interpolate between
    /// phases, 1 to 6 kHz upsample, 9 kHz converts in one sharp stage.
    const RATES: [u32; 16] = [
        44100, 48000, 22050, 32000, 16000, 24000, 11025, 96000, 12000, 192_000, 6000, 1000, 44101,
        8001, 9000, 8000,
    ];

    fn sine(rate: u32, hz: f64, seconds: f64) -> Vec<f32> {
        (0..(f64::from(rate) * seconds) as usize)
            .map(|i| (2.0 * PI * hz * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    /// Pushes `input` in pieces of the given sizes, in turn.
    fn resample_in(rate: u32, input: &[f32], pieces: &[usize]) -> Vec<f32> {
        let mut r = MonoResampler::new(8000);
        let mut out = Vec::new();
        let mut rest = input;
        for &piece in pieces.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (now, later) = rest.split_at(piece.min(rest.len()));
            r.push(rate, now, &mut |s| out.extend_from_slice(s))
                .unwrap();
            rest = later;
        }
        r.finish(&mut |s| out.extend_from_slice(s));
        out
    }

    /// The amplitude of the `hz` component of `x` (sampled at `rate`), by least squares.
    fn amplitude(x: &[f32], rate: u32, hz: f64) -> f64 {
        let (mut ss, mut cc, mut sc, mut xs, mut xc) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (i, &v) in x.iter().enumerate() {
            let (s, c) = (2.0 * PI * hz * i as f64 / f64::from(rate)).sin_cos();
            (ss, cc, sc) = (ss + s * s, cc + c * c, sc + s * c);
            (xs, xc) = (xs + s * f64::from(v), xc + c * f64::from(v));
        }
        let det = ss * cc - sc * sc;
        let (a, b) = ((xs * cc - xc * sc) / det, (xc * ss - xs * sc) / det);
        a.hypot(b)
    }

    fn rms(x: &[f32]) -> f64 {
        (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn keeps_length_and_timing() {
        let input = sine(44100, 440.0, 2.0);
        let out = resample_in(44100, &input, &[1000]);
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
        let out = resample_in(44100, &input, &[4410]);
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

    /// The largest difference between the resampler and [`reference_resample`].
    fn distance_from_reference(rate: u32, input: &[f32]) -> f32 {
        let fast = resample_in(rate, input, &[4097, 1, 333]);
        let slow = reference_resample(input, rate, 8000);
        assert_eq!(fast.len(), slow.len(), "{rate} Hz");
        fast.iter()
            .zip(&slow)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn equals_the_reference_on_noise() {
        for (seed, &rate) in RATES.iter().enumerate() {
            let input = noise(rate as usize / 4 + 17, seed as u64);
            let err = distance_from_reference(rate, &input);
            // Single-precision sums of at most a few hundred products; interpolated phases
            // (44,101 and 8,001 Hz) add a few millionths.
            assert!(err < 1e-5, "{rate} Hz: max difference {err}");
        }
    }

    #[test]
    fn equals_the_reference_on_music() {
        for (clip, rate) in [("clip-mp3.mp3", 44100), ("clip-opus.opus", 48000)] {
            let bytes = std::fs::read(format!("testdata/dump/{clip}")).unwrap();
            // Decoded at its own rate, so not resampled.
            let limits = crate::limits::Limits::default();
            let (music, _) = crate::audio::decode_to_vec(&bytes, None, rate, &limits).unwrap();
            let err = distance_from_reference(rate, &music[..3 * rate as usize]);
            assert!(err < 1e-5, "{clip}: max difference {err}");
        }
    }

    #[test]
    fn streaming_in_odd_pieces_equals_one_push() {
        for (seed, &rate) in RATES.iter().enumerate() {
            let input = noise(rate as usize * 13 / 10, seed as u64);
            let whole = resample_in(rate, &input, &[input.len()]);
            let expected = (input.len() as f64 * 8000.0 / f64::from(rate)).round() as usize;
            assert_eq!(whole.len(), expected, "{rate} Hz");
            for pieces in [&[1][..], &[7, 2, 4097], &[333, 1152], &[2], &[1, 1, 5000]] {
                let streamed = resample_in(rate, &input, pieces);
                assert!(streamed == whole, "{rate} Hz in pieces of {pieces:?}");
            }
        }
    }

    #[test]
    fn the_band_read_by_the_fingerprinter_stays_flat() {
        for rate in [44100, 48000, 22050, 32000, 16000, 24000, 11025, 96000] {
            for hz in [200.0, 1000.0, 3700.0] {
                let out = resample_in(rate, &sine(rate, hz, 1.0), &[1152]);
                let gain_db = 20.0 * amplitude(&out[800..7200], 8000, hz).log10();
                assert!(gain_db.abs() < 0.1, "{hz} Hz at {rate} Hz: {gain_db:.3} dB");
            }
        }
    }

    #[test]
    fn what_would_fold_into_the_band_is_60_db_down() {
        for rate in [44100, 48000] {
            for hz in [4300.0, 6000.0, 12000.0, 20000.0] {
                let out = resample_in(rate, &sine(rate, hz, 1.0), &[1152]);
                let level_db = 20.0 * (rms(&out[800..7200]) / 0.5f64.sqrt()).log10();
                assert!(level_db < -60.0, "{hz} Hz at {rate} Hz: {level_db:.1} dB");
            }
        }
    }

    #[test]
    fn a_click_comes_out_at_its_own_time() {
        for &rate in &RATES {
            for at in [0.25, 0.3001, 0.61237] {
                let mut input = vec![0.0; rate as usize];
                let n = (at * f64::from(rate)) as usize;
                input[n] = 1.0;
                let out = resample_in(rate, &input, &[1152]);
                let peak = (1..out.len() - 1)
                    .max_by(|&a, &b| out[a].total_cmp(&out[b]))
                    .unwrap();
                // The vertex of the parabola through the peak and its neighbours.
                let (l, c, r) = (out[peak - 1], out[peak], out[peak + 1]);
                let vertex = peak as f64 + f64::from(l - r) / (2.0 * f64::from(l - 2.0 * c + r));
                let expected = n as f64 * 8000.0 / f64::from(rate);
                assert!(
                    (vertex - expected).abs() < 0.25,
                    "{rate} Hz: click at output sample {expected:.3} came out at {vertex:.3}"
                );
            }
        }
    }

    #[test]
    fn a_rate_change_ends_one_stream_and_starts_another() {
        let (a, b) = (noise(30_000, 1), noise(20_000, 2));
        let mut r = MonoResampler::new(8000);
        let mut out = Vec::new();
        r.push(44100, &a, &mut |s| out.extend_from_slice(s))
            .unwrap();
        r.push(48000, &b, &mut |s| out.extend_from_slice(s))
            .unwrap();
        r.finish(&mut |s| out.extend_from_slice(s));
        let mut expected = resample_in(44100, &a, &[a.len()]);
        expected.extend(resample_in(48000, &b, &[b.len()]));
        assert!(out == expected);
    }
}
