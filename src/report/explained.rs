//! `earmark explain`'s reporters: [`Explained`] says for a person why each match was made (its
//! evidence in plain words, its line, its landmark pairs, its repeats), and [`OneTrack`] passes
//! on only one catalogue track's matches to another reporter.

use std::io::{self, Write};

use super::{Outcome, Provenance, Reporter, Summary};
use crate::evidence::plot::clock;
use crate::evidence::records::PeakCheckRecord;
use crate::evidence::words::{self, Basis, Markup};

/// Pairs printed on one line.
const PAIRS_PER_LINE: usize = 6;

/// Plain words for a person.
pub struct Explained<W: Write> {
    out: W,
    track: Option<String>,
}

impl<W: Write> Explained<W> {
    /// Explains every match, or only those of `track`.
    pub fn new(out: W, track: Option<String>) -> Self {
        Explained { out, track }
    }
}

impl<W: Write> Reporter for Explained<W> {
    fn outcome(&mut self, o: &Outcome) -> io::Result<()> {
        let name = o.name();
        let found: Vec<_> = (o.found.iter())
            .filter(|f| self.track.as_ref().is_none_or(|t| &f.track == t))
            .collect();
        if found.is_empty() && o.failure.is_none() {
            let what = self.track.as_deref().unwrap_or("catalogue recording");
            writeln!(
                self.out,
                "{name}: no {what} found ({:.1} s scanned)",
                o.seconds
            )?;
        }
        for f in found {
            let m = &f.m;
            let title = f
                .catalogue
                .as_ref()
                .and_then(|c| c.get("title"))
                .and_then(|t| t.as_str())
                .map_or(String::new(), |t| format!(" \"{t}\""));
            let ext = if f.external_id.is_empty() {
                String::new()
            } else {
                format!(" [{}]", f.external_id)
            };
            writeln!(self.out, "{name}: {}{ext}{title}", f.track)?;
            writeln!(
                self.out,
                "  {}–{} of the item plays {}–{} of the track, speed {:.3}, pitch {:+.2} semitones",
                clock(m.item_start),
                clock(m.item_end),
                clock(m.track_start),
                clock(m.track_end),
                m.speed,
                m.pitch
            )?;
            let basis = m.peak_check.map_or(Basis::Line(m.score), |c| {
                Basis::Peaks(PeakCheckRecord {
                    reference: c.reference,
                    matched: c.matched,
                    expected: c.expected,
                    evidence: c.evidence(),
                })
            });
            writeln!(
                self.out,
                "  evidence {:.2}: {}.\n  {}",
                m.evidence,
                words::headline(m.evidence, Markup::Text),
                words::detail(m.evidence, basis, Markup::Text)
            )?;
            let a = &m.alignment;
            writeln!(
                self.out,
                "  the line fitted to the pairs: track = {:.3} s + {:.6} × item",
                a.offset, a.speed
            )?;
            let kept = a.item_cs.len();
            let spread = if kept < a.pairs as usize {
                format!(" ({kept} of them, evenly spread)")
            } else {
                String::new()
            };
            writeln!(
                self.out,
                "  {} landmark pairs on it{spread}, item s → track s:",
                a.pairs
            )?;
            let pairs: Vec<String> = (a.item_cs.iter().zip(&a.track_cs))
                .map(|(&i, &t)| format!("{:.2}→{:.2}", f64::from(i) / 100.0, f64::from(t) / 100.0))
                .collect();
            for line in pairs.chunks(PAIRS_PER_LINE) {
                writeln!(self.out, "    {}", line.join("  "))?;
            }
            for r in &a.repeats {
                writeln!(
                    self.out,
                    "  the track repeats the passage: {}–{} of the item also fits {}–{} of the track",
                    clock(r.item_start),
                    clock(r.item_end),
                    clock(r.track_start),
                    clock(r.track_end)
                )?;
            }
        }
        if let Some(f) = &o.failure {
            let what = if o.partial { "warning" } else { "error" };
            writeln!(self.out, "{name}: {what}: {f}")?;
        }
        self.out.flush()
    }
}

/// Passes on only `track`'s matches. An item whose matches were all of other tracks is passed
/// over (it is not clean), unless it failed, when its failure is passed on.
pub struct OneTrack<R> {
    inner: R,
    track: String,
}

impl<R: Reporter> OneTrack<R> {
    pub fn new(inner: R, track: String) -> Self {
        OneTrack { inner, track }
    }
}

impl<R: Reporter> Reporter for OneTrack<R> {
    fn start(&mut self, provenance: &Provenance) -> io::Result<()> {
        self.inner.start(provenance)
    }

    fn outcome(&mut self, o: &Outcome) -> io::Result<()> {
        let mut only = o.clone();
        only.found.retain(|f| f.track == self.track);
        if only.found.is_empty() && !o.found.is_empty() && o.failure.is_none() {
            return Ok(());
        }
        self.inner.outcome(&only)
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.inner.finish(summary)
    }
}
