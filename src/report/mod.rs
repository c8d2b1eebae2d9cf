//! Reporting: the scanner pushes each item's [`Outcome`] into a [`Reporter`] and knows nothing
//! of output formats. [`JsonLines`] (the default), [`Csv`] and [`Human`] are reporters.
//!
//! JSON Lines fields are a contract with users' scripts: first `{"provenance": {...}}`
//! ([`Provenance::record`]); then per match `item`, `member` (absent for plain files), `track`,
//! `score`, `confidence`, `evidence` (the one scale of how sure: −log10 of a bound on the
//! chance of an unrelated recording matching as well), `item_start`, `item_end`,
//! `track_start`, `track_end`, `speed`, `pitch`, `also_at` (only when the track repeats the
//! passage), `peak_check` (only where the index stores the track's peaks: `reference`,
//! `matched`, `expected`, `evidence`), `catalogue` (the track's metadata, where `index --ids`
//! gave a header), `seconds` (the item's audio) and, after the item's own fields, `alignment`
//! (for plots: `pairs`, `item_cs` and `track_cs`, `line`, `repeats`; [`MatchAlignment`]);
//! for failures `item`, `member`,
//! `error`, `kind` (a [`FailureKind`] name) and `partial` (the part before the problem was
//! scanned: a warning); for items skipped though readable (too short to fingerprint) `item`,
//! `member`, `skipped` ([`Skip`]), `seconds`; for items scanned without a match `item`,
//! `member`, `clean: true`, `seconds`. Every item record also carries `bytes` and `blake3`
//! (the item's size and the BLAKE3 hash of its bytes, where they were read), `row` and
//! `columns` (a parquet row's number and scalar columns) and `dataset` (what `--manifest`
//! joined). Last comes `{"summary": {...}}` ([`Summary::record`]). Fields may be added, never
//! renamed.

mod explained;
mod provenance;
mod summary;

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::error::{Failure, FailureKind};
use crate::matcher::{Match, MatchAlignment, Repeat};
use crate::scan::parquet::DatasetRow;
pub use explained::{Explained, OneTrack};
pub use provenance::{COMMIT, IndexProvenance, Provenance, timestamp};
pub use summary::{LISTED_FAILURES, Skip, Summary, count};

/// A match with its track resolved to names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub track: String,
    pub external_id: String,
    /// The track's metadata (ISRC, title, artist…), where the index was built with a
    /// metadata file ([`crate::index::catalogue::TrackMetadata`]).
    #[serde(default)]
    pub catalogue: Option<serde_json::Map<String, serde_json::Value>>,
    pub m: Match,
}

/// Everything learnt about one item.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Outcome {
    pub item: String,
    pub member: Option<String>,
    /// Seconds of audio analysed.
    pub seconds: f64,
    pub found: Vec<Found>,
    /// Why the item could not be scanned, or (with `partial`) what stopped it early.
    pub failure: Option<Failure>,
    /// The failure cut the item short, but the audio before it was scanned: a warning.
    pub partial: bool,
    /// Not scanned, though nothing failed (audio too short to fingerprint).
    #[serde(default)]
    pub skipped: Option<Skip>,
    /// Bytes of the item (file or member) read.
    pub bytes: u64,
    /// BLAKE3 of the item's bytes, in hex; `None` where they were never read.
    #[serde(default)]
    pub blake3: Option<String>,
    /// The dataset row the item is (parquet).
    #[serde(default)]
    pub row: Option<DatasetRow>,
    /// What the `--manifest` files say of the item, joined by its key.
    #[serde(default)]
    pub dataset: Option<serde_json::Value>,
    /// Wall time spent on this item by the one worker that processed it (open, decode,
    /// fingerprint, match), seconds. Items run in parallel, so these add up to more than the
    /// scan's wall time.
    #[serde(default)]
    pub processing_seconds: f64,
}

impl Outcome {
    /// The item as people read it: `file`, or `archive :: member`.
    pub fn name(&self) -> String {
        match &self.member {
            Some(m) => format!("{} :: {m}", self.item),
            None => self.item.clone(),
        }
    }

    /// A failure that stopped the item before any of its audio was scanned.
    pub fn failed(&self) -> bool {
        self.failure.is_some() && !self.partial
    }

    /// Scanned whole, and nothing of the catalogue heard in it.
    pub fn clean(&self) -> bool {
        self.found.is_empty() && self.failure.is_none() && self.skipped.is_none()
    }

