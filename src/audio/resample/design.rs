//! Filter design for [`MonoResampler`](super::MonoResampler): [`plan`] picks the stages that
//! take one rate to another, each a [`Spec`] whose [`Kernel`] is a Kaiser-windowed sinc.
//!
//! Every stage is zero-phase (its kernel is centred on the output instant), so no stage delays
//! the signal and output time 0 is input time 0 without any compensation.

use std::f64::consts::PI;

/// The fingerprinter reads up to 3800 Hz of the 8000 Hz analysis rate
/// (`FingerprintParams::max_freq_hz`): the output is flat to this fraction of its rate...
pub(super) const PASS: f64 = 0.475;
/// ...and nothing may fold below `PASS` unattenuated. Content between the output's Nyquist
/// frequency and this fraction folds to between `PASS` and Nyquist, which no one reads, so the
/// last stage's transition band is 400 Hz wide at 8 kHz instead of a brick wall.
pub(super) const STOP: f64 = 0.525;
/// Stopband attenuation of every stage. 60 dB is the requirement; the margin covers the
/// leakage of two stages adding up and the coefficients' rounding to `f32`.
const ATTENUATION_DB: f64 = 65.0;

/// A Kaiser-windowed sinc in units of input samples: `at(τ)` weighs the input sample lying `τ`
/// samples before the output instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Kernel {
    /// Cutoff, cycles per input sample.
    cutoff: f64,
    /// The window spans `-half ..= half` input samples.
    half: usize,
    beta: f64,
}

impl Kernel {
    /// Flat up to `pass` and at least `ATTENUATION_DB` down from `stop` (cycles per input
    /// sample), with a half-width rounded up to a multiple of `multiple`.
    fn new(pass: f64, stop: f64, multiple: usize) -> Kernel {
        // Kaiser's estimate: a window of `length` samples gives `db` of attenuation over this
        // transition, and the other way round.
        let per_sample = 2.285 * 2.0 * PI * (stop - pass);
        let length = (ATTENUATION_DB - 7.95) / per_sample;
        let half = ((length / 2.0).ceil() as usize).max(1).div_ceil(multiple) * multiple;
        // The rounding lengthened the window: shape it for all the attenuation it can give.
        let db = 7.95 + per_sample * (2 * half) as f64;
        Kernel {
            cutoff: (pass + stop) / 2.0,
            half,
            beta: 0.1102 * (db - 8.7),
        }
    }

    pub(super) fn half(&self) -> usize {
        self.half
    }

    pub(super) fn at(&self, tau: f64) -> f64 {
        let x = tau / self.half as f64;
        if x.abs() > 1.0 {
            return 0.0;
        }
        let window = bessel_i0(self.beta * (1.0 - x * x).sqrt()) / bessel_i0(self.beta);
        let arg = 2.0 * self.cutoff * tau;
        let sinc = if arg == 0.0 {
            1.0
        } else {
            (PI * arg).sin() / (PI * arg)
        };
        2.0 * self.cutoff * sinc * window
    }
}

/// The zeroth-order modified Bessel function of the first kind, by its power series.
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > sum * 1e-17 {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
        k += 1.0;
    }
    sum
}

/// One stage: output sample `j` lies at input time `j · down / up` and is the kernel-weighted
/// sum of the `2 · half` input samples around it, the weights scaled to sum to one (so every
/// phase passes DC exactly).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Spec {
    pub up: u64,
    pub down: u64,
    pub kernel: Kernel,
    /// `up / down = 1 / 2` with the cutoff at a quarter of the input rate: every other weight
    /// is zero, which `stage::HalfBand` exploits.
    pub halfband: bool,
}

impl Spec {
    fn polyphase(out_rate: u64, in_rate: u64, pass: f64, stop: f64) -> Spec {
        let g = gcd(out_rate, in_rate);
        Spec {
            up: out_rate / g,
            down: in_rate / g,
            // 2 · half taps, a multiple of 4 so that dot products run in whole vectors.
            kernel: Kernel::new(pass, stop, 2),
            halfband: false,
        }
    }

    /// A halving stage flat up to `pass` cycles per input sample; its transition band is
    /// centred on a quarter of the input rate.
    fn halfband(pass: f64) -> Spec {
        Spec {
            up: 1,
            down: 2,
            kernel: Kernel::new(pass, 0.5 - pass, 2),
            halfband: true,
        }
    }

    /// The number of outputs whose kernel reaches any of `inputs` samples: the rest are zero.
    pub(super) fn outputs_reaching(&self, inputs: u64) -> u64 {
        ((inputs + self.kernel.half as u64 - 1) * self.up).div_ceil(self.down)
    }
}

pub(super) fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The stages from `in_rate` to `out_rate` Hz (none when they are equal).
///
/// Above 1.25 times the output rate, the sharp filter runs last as a half-band decimator from
/// twice the output rate: its 400 Hz transition (at 8 kHz) is centred on a quarter of that
/// rate, so half its weights are zero. Before it, a loose rational stage brings the input to
/// twice the output rate; it only has to keep what would fold below `STOP · out_rate`, so it
/// needs few taps. Inputs of four times the output rate or more are first halved by loose
/// half-band stages, which cost less per input sample than a longer rational stage. Below
/// 1.25 times the output rate (and when upsampling), one sharp rational stage does it all: a
/// loose stage to twice the rate would have a transition band only `rate - out_rate` wide.
pub(super) fn plan(in_rate: u32, out_rate: u32) -> Vec<Spec> {
    let (r, s) = (f64::from(in_rate), f64::from(out_rate));
    if in_rate == out_rate {
        return Vec::new();
    }
    if r < 1.25 * s {
        let narrow = r.min(s);
        return vec![Spec::polyphase(
            out_rate.into(),
            in_rate.into(),
            PASS * narrow / r,
            STOP * narrow / r,
        )];
    }
    let mut specs = Vec::new();
    // The rate reached so far is in_rate / halvings.
    let (mut rate, mut halvings) = (r, 1u64);
    while rate >= 4.0 * s {
        specs.push(Spec::halfband(STOP * s / rate));
        rate /= 2.0;
        halvings *= 2;
    }
    let twice = 2 * u64::from(out_rate);
    if u64::from(in_rate) != twice * halvings {
        specs.push(Spec::polyphase(
            twice * halvings,
            in_rate.into(),
            PASS * s / rate,
            (rate.min(2.0 * s) - STOP * s) / rate,
        ));
    }
    specs.push(Spec::halfband(PASS / 2.0));
    specs
}
