//! The streaming stages of [`MonoResampler`](super::MonoResampler). A [`Stage`] takes input
//! in pieces of any size and appends the outputs it can already compute to its `out`; its
//! weights come from [`designs`], computed once per rate pair and shared by every stream.
//!
//! Both stages compute several neighbouring outputs at once, each in its own vector lane, so
//! that LLVM vectorises the plain `f32` loops on stable Rust: the half-band stage multiplies one
//! weight by [`BLOCK`] contiguous inputs, the polyphase stage one input by [`GROUP`] weights laid
//! out side by side. Every output is one sum in a fixed order, whatever the pieces the input
//! came in and whatever the vector width, so streaming never changes a result.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::design::{Kernel, Spec, gcd, plan};

/// Outputs a half-band stage computes together: sixteen lanes give enough independent
/// additions to hide their latency.
const BLOCK: usize = 16;
/// Outputs a polyphase stage computes together.
const GROUP: usize = 8;
/// A polyphase stage lays out weights for every phase up to this many phases (44.1 kHz to
/// 16 kHz has 160, 11.025 kHz to 16 kHz 640)...
const MAX_EXACT_PHASES: u64 = 1024;
/// ...and beyond (odd rates such as 44,101 Hz have thousands), rows at this many evenly spaced
/// phases, interpolating linearly between the two around each output instant, one output at a
/// time. The error of that interpolation is below 10^-5 of full scale.
const INTERPOLATED_PHASES: u64 = 512;
/// Designs kept in the cache; a stream of odd rates cannot grow it further.
const CACHE_ENTRIES: usize = 16;

/// One stage's plan and weights, in the layout its inner loop reads.
#[derive(Clone)]
pub(super) struct Design {
    spec: Spec,
    taps: Taps,
}

#[derive(Clone)]
enum Taps {
    /// The centre weight and the weights of the `half` odd offsets, outermost first.
    HalfBand {
        centre: f32,
        odd: Arc<[f32]>,
    },
    Polyphase(Weights),
}

#[derive(Clone)]
enum Weights {
    Grouped(Arc<Grouped>),
    /// `INTERPOLATED_PHASES + 1` rows of `2 · half` weights; row `i` is for phase
    /// `i / INTERPOLATED_PHASES`.
    Interpolated(Arc<[f32]>),
}

/// A polyphase stage's weights for outputs in groups of [`GROUP`]: each group's outputs read
/// one window of inputs, and the weights of input `t` of that window for the group's outputs
/// lie side by side (zero where an output's own window does not reach).
struct Grouped {
    /// Outputs after which phases and window positions repeat: a multiple of `GROUP`.
    period: u64,
    /// Inputs the windows move on by in one period.
    advance: u64,
    /// Inputs in a group's window.
    span: usize,
    /// Where each group's window starts, in inputs from the start of its period.
    starts: Vec<u64>,
    /// Per group, per input of its window, the weights of its `GROUP` outputs.
    weights: Vec<f32>,
}

/// The weights of the `2 · half` inputs around an instant lying `frac` of a sample after the
/// `half`-th of them, scaled to sum to one.
fn row(kernel: &Kernel, frac: f64) -> Vec<f32> {
    let half = kernel.half();
    let row: Vec<f64> = (0..2 * half)
        .map(|t| kernel.at(frac + (half - 1) as f64 - t as f64))
        .collect();
    let sum: f64 = row.iter().sum();
    row.into_iter().map(|w| (w / sum) as f32).collect()
}

impl Design {
    fn new(spec: Spec) -> Design {
        let kernel = spec.kernel;
        let half = kernel.half();
        let taps = if spec.halfband {
            // Odd offsets half-1, half-3, ..., -(half-1); even ones are zeros of the sinc.
            let odd: Vec<f64> = (0..half)
                .map(|i| kernel.at((half - 1) as f64 - (2 * i) as f64))
                .collect();
            let centre = kernel.at(0.0);
            let sum = centre + odd.iter().sum::<f64>();
            Taps::HalfBand {
                centre: (centre / sum) as f32,
                odd: odd.iter().map(|w| (w / sum) as f32).collect(),
            }
        } else if spec.up > MAX_EXACT_PHASES {
            let phases = INTERPOLATED_PHASES;
            // One row more than phases: phase 1 closes the last interval.
            let rows = (0..=phases).flat_map(|i| row(&kernel, i as f64 / phases as f64));
            Taps::Polyphase(Weights::Interpolated(rows.collect()))
        } else {
            Taps::Polyphase(Weights::Grouped(Arc::new(Grouped::new(&spec))))
        };
        Design { spec, taps }
    }
}