    /// The item's own fields, shared by every record it yields.
    fn about(&self) -> About<'_> {
        About {
            bytes: (self.bytes > 0 || self.blake3.is_some()).then_some(self.bytes),
            blake3: self.blake3.as_deref(),
            row: self.row.as_ref().map(|r| r.number),
            columns: self.row.as_ref().map(|r| &r.columns),
            dataset: self.dataset.as_ref(),
        }
    }
}

/// What every record of an item says of the item itself.
#[derive(Serialize)]
struct About<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    blake3: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    row: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    columns: Option<&'a serde_json::Map<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dataset: Option<&'a serde_json::Value>,
}

/// Receives outcomes as items finish.
pub trait Reporter {
    /// Called once before the first item of a fresh output (not when a scan resumes into one).
    fn start(&mut self, _provenance: &Provenance) -> io::Result<()> {
        Ok(())
    }
    /// Called once per item, in completion order.
    fn outcome(&mut self, outcome: &Outcome) -> io::Result<()>;
    /// Called once at the end.
    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        Ok(())
    }
}

impl<R: Reporter + ?Sized> Reporter for Box<R> {
    fn start(&mut self, provenance: &Provenance) -> io::Result<()> {
        (**self).start(provenance)
    }
    fn outcome(&mut self, outcome: &Outcome) -> io::Result<()> {
        (**self).outcome(outcome)
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        (**self).finish(summary)
    }
}

#[derive(Serialize)]
struct MatchLine<'a> {
    item: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<&'a str>,
    track: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    external_id: &'a str,
    score: u32,
    confidence: f64,
    evidence: f64,
    item_start: f64,
    item_end: f64,
    track_start: f64,
    track_end: f64,
    speed: f64,
    pitch: f64,
    #[serde(skip_serializing_if = "<[f64]>::is_empty")]
    also_at: &'a [f64],
    #[serde(skip_serializing_if = "Option::is_none")]
    peak_check: Option<PeakCheckLine>,
    #[serde(skip_serializing_if = "Option::is_none")]
    catalogue: Option<&'a serde_json::Map<String, serde_json::Value>>,
    seconds: f64,
    #[serde(flatten)]
    about: About<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    alignment: Option<AlignmentLine<'a>>,
}

/// What a plot of the match needs ([`MatchAlignment`]), last in its record: the bulk of it.
#[derive(Serialize)]
struct AlignmentLine<'a> {
    pairs: u32,
    item_cs: &'a [u32],
    track_cs: &'a [u32],
    line: FittedLine,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    repeats: Vec<Repeat>,
}

/// Track seconds = `offset` + `speed` × item seconds.
#[derive(Serialize)]
struct FittedLine {
    speed: f64,
    offset: f64,
}

impl<'a> AlignmentLine<'a> {
    fn new(a: &'a MatchAlignment) -> Option<Self> {
        (a.pairs > 0).then(|| AlignmentLine {
            pairs: a.pairs,
            item_cs: &a.item_cs,
            track_cs: &a.track_cs,
            line: FittedLine {
                speed: (a.speed * 1e6).round() / 1e6,
                offset: ms(a.offset),
            },
            repeats: (a.repeats.iter())
                .map(|r| Repeat {
                    item_start: ms(r.item_start),
                    item_end: ms(r.item_end),
                    track_start: ms(r.track_start),
                    track_end: ms(r.track_end),
                })
                .collect(),
        })
    }
}

/// Evidence as records give it: to hundredths.
fn hundredths(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// What the check against the track's stored peaks found.
#[derive(Serialize)]
struct PeakCheckLine {
    /// The track's peaks in the checked stretch...
    reference: u32,
    /// ...those the item holds where the match puts them...
    matched: u32,
    /// ...how many an unrelated recording would hold by chance...
    expected: f64,
    /// ...and −log10 of the chance of holding as many.
    evidence: f64,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    item: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<&'a str>,
    error: &'a str,
    kind: FailureKind,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    partial: bool,
    #[serde(flatten)]
    about: About<'a>,
}

#[derive(Serialize)]
struct SkippedLine<'a> {
    item: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<&'a str>,
    skipped: Skip,
    seconds: f64,
    #[serde(flatten)]
    about: About<'a>,
}

/// An item scanned whole with nothing found: the record that makes "not found" provable.
#[derive(Serialize)]
struct CleanLine<'a> {
    item: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    member: Option<&'a str>,
    clean: bool,
    seconds: f64,
    #[serde(flatten)]
    about: About<'a>,
}

