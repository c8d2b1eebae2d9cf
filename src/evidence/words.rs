//! A match's evidence in plain words, and exactly what its figure bounds.
//!
//! `evidence` E is −log10 of an upper bound on a chance, so "less than once in 10^⌊E⌋ tries" is
//! true of the bound itself, never rounded up. What the chance is of depends on how the match
//! was decided (docs/decisions/0039-evidence-the-one-scale): by the peak check, the chance that
//! a recording unrelated to the track, with the item's own peaks, holds the track's peaks as
//! well at this alignment (one try: one alignment, checked at five pitch shifts); without it,
//! the chance that the hashes matching the track, fallen at random, line up as well.

use super::records::PeakCheckRecord;

/// What a match's evidence rests on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Basis {
    /// The check against the track's stored peaks.
    Peaks(PeakCheckRecord),
    /// The line of hashes alone (an index without stored peaks, or `--strictness 0`), with its
    /// score.
    Line(u32),
}

/// How a figure's power of ten is written: `10^28` in text, `10<sup>28</sup>` in HTML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markup {
    Text,
    Html,
}

impl Markup {
    fn power(self, exponent: u64) -> String {
        match self {
            Markup::Text => format!("10^{exponent}"),
            Markup::Html => format!("10<sup>{exponent}</sup>"),
        }
    }
}

/// The one-line statement of evidence `e`: "an unrelated recording would match this well less
/// than once in 10^28 tries".
pub fn headline(e: f64, markup: Markup) -> String {
    if e.is_nan() {
        return "the record states no evidence (it was written by an earmark before records \
                carried it)"
            .into();
    }
    let exponent = e.floor();
    if exponent < 1.0 {
        return format!(
            "chance alone could give a match this good (evidence {e:.1}, under 1): no evidence"
        );
    }
    format!(
        "an unrelated recording would match this well less than once in {} tries",
        markup.power(exponent as u64)
    )
}

/// What the headline's figure is a bound of, for a reader who asks.
pub fn detail(e: f64, basis: Basis, markup: Markup) -> String {
    match basis {
        Basis::Peaks(c) => format!(
            "Where this match places the track against the item, the item holds {} of the \
             track's {} spectral peaks in the stretch checked; a recording unrelated to the \
             track, with as many peaks as this item in each pitch band, would hold {:.1} of them \
             on average. The chance that such a recording does as well, each peak weighed by \
             how rarely chance would hold it, is at most 1 in {} (evidence {e:.2}: a Chernoff \
             bound, above the exact chance, taken over the 5 pitch shifts tried at this one \
             alignment; on unrelated music the bound has held with a wide margin).",
            c.matched,
            c.reference,
            c.expected,
            power_of(e, markup),
        ),
        Basis::Line(score) => format!(
            "{score} of the item's landmark hashes lie on one time line of the track. Were the \
             hashes that matched this track spread at random over it, the chance that some line, \
             at any speed searched, gathers as many is at most 1 in {} (evidence {e:.2}). The \
             track's peaks were not checked: the index stores none, or the check was off.",
            power_of(e, markup),
        ),
    }
}

/// 10 to the whole part of `e` (the bound is below 10^-e, so below 10^-⌊e⌋ too).
fn power_of(e: f64, markup: Markup) -> String {
    markup.power(e.max(0.0).floor() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figure_is_the_bound_rounded_down_never_up() {
        assert_eq!(
            headline(28.97, Markup::Text),
            "an unrelated recording would match this well less than once in 10^28 tries"
        );
        assert!(headline(7.0, Markup::Html).ends_with("once in 10<sup>7</sup> tries"));
        assert!(headline(0.4, Markup::Text).contains("no evidence"));
        assert!(headline(f64::NAN, Markup::Text).contains("states no evidence"));
        let c = PeakCheckRecord {
            reference: 73,
            matched: 71,
            expected: 11.7,
            evidence: 57.13,
        };
        let d = detail(57.13, Basis::Peaks(c), Markup::Text);
        assert!(
            d.contains("holds 71 of the track's 73 spectral peaks")
                && d.contains("would hold 11.7 of them")
                && d.contains("at most 1 in 10^57 (evidence 57.13")
                && d.contains("5 pitch shifts"),
            "{d}"
        );
        let d = detail(12.5, Basis::Line(31), Markup::Text);
        assert!(
            d.starts_with("31 of the item's") && d.contains("1 in 10^12"),
            "{d}"
        );
    }
}
