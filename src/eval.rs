//! Scoring against ground truth (`earmark eval`): runs a ground-truth file of queries against an
//! index and reports, per degradation, recall, wrong-track answers, false positives and throughput.
//!
//! Ground truth is TSV with a header line: `query<TAB>track<TAB>offset<TAB>degradation`, where
//! `query` is a path (relative to the TSV's folder), `track` the expected catalogue track id
//! (empty when the query holds no catalogue recording), and `offset` the second of the track
//! at which the query starts. An answer is right when it names the track and places the query's
//! start within 1.5 s of `offset`, at its best place or at one of the places where the track
//! repeats the passage (`also_at`): which repeat an excerpt of a loop was cut from cannot be
//! heard.
//!
//! Counts are per query, not per answer: a query is *right* when one of its answers is right,
//! *wrong* when it is in the catalogue and names at least one other track (however many), and a
//! *false positive* when it is not in the catalogue and names any track at all. A query can be
//! both right and wrong. An answer naming the expected track at the wrong place is neither right
//! nor wrong. Throughput (`xRT/core`) is audio seconds over the summed wall time of each query's
//! own processing (open, decode, fingerprint, match): queries run in parallel, so it is the
//! speed of one core, not of the run; the closing line gives the run's speed.
//!
//! [`evaluate`] writes, where asked, one TSV line per query that was not right (its
//! best-scoring answer, or `none`, or the error: `--misses`) and one per answer of every query
//! with its verdict (`--answers`), for threshold studies.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::index::Index;
use crate::report::{Found, Outcome, Reporter, Summary};
use crate::scan::{self, ScanOptions};

/// Tolerance on the query's placement in the track, seconds.
pub const OFFSET_TOLERANCE: f64 = 1.5;

pub struct Query {
    /// The query as the truth file names it.
    pub name: String,
    pub path: PathBuf,
    pub track: String,
    pub offset: f64,
    pub degradation: String,
}

/// Figures for one degradation (or all of them). Counts are of queries unless named answers.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Row {
    pub queries: u64,
    pub in_catalogue: u64,
    pub not_in_catalogue: u64,
    pub right: u64,
    /// Right over in-catalogue queries; `null` when there are none.
    pub recall: Option<f64>,
    /// In-catalogue queries that named at least one other track.
    pub wrong: u64,
    /// Answers naming another track than the expected one (a query may give several).
    pub wrong_track: u64,
    /// Not-in-catalogue queries that named any track.
    pub false_positives: u64,
    /// Answers given to not-in-catalogue queries.
    pub false_positive_answers: u64,
    pub errors: u64,
    /// Seconds of audio analysed.
    pub seconds: f64,
    /// Summed wall time of each query's own processing, seconds.
    pub processing_seconds: f64,
    /// `seconds / processing_seconds`: throughput of one core; `null` when nothing was timed.
    pub x_real_time_per_core: Option<f64>,
    /// Mean |reported − true| track offset of right answers, seconds (0 when none: kept for
    /// old readers; see `mean_offset_error_s`).
    pub offset_error: f64,
    /// The same, `null` when no query was right.
    pub mean_offset_error_s: Option<f64>,
}

impl Row {
    fn add(&mut self, other: &Row) {
        self.queries += other.queries;
        self.in_catalogue += other.in_catalogue;
        self.not_in_catalogue += other.not_in_catalogue;
        self.right += other.right;
        self.wrong += other.wrong;
        self.wrong_track += other.wrong_track;
        self.false_positives += other.false_positives;
        self.false_positive_answers += other.false_positive_answers;
        self.errors += other.errors;
        self.seconds += other.seconds;
        self.processing_seconds += other.processing_seconds;
        self.offset_error += other.offset_error;
    }

    /// Turns the sums into ratios; call once, after the last `add` or query.
    fn finish(&mut self) {
        self.recall = (self.in_catalogue > 0).then(|| self.right as f64 / self.in_catalogue as f64);
        self.x_real_time_per_core =
            (self.processing_seconds > 0.0).then(|| self.seconds / self.processing_seconds);
        self.mean_offset_error_s = (self.right > 0).then(|| self.offset_error / self.right as f64);
        self.offset_error = self.mean_offset_error_s.unwrap_or(0.0);
    }
}

/// How one answer relates to the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The expected track, placed within the tolerance.
    Right,
    /// The expected track, placed elsewhere.
    Misplaced,
    /// Another track, for an in-catalogue query.
    Wrong,
    /// Any track, for a not-in-catalogue query.
    FalsePositive,
}