/// Rounds seconds to milliseconds for output.
fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl<'a> MatchLine<'a> {
    fn new(o: &'a Outcome, f: &'a Found) -> Self {
        MatchLine {
            item: &o.item,
            member: o.member.as_deref(),
            track: &f.track,
            external_id: &f.external_id,
            score: f.m.score,
            confidence: (f.m.confidence * 10000.0).round() / 10000.0,
            evidence: hundredths(f.m.evidence),
            item_start: ms(f.m.item_start),
            item_end: ms(f.m.item_end),
            track_start: ms(f.m.track_start),
            track_end: ms(f.m.track_end),
            speed: f.m.speed,
            pitch: f.m.pitch,
            also_at: &f.m.also_at,
            peak_check: f.m.peak_check.map(|c| PeakCheckLine {
                reference: c.reference,
                matched: c.matched,
                expected: hundredths(c.expected),
                evidence: hundredths(c.evidence()),
            }),
            catalogue: f.catalogue.as_ref(),
            seconds: ms(o.seconds),
            about: o.about(),
            alignment: AlignmentLine::new(&f.m.alignment),
        }
    }
}

/// The lines an outcome becomes in JSON Lines: one per match, then one for its error if any;
/// or one saying why it was skipped; or one saying it is clean.
pub fn json_lines(o: &Outcome) -> Vec<String> {
    if let Some(skipped) = o.skipped {
        let line = SkippedLine {
            item: &o.item,
            member: o.member.as_deref(),
            skipped,
            seconds: ms(o.seconds),
            about: o.about(),
        };
        return vec![serde_json::to_string(&line).expect("plain data serialises")];
    }
    if o.clean() {
        let line = CleanLine {
            item: &o.item,
            member: o.member.as_deref(),
            clean: true,
            seconds: ms(o.seconds),
            about: o.about(),
        };
        return vec![serde_json::to_string(&line).expect("plain data serialises")];
    }
    let mut lines: Vec<String> = o
        .found
        .iter()
        .map(|f| serde_json::to_string(&MatchLine::new(o, f)).expect("plain data serialises"))
        .collect();
    if let Some(failure) = &o.failure {
        let line = ErrorLine {
            item: &o.item,
            member: o.member.as_deref(),
            error: &failure.message,
            kind: failure.kind,
            partial: o.partial,
            about: o.about(),
        };
        lines.push(serde_json::to_string(&line).expect("plain data serialises"));
    }
    lines
}

/// One JSON object per line per match or error.
pub struct JsonLines<W: Write> {
    out: W,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out }
    }
}

impl<W: Write> Reporter for JsonLines<W> {
    fn start(&mut self, provenance: &Provenance) -> io::Result<()> {
        writeln!(self.out, "{}", provenance.record())?;
        self.out.flush()
    }

    fn outcome(&mut self, o: &Outcome) -> io::Result<()> {
        for line in json_lines(o) {
            writeln!(self.out, "{line}")?;
        }
        // A kill must lose at most the items in flight.
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        writeln!(self.out, "{}", summary.record())?;
        self.out.flush()
    }
}

/// Comma-separated values with a header row; errors fill the `error` column.
pub struct Csv<W: Write> {
    out: W,
    header_written: bool,
}

impl<W: Write> Csv<W> {
    pub fn new(out: W) -> Self {
        Csv {
            out,
            header_written: false,
        }
    }