impl Grouped {
    fn new(spec: &Spec) -> Grouped {
        let (up, down) = (spec.up, spec.down);
        let rows: Vec<Vec<f32>> = (0..up)
            .map(|phase| row(&spec.kernel, phase as f64 / up as f64))
            .collect();
        let period = up * GROUP as u64 / gcd(up, GROUP as u64);
        // Output i of a period: its window's start and its phase.
        let output = |i: u64| (i * down / up, (i * down % up) as usize);
        let starts: Vec<u64> = (0..period).step_by(GROUP).map(|i| output(i).0).collect();
        let width = 2 * spec.kernel.half();
        let span = starts
            .iter()
            .enumerate()
            .map(|(g, &start)| (output(((g + 1) * GROUP - 1) as u64).0 - start) as usize + width)
            .max()
            .expect("a period holds a group");
        let mut weights = vec![0.0; starts.len() * span * GROUP];
        for (g, &start) in starts.iter().enumerate() {
            let group = &mut weights[g * span * GROUP..][..span * GROUP];
            for lane in 0..GROUP {
                let (at, phase) = output((g * GROUP + lane) as u64);
                let offset = (at - start) as usize;
                for (t, &w) in rows[phase].iter().enumerate() {
                    group[(offset + t) * GROUP + lane] = w;
                }
            }
        }
        Grouped {
            period,
            advance: period * down / up,
            span,
            starts,
            weights,
        }
    }
}

/// The stages from `in_rate` to `out_rate`, designed once per rate pair: decoding an item builds
/// a resampler, and designing its weights costs about as much as resampling a second of audio.
pub(super) fn designs(in_rate: u32, out_rate: u32) -> Arc<[Design]> {
    type Cache = Mutex<HashMap<(u32, u32), Arc<[Design]>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (in_rate, out_rate);
    if let Some(hit) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Arc::clone(hit);
    }
    let built: Arc<[Design]> = plan(in_rate, out_rate)
        .into_iter()
        .map(Design::new)
        .collect();
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= CACHE_ENTRIES {
        map.clear();
    }
    map.insert(key, Arc::clone(&built));
    built
}

/// One stage of a stream: its inputs so far, the state of its filter and its pending output.
pub(super) struct Stage {
    spec: Spec,
    filter: Filter,
    received: u64,
    emitted: u64,
    /// Whether the inner loops may use AVX (where the CPU has it).
    avx: bool,
    /// Outputs not yet taken by the next stage or the sink.
    pub out: Vec<f32>,
}

enum Filter {
    HalfBand(HalfBand),
    Polyphase(Polyphase),
}