impl Verdict {
    fn name(self) -> &'static str {
        match self {
            Verdict::Right => "right",
            Verdict::Misplaced => "misplaced",
            Verdict::Wrong => "wrong",
            Verdict::FalsePositive => "fp",
        }
    }
}

/// Where the answer puts the query's start in the track, seconds: its best place first, then
/// the track's repeats of the passage (`also_at`).
fn placements(f: &Found) -> impl Iterator<Item = f64> + '_ {
    std::iter::once(f.m.track_start)
        .chain(f.m.also_at.iter().copied())
        .map(|at| at - f.m.item_start * f.m.speed)
}

/// The answer's placement nearest the true offset.
fn placed(f: &Found, offset: f64) -> f64 {
    placements(f)
        .min_by(|a, b| (a - offset).abs().total_cmp(&(b - offset).abs()))
        .expect("an answer has at least its best place")
}

fn judge(q: &Query, f: &Found) -> Verdict {
    if q.track.is_empty() {
        Verdict::FalsePositive
    } else if f.track != q.track {
        Verdict::Wrong
    } else if (placed(f, q.offset) - q.offset).abs() <= OFFSET_TOLERANCE {
        Verdict::Right
    } else {
        Verdict::Misplaced
    }
}

/// A TSV field: tabs and line breaks become spaces.
fn tsv(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

fn expected_offset(q: &Query) -> String {
    if q.track.is_empty() {
        String::new()
    } else {
        format!("{:.3}", q.offset)
    }
}

struct Collect(HashMap<String, Outcome>);

impl Reporter for Collect {
    fn outcome(&mut self, o: &Outcome) -> std::io::Result<()> {
        self.0.insert(o.item.clone(), o.clone());
        Ok(())
    }
}

/// Reads a ground-truth file (its query paths relative to its folder).
pub fn read_truth(path: &Path) -> Result<Vec<Query>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let bad = |n: usize, why: &str| Error::Invalid(format!("{}:{}: {why}", path.display(), n + 1));
    let mut queries = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        if f.len() < 4 {
            return Err(bad(n, "expected query, track, offset, degradation"));
        }
        let offset = if f[2].is_empty() {
            0.0
        } else {
            f[2].parse().map_err(|_| bad(n, "bad offset"))?
        };
        queries.push(Query {
            name: f[0].to_string(),
            path: base.join(f[0]),
            track: f[1].to_string(),
            offset,
            degradation: f[3].to_string(),
        });
    }
    Ok(queries)
}

/// The figures of one run: per degradation, in total, and the scan's own.
pub struct Evaluation {
    pub rows: BTreeMap<String, Row>,
    pub totals: Row,
    pub summary: Summary,
}

impl Evaluation {
    /// The `--json` report.
    pub fn json(&self, index: &Path) -> serde_json::Value {
        serde_json::json!({
            "index": index.display().to_string(),
            "queries": self.summary.items,
            "wall_seconds": self.summary.wall_seconds,
            "audio_seconds": self.summary.seconds,
            "offset_tolerance_s": OFFSET_TOLERANCE,
            "degradations": self.rows,
            "totals": self.totals,
        })
    }
}

/// Header of the `--misses` TSV.
pub const MISSES_HEADER: &[&str] = &[
    "query",
    "degradation",
    "expected_track",
    "expected_offset",
    "answered",
    "item_start",
    "track_start",
    "offset",
    "score",
    "confidence",
    "answers",
    "error",
];
/// Header of the `--answers` TSV.
pub const ANSWERS_HEADER: &[&str] = &[
    "query",
    "degradation",
    "expected_track",
    "expected_offset",
    "track",
    "score",
    "confidence",
    "item_start",
    "track_start",
    "offset",
    "verdict",
    "item_end",
    "speed",
    "pitch",
    "peak_evidence",
    "peaks_matched",
    "peaks_expected",
    "peaks_reference",
];