    /// For appending to a file that already has the header row.
    pub fn skip_header(&mut self) {
        self.header_written = true;
    }
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

impl<W: Write> Reporter for Csv<W> {
    fn outcome(&mut self, o: &Outcome) -> io::Result<()> {
        if !self.header_written {
            writeln!(
                self.out,
                "item,member,track,external_id,score,confidence,item_start,item_end,track_start,track_end,speed,error,pitch,also_at,peak_evidence,error_kind,bytes,blake3,clean,evidence"
            )?;
            self.header_written = true;
        }
        let member = csv_field(o.member.as_deref().unwrap_or(""));
        let item = csv_field(&o.item);
        let about = match o.about() {
            About {
                bytes: Some(bytes),
                blake3,
                ..
            } => format!("{bytes},{}", blake3.unwrap_or("")),
            _ => ",".to_string(),
        };
        for f in &o.found {
            let m = &f.m;
            writeln!(
                self.out,
                "{item},{member},{},{},{},{:.4},{:.3},{:.3},{:.3},{:.3},{},,{},{},{},,{about},,{:.2}",
                csv_field(&f.track),
                csv_field(&f.external_id),
                m.score,
                m.confidence,
                m.item_start,
                m.item_end,
                m.track_start,
                m.track_end,
                m.speed,
                m.pitch,
                // One field: the places joined by semicolons.
                m.also_at
                    .iter()
                    .map(|t| format!("{t:.3}"))
                    .collect::<Vec<_>>()
                    .join(";"),
                m.peak_check
                    .map_or(String::new(), |c| format!("{:.2}", c.evidence())),
                m.evidence
            )?;
        }
        if let Some(f) = &o.failure {
            writeln!(
                self.out,
                "{item},{member},,,,,,,,,,{},,,,{},{about},,",
                csv_field(&f.message),
                f.kind.name()
            )?;
        }
        if o.skipped == Some(Skip::TooShort) {
            writeln!(
                self.out,
                "{item},{member},,,,,,,,,,skipped: {:.2} s of audio is too short to fingerprint,,,,too_short,{about},,",
                o.seconds
            )?;
        }
        if o.clean() {
            writeln!(self.out, "{item},{member},,,,,,,,,,,,,,,{about},true,")?;
        }
        self.out.flush()
    }
}

/// Two reporters fed the same records: the demo writes the JSON Lines a report is made from
/// and shows a person the same matches as lines.
pub struct Both<A, B>(pub A, pub B);

impl<A: Reporter, B: Reporter> Reporter for Both<A, B> {
    fn start(&mut self, provenance: &Provenance) -> io::Result<()> {
        self.0.start(provenance)?;
        self.1.start(provenance)
    }
    fn outcome(&mut self, outcome: &Outcome) -> io::Result<()> {
        self.0.outcome(outcome)?;
        self.1.outcome(outcome)
    }
    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.0.finish(summary)?;
        self.1.finish(summary)
    }
}

/// Readable lines for a person at a terminal (`earmark query`).
pub struct Human<W: Write> {
    out: W,
}

impl<W: Write> Human<W> {
    pub fn new(out: W) -> Self {
        Human { out }
    }
}

fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    format!("{}:{:04.1}", (s / 60.0) as u64, s % 60.0)
}