impl Stage {
    pub(super) fn new(design: &Design) -> Stage {
        let half = design.spec.kernel.half();
        let filter = match &design.taps {
            Taps::HalfBand { centre, odd } => Filter::HalfBand(HalfBand {
                centre: *centre,
                taps: Arc::clone(odd),
                even: Vec::new(),
                // Inputs before time 0 are silence.
                odd: vec![0.0; half / 2],
            }),
            Taps::Polyphase(weights) => Filter::Polyphase(Polyphase {
                weights: weights.clone(),
                up: design.spec.up,
                down: design.spec.down,
                width: 2 * half,
                buf: vec![0.0; half - 1],
                dropped: 0,
            }),
        };
        Stage {
            spec: design.spec,
            filter,
            received: 0,
            emitted: 0,
            avx: true,
            out: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, input: &[f32]) {
        self.take(input);
        self.run(u64::MAX);
    }

    /// Takes the last `input`, then pads with silence and emits outputs until `outputs` in all
    /// (or, with `None`, until every output the input reaches).
    pub(super) fn finish(&mut self, input: &[f32], outputs: Option<u64>) {
        self.take(input);
        let target = outputs.unwrap_or_else(|| self.spec.outputs_reaching(self.received));
        if target <= self.emitted {
            return;
        }
        // Outputs come in whole blocks or groups: pad for the one holding the last wanted,
        // and drop what lies beyond it.
        let limit = match &mut self.filter {
            Filter::HalfBand(h) => {
                let blocks = (target - self.emitted).div_ceil(BLOCK as u64) as usize * BLOCK;
                h.even.resize(h.even.len().max(blocks), 0.0);
                h.odd
                    .resize(h.odd.len().max(blocks + h.taps.len() - 1), 0.0);
                self.emitted + blocks as u64
            }
            Filter::Polyphase(p) => {
                let (last, limit) = match &p.weights {
                    Weights::Grouped(_) => {
                        let limit = target.div_ceil(GROUP as u64) * GROUP as u64;
                        (limit - GROUP as u64, limit)
                    }
                    Weights::Interpolated(_) => (target - 1, target),
                };
                let end = (p.window(last) - p.dropped) as usize + p.span();
                p.buf.resize(p.buf.len().max(end), 0.0);
                limit
            }
        };
        self.run(limit);
        let extra = (self.emitted - target) as usize;
        self.out.truncate(self.out.len() - extra);
        self.emitted = target;
    }

    fn take(&mut self, input: &[f32]) {
        match &mut self.filter {
            Filter::HalfBand(h) => {
                let mut input = input;
                if self.received % 2 == 1 && !input.is_empty() {
                    h.odd.push(input[0]);
                    input = &input[1..];
                }
                let pairs = input.chunks_exact(2);
                let last = pairs.remainder().first().copied();
                h.even.extend(pairs.clone().map(|p| p[0]));
                h.odd.extend(pairs.map(|p| p[1]));
                h.even.extend(last);
            }
            Filter::Polyphase(p) => p.buf.extend_from_slice(input),
        }
        self.received += input.len() as u64;
    }

    /// Emits every output computable from the inputs held, up to `limit` outputs in all.
    fn run(&mut self, limit: u64) {
        let before = self.out.len();
        let (next, out) = (self.emitted, &mut self.out);
        match &mut self.filter {
            Filter::HalfBand(h) => vectorised(h, self.avx, next, limit, out),
            Filter::Polyphase(p) => vectorised(p, self.avx, next, limit, out),
        }
        self.emitted += (self.out.len() - before) as u64;
    }
}

/// A stage's inner loop.
trait Run {
    /// Emits outputs from `next` on while their inputs are held, until `limit`.
    fn run(&mut self, next: u64, limit: u64, out: &mut Vec<f32>);
}

/// Runs `kernel`, compiled for AVX if `avx` and the CPU has it: twice the vector width (a
/// third less time for 44.1 kHz input), and the same operations in the same order (no fused
/// multiply-add), so the results do not depend on the CPU and an index built on one machine
/// matches queries made on another.
fn vectorised<K: Run>(kernel: &mut K, avx: bool, next: u64, limit: u64, out: &mut Vec<f32>) {
    #[cfg(target_arch = "x86_64")]
    if avx && std::arch::is_x86_feature_detected!("avx") {
        #[target_feature(enable = "avx")]
        fn with_avx<K: Run>(kernel: &mut K, next: u64, limit: u64, out: &mut Vec<f32>) {
            kernel.run(next, limit, out)
        }
        // SAFETY: the CPU has AVX, checked just above.
        return unsafe { with_avx(kernel, next, limit, out) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = avx;
    kernel.run(next, limit, out)
}

/// Halving with a half-band filter: output `m` is `centre · x[2m]` plus the odd-offset
/// weights times the odd-indexed samples around it.
struct HalfBand {
    centre: f32,
    taps: Arc<[f32]>,
    /// `x[2i]` from the next output's `i` on.
    even: Vec<f32>,
    /// `x[2i + 1]` from `taps.len() / 2` before the next output's `i` on.
    odd: Vec<f32>,
}

impl Run for HalfBand {
    /// Emits whole blocks only.
    #[inline(always)]
    fn run(&mut self, next: u64, limit: u64, out: &mut Vec<f32>) {
        let (centre, taps) = (self.centre, &self.taps[..]);
        let ready = self
            .even
            .len()
            .min((self.odd.len() + 1).saturating_sub(taps.len()));
        let count = ready.min(usize::try_from(limit - next).unwrap_or(usize::MAX)) / BLOCK * BLOCK;
        for m in (0..count).step_by(BLOCK) {
            let even: &[f32; BLOCK] = self.even[m..m + BLOCK].try_into().unwrap();
            let odd = &self.odd[m..m + taps.len() + BLOCK - 1];
            let mut acc = even.map(|e| centre * e);
            for (&w, window) in taps.iter().zip(odd.windows(BLOCK)) {
                for (a, &x) in acc.iter_mut().zip(window) {
                    *a += w * x;
                }
            }
            out.extend_from_slice(&acc);
        }
        self.even.drain(..count);
        self.odd.drain(..count);
    }
}

/// Conversion by `up / down`: output `n` lies at input time `n · down / up`, whose integer part
/// places the window of inputs and whose fraction (the phase) picks the weights.
struct Polyphase {
    weights: Weights,
    up: u64,
    down: u64,
    /// Weights per output: `2 · half`.
    width: usize,
    /// The inputs, preceded by `half - 1` samples of silence, from index `dropped` on.
    buf: Vec<f32>,
    dropped: u64,
}

impl Polyphase {
    /// Where the window of output `n` (the first of its group, when grouped) starts.
    fn window(&self, n: u64) -> u64 {
        match &self.weights {
            Weights::Grouped(g) => {
                (n / g.period) * g.advance + g.starts[((n % g.period) / GROUP as u64) as usize]
            }
            Weights::Interpolated(_) => {
                (u128::from(n) * u128::from(self.down) / u128::from(self.up)) as u64
            }
        }
    }

    /// Inputs one step of [`run`](Self::run) reads.
    fn span(&self) -> usize {
        match &self.weights {
            Weights::Grouped(g) => g.span,
            Weights::Interpolated(_) => self.width,
        }
    }
}

impl Run for Polyphase {
    #[inline(always)]
    fn run(&mut self, mut next: u64, limit: u64, out: &mut Vec<f32>) {
        let span = self.span();
        while next < limit {
            let at = (self.window(next) - self.dropped) as usize;
            let Some(window) = self.buf.get(at..at + span) else {
                break;
            };
            match &self.weights {
                Weights::Grouped(g) => {
                    let group = ((next % g.period) / GROUP as u64) as usize;
                    let weights = &g.weights[group * span * GROUP..][..span * GROUP];
                    out.extend_from_slice(&group_sums(weights, window));
                    next += GROUP as u64;
                }
                Weights::Interpolated(rows) => {
                    let at = u128::from(next) * u128::from(self.down) % u128::from(self.up);
                    let position = at as f64 * INTERPOLATED_PHASES as f64 / self.up as f64;
                    let row = position as usize;
                    let lo = dot(&rows[row * span..][..span], window);
                    let hi = dot(&rows[(row + 1) * span..][..span], window);
                    out.push(lo + (position - row as f64) as f32 * (hi - lo));
                    next += 1;
                }
            }
        }
        // A decimating stage's next window may start past the inputs held.
        let done = ((self.window(next) - self.dropped) as usize).min(self.buf.len());
        self.buf.drain(..done);
        self.dropped += done as u64;
    }
}

/// The `GROUP` outputs of one group: each lane sums its weight times each input of the window.
#[inline(always)]
fn group_sums(weights: &[f32], window: &[f32]) -> [f32; GROUP] {
    let mut acc = [0.0f32; GROUP];
    for (w, &x) in weights.chunks_exact(GROUP).zip(window) {
        for (a, &w) in acc.iter_mut().zip(w) {
            *a += w * x;
        }
    }
    acc
}

/// `Σ a[i] · b[i]` over a length that is a multiple of 4, in whole vectors.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 4];
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for i in 0..4 {
            acc[i] += x[i] * y[i];
        }
    }
    (acc[0] + acc[2]) + (acc[1] + acc[3])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::noise;

    #[test]
    fn avx_changes_no_bit_of_the_output() {
        for rates in [
            (44100, 8000),
            (48000, 8000),
            (11025, 8000),
            (6000, 8000),
            (44101, 8000),
        ] {
            for (i, design) in designs(rates.0, rates.1).iter().enumerate() {
                let input = noise(20_000, i as u64);
                let run = |avx| {
                    let mut stage = Stage::new(design);
                    stage.avx = avx;
                    stage.push(&input[..12_345]);
                    stage.finish(&input[12_345..], None);
                    stage.out
                };
                assert!(run(true) == run(false), "{rates:?}, stage {i}");
            }
        }
    }
}
