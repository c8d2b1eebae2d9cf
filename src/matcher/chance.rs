//! The odds of a chance line: how many of a window's hits a line must gather to be believed
//! ([`ChanceLine`]), from the Poisson tail of hits falling on one line at random.

use super::thresholds::MIN_CONFIDENCE;

/// The odds of a chance line in one window of one track: the best of `cells` lines (speeds
/// times offsets) gathering a count of the window's hits, each of which falls on a given line
/// with probability `share`. All of the window's hits count, also those an earlier line took:
/// the conservative choice.
pub(super) struct ChanceLine {
    cells: f64,
    share: f64,
}

impl ChanceLine {
    /// The odds in a window searched at `speeds` speeds, of a track `track_frames` long, where a
    /// hit within `tolerance` frames of a line is on it.
    pub(super) fn new(speeds: usize, track_frames: u32, tolerance: f64) -> Self {
        let frames = f64::from(track_frames);
        ChanceLine {
            cells: speeds as f64 * (frames / (2.0 * tolerance)).max(1.0),
            share: (2.0 * tolerance) / frames.max(2.0 * tolerance),
        }
    }

    /// One minus the chance that some line gathers `count` of `hits` at random.
    pub(super) fn confidence(&self, count: usize, hits: usize) -> f64 {
        let lambda = hits as f64 * self.share;
        let chance = (self.cells.ln() + log_poisson_tail(count as u64, lambda))
            .exp()
            .min(1.0);
        1.0 - chance
    }

    /// −log10 of the chance that some line gathers `count` of `hits` at random, 0 where that is
    /// likely: the figure behind [`Self::confidence`], kept where one minus the chance rounds to
    /// 1 (a chance below 10^-16), so that strong lines still differ.
    pub(super) fn evidence(&self, count: usize, hits: usize) -> f64 {
        let lambda = hits as f64 * self.share;
        let ln_chance = self.cells.ln() + log_poisson_tail(count as u64, lambda);
        if ln_chance >= 0.0 {
            0.0
        } else {
            -ln_chance / std::f64::consts::LN_10
        }
    }

    /// A lower bound, at least `min`, on the hits that a line needs among `hits` to reach
    /// [`MIN_CONFIDENCE`], from the first three terms of the chance's tail rather than its
    /// whole sum: this is worked out for every window of every track with hits.
    pub(super) fn needed(&self, min: usize, hits: usize) -> usize {
        let lambda = hits as f64 * self.share;
        if lambda <= 0.0 {
            return min;
        }
        // At most λ hits are never enough (`log_poisson_tail` is 0 there).
        let mut k = min.max(lambda.floor() as usize + 1);
        // ln P(X = k) = k ln λ − λ − ln k!, stepped up from there; the margin keeps rounding
        // from lifting the bound past the exact test's threshold.
        let limit = (1.0 - MIN_CONFIDENCE).ln() - self.cells.ln() + 1e-9;
        let mut log_p = k as f64 * lambda.ln() - lambda - ln_factorial(k as u64);
        while k <= hits {
            let (a, b) = (lambda / (k + 1) as f64, lambda / (k + 2) as f64);
            if log_p + (1.0 + a + a * b).ln() <= limit {
                break;
            }
            k += 1;
            log_p += lambda.ln() - (k as f64).ln();
        }
        k
    }
}

/// ln P(X ≥ k) for X ~ Poisson(λ), accurate where it matters (k well above λ).
fn log_poisson_tail(k: u64, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return if k == 0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if (k as f64) <= lambda {
        return 0.0;
    }
    // Sum the first terms of the tail in log space; they shrink geometrically once k > λ.
    let mut log_term = k as f64 * lambda.ln() - lambda - ln_factorial(k);
    let mut total = log_term;
    for i in 1..64 {
        log_term += lambda.ln() - ((k + i) as f64).ln();
        total = log_add(total, log_term);
        if log_term < total - 40.0 {
            break;
        }
    }
    total.min(0.0)
}

fn ln_factorial(n: u64) -> f64 {
    (2..=n).map(|i| (i as f64).ln()).sum()
}

fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::below;

    /// The hits a line needs, bounded from the chance of exactly that many, never exceed the
    /// fewest that pass the exact test, and fall short of them by at most one.
    #[test]
    fn the_hits_a_line_needs_are_bounded_from_below_and_closely() {
        let mut next = below(5);
        let mut worst = 0;
        for _ in 0..2000 {
            let frames = (200 + next(40_000)) as f64;
            let chance = ChanceLine {
                cells: (1 + next(400)) as f64 * (frames / 4.0),
                share: 4.0 / frames,
            };
            let hits = 3 + next(3000) as usize;
            let min = 3 + next(3) as usize;
            let exact = (min..=hits)
                .find(|&k| chance.confidence(k, hits) >= MIN_CONFIDENCE)
                .unwrap_or(hits + 1);
            let needed = chance.needed(min, hits);
            assert!(needed <= exact, "{needed} {exact} {hits} {frames}");
            worst = worst.max(exact - needed);
        }
        assert!(worst <= 1, "{worst}");
    }

    /// The evidence is the confidence's chance on a log scale where that chance is representable,
    /// and keeps growing with the count where the confidence has reached 1.
    #[test]
    fn evidence_is_the_confidence_on_a_log_scale() {
        let chance = ChanceLine::new(24, 1875, 3.0);
        for count in 4..12 {
            let (c, e) = (chance.confidence(count, 200), chance.evidence(count, 200));
            if c > 0.0 && c < 1.0 - 1e-12 {
                assert!(((1.0 - c).log10() + e).abs() < 1e-6, "{count}: {c} {e}");
            }
        }
        assert_eq!(chance.evidence(1, 200), 0.0);
        assert_eq!(chance.confidence(60, 200), 1.0);
        assert!(chance.evidence(80, 200) > chance.evidence(60, 200) + 10.0);
    }

    #[test]
    fn poisson_tail_is_sane() {
        // P(X >= 1) for λ = 1 is 1 - e^-1.
        assert!((log_poisson_tail(2, 1.0).exp() - (1.0 - 2.0 * (-1.0f64).exp())).abs() < 1e-9);
        assert!(log_poisson_tail(20, 0.01) < -100.0);
        assert_eq!(log_poisson_tail(1, 5.0), 0.0);
    }
}