impl<W: Write> Reporter for Human<W> {
    fn outcome(&mut self, o: &Outcome) -> io::Result<()> {
        let name = o.name();
        if o.skipped == Some(Skip::TooShort) {
            writeln!(
                self.out,
                "{name}: skipped: {:.2} s of audio is too short to fingerprint",
                o.seconds
            )?;
        } else if o.found.is_empty() && o.failure.is_none() {
            writeln!(
                self.out,
                "{name}: no catalogue recording found ({:.1} s scanned)",
                o.seconds
            )?;
        }
        for f in &o.found {
            let m = &f.m;
            let ext = if f.external_id.is_empty() {
                String::new()
            } else {
                format!(" [{}]", f.external_id)
            };
            let mut speed = if m.speed == 1.0 {
                String::new()
            } else {
                format!(", speed {:.3}", m.speed)
            };
            if m.pitch != 0.0 {
                speed += &format!(", pitch {:+.2} semitones", m.pitch);
            }
            if let Some(c) = m.peak_check {
                speed += &format!(
                    "; {} of the track's {} peaks heard, {:.1} expected by chance",
                    c.matched, c.reference, c.expected
                );
            }
            if !m.also_at.is_empty() {
                let places: Vec<String> = m.also_at.iter().map(|&t| clock(t)).collect();
                speed += &format!("; the track repeats it, also at {}", places.join(", "));
            }
            writeln!(
                self.out,
                "{name}: {}{ext} at {}–{} of the item = {}–{} of the track (score {}, evidence {:.1}{speed})",
                f.track,
                clock(m.item_start),
                clock(m.item_end),
                clock(m.track_start),
                clock(m.track_end),
                m.score,
                m.evidence
            )?;
        }
        if let Some(f) = &o.failure {
            let what = if o.partial { "warning" } else { "error" };
            writeln!(self.out, "{name}: {what}: {f}")?;
        }
        self.out.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        writeln!(self.out, "{}", summary.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TrackId;

    fn outcome() -> Outcome {
        Outcome {
            item: "dump/a,b.tar".into(),
            member: Some("000001.mp3".into()),
            seconds: 10.0,
            found: vec![Found {
                track: "wesnoth/battle.ogg".into(),
                external_id: String::new(),
                catalogue: None,
                m: Match {
                    track: TrackId(0),
                    score: 42,
                    confidence: 0.999_99,
                    evidence: 25.36,
                    item_start: 0.1234,
                    item_end: 9.5,
                    track_start: 3.0,
                    track_end: 12.4,
                    speed: 1.0,
                    pitch: 0.0,
                    also_at: vec![27.0, 51.125],
                    peak_check: Some(crate::matcher::PeakCheck {
                        reference: 80,
                        matched: 60,
                        expected: 9.876,
                        trials: 5,
                        log_chance: -60.0,
                    }),
                    alignment: MatchAlignment {
                        pairs: 3,
                        item_cs: vec![12, 500, 950],
                        track_cs: vec![300, 788, 1240],
                        speed: 1.000_000_4,
                        offset: 2.876_54,
                        repeats: vec![Repeat {
                            item_start: 0.1234,
                            item_end: 9.5,
                            track_start: 27.0,
                            track_end: 36.375_55,
                        }],
                    },
                },
            }],
            failure: None,
            partial: false,
            skipped: None,
            bytes: 0,
            blake3: None,
            row: None,
            dataset: None,
            processing_seconds: 0.0,
        }
    }

    #[test]
    fn json_lines_keep_the_contract_fields() {
        let lines = json_lines(&outcome());
        let v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
        for key in [
            "item",
            "member",
            "track",
            "score",
            "confidence",
            "item_start",
            "item_end",
            "track_start",
            "track_end",
            "speed",
            "pitch",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["item_start"], 0.123);
        assert_eq!(v["also_at"], serde_json::json!([27.0, 51.125]));
        assert_eq!(
            (&v["evidence"], &v["seconds"]),
            (&25.36.into(), &10.0.into())
        );
        assert_eq!(
            v["alignment"],
            serde_json::json!({
                "pairs": 3,
                "item_cs": [12, 500, 950],
                "track_cs": [300, 788, 1240],
                "line": {"speed": 1.0, "offset": 2.877},
                "repeats": [
                    {"item_start": 0.123, "item_end": 9.5, "track_start": 27.0, "track_end": 36.376}
                ]
            })
        );
        // The alignment comes last, after the item's own fields: the bulk of a record.
        assert!(lines[0].find("\"alignment\"") > lines[0].find("\"seconds\""));
        let once = Outcome {
            found: vec![Found {
                m: Match {
                    also_at: vec![],
                    alignment: MatchAlignment {
                        repeats: vec![],
                        ..outcome().found[0].m.alignment.clone()
                    },
                    ..outcome().found[0].m.clone()
                },
                ..outcome().found[0].clone()
            }],
            ..outcome()
        };
        assert_eq!(v["peak_check"]["matched"], 60);
        assert_eq!(v["peak_check"]["expected"], 9.88);
        assert!(v["peak_check"]["evidence"].as_f64().unwrap() > 20.0);
        let once = Outcome {
            found: vec![Found {
                m: Match {
                    peak_check: None,
                    ..once.found[0].m.clone()
                },
                ..once.found[0].clone()
            }],
            ..once
        };
        let v: serde_json::Value = serde_json::from_str(&json_lines(&once)[0]).unwrap();
        assert!(v["alignment"].get("repeats").is_none());
        assert!(
            v.get("also_at").is_none(),
            "a passage played once has no also_at"
        );
        assert!(
            v.get("peak_check").is_none(),
            "a match without stored peaks has no peak_check"
        );
        let plain = Outcome {
            member: None,
            found: vec![],
            failure: Some(Failure::new(FailureKind::Corrupt, "broken")),
            ..outcome()
        };
        let e: serde_json::Value = serde_json::from_str(&json_lines(&plain)[0]).unwrap();
        assert!(e.get("member").is_none());
        assert_eq!(e["error"], "broken");
        assert_eq!(e["kind"], "corrupt");
        assert!(e.get("partial").is_none());
    }

    #[test]
    fn csv_quotes_awkward_names() {
        let mut out = Vec::new();
        let mut csv = Csv::new(&mut out);
        csv.outcome(&outcome()).unwrap();
        csv.outcome(&Outcome {
            found: vec![],
            failure: Some(Failure::new(FailureKind::Truncated, "cut short")),
            partial: true,
            ..outcome()
        })
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .starts_with("\"dump/a,b.tar\",000001.mp3,wesnoth/battle.ogg,")
        );
        let header = text.lines().next().unwrap().split(',').count();
        // Every row has the header's columns (the quoted item name holds one more comma).
        for line in text.lines().skip(1) {
            assert_eq!(line.split(',').count(), header + 1, "{line}");
        }
        let evidence = outcome().found[0].m.peak_check.unwrap().evidence();
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .ends_with(&format!(",27.000;51.125,{evidence:.2},,,,,25.36"))
        );
        assert!(
            text.lines()
                .nth(2)
                .unwrap()
                .ends_with(",cut short,,,,truncated,,,,")
        );
    }
}
