//! `earmark eval`: runs a ground-truth file of queries against an index and reports, per
//! degradation, recall, wrong-track answers, false positives and throughput.
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
//! `--misses` writes one TSV line per query that was not right (its best-scoring answer, or
//! `none`, or the error); `--answers` one line per answer of every query, with its verdict, for
//! threshold studies.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::Status;
use crate::index::Index;
use crate::output::{self, Output};
use crate::report::{Found, Outcome, Reporter};
use crate::scan::{self, ScanOptions};

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Ground truth: query, track, offset, degradation (TSV with a header line).
    pub truth: PathBuf,
    /// The catalogue index.
    #[arg(long)]
    pub index: PathBuf,
    /// Also write the per-degradation figures as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write a TSV of every query that was not right (best answer, none, or error) here.
    #[arg(long)]
    pub misses: Option<PathBuf>,
    /// Write a TSV of every answer of every query, with its verdict, here.
    #[arg(long)]
    pub answers: Option<PathBuf>,
    /// Worker threads (0 = all cores).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,
    /// Replace output files that earmark did not write.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub matching: super::MatchArgs,
}

/// Tolerance on the query's placement in the track, seconds.
const OFFSET_TOLERANCE: f64 = 1.5;

struct Query {
    /// The query as the truth file names it.
    name: String,
    path: PathBuf,
    track: String,
    offset: f64,
    degradation: String,
}

/// Figures for one degradation (or all of them). Counts are of queries unless named answers.
#[derive(Debug, Default, Clone, Serialize)]
struct Row {
    queries: u64,
    in_catalogue: u64,
    not_in_catalogue: u64,
    right: u64,
    /// Right over in-catalogue queries; `null` when there are none.
    recall: Option<f64>,
    /// In-catalogue queries that named at least one other track.
    wrong: u64,
    /// Answers naming another track than the expected one (a query may give several).
    wrong_track: u64,
    /// Not-in-catalogue queries that named any track.
    false_positives: u64,
    /// Answers given to not-in-catalogue queries.
    false_positive_answers: u64,
    errors: u64,
    /// Seconds of audio analysed.
    seconds: f64,
    /// Summed wall time of each query's own processing, seconds.
    processing_seconds: f64,
    /// `seconds / processing_seconds`: throughput of one core; `null` when nothing was timed.
    x_real_time_per_core: Option<f64>,
    /// Mean |reported − true| track offset of right answers, seconds (0 when none: kept for
    /// old readers; see `mean_offset_error_s`).
    offset_error: f64,
    /// The same, `null` when no query was right.
    mean_offset_error_s: Option<f64>,
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

    fn print(&self, name: &str) {
        let recall = self
            .recall
            .map_or_else(|| "-".into(), |r| format!("{:.1}%", 100.0 * r));
        let offset = self
            .mean_offset_error_s
            .map_or_else(|| "-".into(), |e| format!("{e:.3}"));
        let speed = self
            .x_real_time_per_core
            .map_or_else(|| "-".into(), |x| format!("{x:.0}x"));
        println!(
            "{name:<28} {:>7} {recall:>8} {:>6} {:>6} {:>7} {offset:>9} {speed:>9}",
            self.queries, self.wrong, self.false_positives, self.errors
        );
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

/// A TSV file with its header written, or nothing.
fn create_tsv(
    path: Option<&Path>,
    header: &[&str],
) -> anyhow::Result<Option<std::io::BufWriter<std::fs::File>>> {
    let Some(path) = path else { return Ok(None) };
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "{}", header.join("\t"))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Some(out))
}

pub fn run(args: EvalArgs) -> anyhow::Result<Status> {
    let text = std::fs::read_to_string(&args.truth)
        .with_context(|| format!("reading {}", args.truth.display()))?;
    let base = args.truth.parent().unwrap_or(Path::new("."));
    let mut queries: Vec<Query> = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        anyhow::ensure!(
            f.len() >= 4,
            "{}:{}: expected query, track, offset, degradation",
            args.truth.display(),
            n + 1
        );
        let offset = if f[2].is_empty() {
            0.0
        } else {
            f[2].parse()
                .with_context(|| format!("{}:{}: bad offset", args.truth.display(), n + 1))?
        };
        queries.push(Query {
            name: f[0].to_string(),
            path: base.join(f[0]),
            track: f[1].to_string(),
            offset,
            degradation: f[3].to_string(),
        });
    }
    let index = Index::open(&args.index)?;
    index.check_tables()?;
    for (path, what) in [
        (&args.json, Output::EvalJson),
        (&args.misses, Output::EvalTsv),
        (&args.answers, Output::EvalTsv),
    ] {
        if let Some(path) = path {
            output::claim(
                path,
                what,
                Some(&args.index),
                std::slice::from_ref(&args.truth),
                args.force,
            )?;
        }
    }
    let options = ScanOptions {
        jobs: args.jobs,
        query: args.matching.query(),
        ..ScanOptions::default()
    };
    let inputs: Vec<PathBuf> = queries.iter().map(|q| q.path.clone()).collect();
    let mut collect = Collect(HashMap::new());
    let summary = scan::scan(&index, inputs, &options, &mut collect)?;

    let mut misses = create_tsv(
        args.misses.as_deref(),
        &[
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
        ],
    )?;
    let mut answers = create_tsv(
        args.answers.as_deref(),
        &[
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
        ],
    )?;
    let misses_path = args.misses.as_deref().unwrap_or(Path::new("misses"));
    let answers_path = args.answers.as_deref().unwrap_or(Path::new("answers"));

    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for q in &queries {
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
                .with_context(|| format!("writing {}", answers_path.display()))?;
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
            .with_context(|| format!("writing {}", misses_path.display()))?;
        }
    }
    for (out, path) in [(misses, misses_path), (answers, answers_path)] {
        if let Some(mut out) = out {
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }

    println!(
        "{:<28} {:>7} {:>8} {:>6} {:>6} {:>7} {:>9} {:>9}",
        "degradation", "queries", "recall", "wrong", "FP", "errors", "offset_s", "xRT/core"
    );
    let mut totals = Row::default();
    for (name, row) in rows.iter_mut() {
        totals.add(row);
        row.finish();
        row.print(name);
    }
    totals.finish();
    totals.print("(all)");
    println!(
        "{} queries, {:.2} hours, {:.1} s wall, {:.0}x real time, {:.1} queries/s \
         (xRT/core: audio over summed per-query processing time, one core)",
        summary.items,
        summary.seconds / 3600.0,
        summary.wall_seconds,
        summary.seconds / summary.wall_seconds.max(1e-9),
        summary.items as f64 / summary.wall_seconds.max(1e-9)
    );
    if let Some(path) = &args.json {
        #[derive(Serialize)]
        struct Report<'a> {
            index: String,
            queries: u64,
            wall_seconds: f64,
            audio_seconds: f64,
            /// Tolerance on the query's placement for a right answer, seconds.
            offset_tolerance_s: f64,
            degradations: &'a BTreeMap<String, Row>,
            totals: &'a Row,
        }
        let report = Report {
            index: args.index.display().to_string(),
            queries: summary.items,
            wall_seconds: summary.wall_seconds,
            audio_seconds: summary.seconds,
            offset_tolerance_s: OFFSET_TOLERANCE,
            degradations: &rows,
            totals: &totals,
        };
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if totals.wrong + totals.false_positives > 0 {
        Status::ItemsFailed
    } else {
        Status::Found
    })
}