/// Scans `queries` against `index` and scores every answer; writes the `--misses` and
/// `--answers` lines (headers included) where given.
pub fn evaluate(
    queries: &[Query],
    index: &Index,
    options: &ScanOptions,
    mut misses: Option<&mut dyn Write>,
    mut answers: Option<&mut dyn Write>,
) -> Result<Evaluation> {
    let inputs: Vec<PathBuf> = queries.iter().map(|q| q.path.clone()).collect();
    let mut collect = Collect(HashMap::new());
    let summary = scan::scan(index, inputs, options, &mut collect)?;
    if let Some(out) = misses.as_mut() {
        writeln!(out, "{}", MISSES_HEADER.join("\t"))
            .map_err(|e| Error::io("the --misses file", e))?;
    }
    if let Some(out) = answers.as_mut() {
        writeln!(out, "{}", ANSWERS_HEADER.join("\t"))
            .map_err(|e| Error::io("the --answers file", e))?;
    }
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for q in queries {
        let row = rows.entry(q.degradation.clone()).or_default();
        row.queries += 1;
        if q.track.is_empty() {
            row.not_in_catalogue += 1;
        } else {
            row.in_catalogue += 1;
        }
        let outcome = collect.0.get(&q.path.display().to_string());
        let (found, error): (&[Found], Option<&str>) = match outcome {
            Some(o) => {
                row.seconds += o.seconds;
                row.processing_seconds += o.processing_seconds;
                row.errors += u64::from(o.failed());
                (&o.found, o.failure.as_ref().map(|f| f.message.as_str()))
            }
            None => (&[], Some("not scanned")),
        };
        let verdicts: Vec<Verdict> = found.iter().map(|f| judge(q, f)).collect();
        let count = |v: Verdict| verdicts.iter().filter(|&&x| x == v).count() as u64;
        row.wrong_track += count(Verdict::Wrong);
        row.wrong += u64::from(count(Verdict::Wrong) > 0);
        row.false_positive_answers += count(Verdict::FalsePositive);
        row.false_positives += u64::from(count(Verdict::FalsePositive) > 0);
        // The best placement among right answers.
        let best = found
            .iter()
            .zip(&verdicts)
            .filter(|(_, v)| **v == Verdict::Right)
            .map(|(f, _)| (placed(f, q.offset) - q.offset).abs())
            .fold(f64::INFINITY, f64::min);
        let right = best.is_finite();
        if right {
            row.right += 1;
            row.offset_error += best;
        }
        let expected = [
            tsv(&q.name),
            tsv(&q.degradation),
            tsv(&q.track),
            expected_offset(q),
        ]
        .join("\t");
        if let Some(out) = answers.as_mut() {
            for (f, v) in found.iter().zip(&verdicts) {
                // Empty where the track was matched without a peak check.
                let check = f.m.peak_check.map_or_else(
                    || "\t\t\t".to_string(),
                    |c| {
                        format!(
                            "{:.2}\t{}\t{:.2}\t{}",
                            c.evidence(),
                            c.matched,
                            c.expected,
                            c.reference
                        )
                    },
                );
                writeln!(
                    out,
                    "{expected}\t{}\t{}\t{:.4}\t{:.3}\t{:.3}\t{:.3}\t{}\t{:.3}\t{}\t{}\t{check}",
                    tsv(&f.track),
                    f.m.score,
                    f.m.confidence,
                    f.m.item_start,
                    f.m.track_start,
                    placed(f, q.offset),
                    v.name(),
                    f.m.item_end,
                    f.m.speed,
                    f.m.pitch
                )
                .map_err(|e| Error::io("the --answers file", e))?;
            }
        }
        // A not-in-catalogue query is right when it gets no answer.
        let missed = if q.track.is_empty() {
            !found.is_empty() || (error.is_some() && outcome.is_none_or(|o| !o.partial))
        } else {
            !right
        };
        if let (true, Some(out)) = (missed, misses.as_mut()) {
            let answer = match found.iter().max_by_key(|f| f.m.score) {
                Some(f) => format!(
                    "{}\t{:.3}\t{:.3}\t{:.3}\t{}\t{:.4}",
                    tsv(&f.track),
                    f.m.item_start,
                    f.m.track_start,
                    placed(f, q.offset),
                    f.m.score,
                    f.m.confidence
                ),
                None => "none\t\t\t\t\t".to_string(),
            };
            writeln!(
                out,
                "{expected}\t{answer}\t{}\t{}",
                found.len(),
                error.map(tsv).unwrap_or_default()
            )
            .map_err(|e| Error::io("the --misses file", e))?;
        }
    }
    let mut totals = Row::default();
    for row in rows.values_mut() {
        totals.add(row);
        row.finish();
    }
    totals.finish();
    Ok(Evaluation {
        rows,
        totals,
        summary,
    })
}
