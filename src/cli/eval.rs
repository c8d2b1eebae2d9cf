//! `earmark eval`: runs a ground-truth file of queries against an index and reports, per
//! degradation, recall, wrong-track answers, false positives and throughput.
//!
//! Ground truth is TSV with a header line: `query<TAB>track<TAB>offset<TAB>degradation`, where
//! `query` is a path (relative to the TSV's folder), `track` the expected catalogue track id
//! (empty when the query holds no catalogue recording), and `offset` the second of the track
//! at which the query starts. An answer is right when it names the track and places the query's
//! start within 1.5 s of `offset`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use serde::Serialize;

use super::Status;
use crate::index::Index;
use crate::report::{Outcome, Reporter};
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
    /// Worker threads (0 = all cores).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,
    #[command(flatten)]
    pub matching: super::MatchArgs,
}

/// Tolerance on the query's placement in the track, seconds.
const OFFSET_TOLERANCE: f64 = 1.5;

struct Query {
    track: String,
    offset: f64,
    degradation: String,
}

/// Figures for one degradation.
#[derive(Debug, Default, Serialize)]
struct Row {
    queries: u64,
    in_catalogue: u64,
    right: u64,
    wrong_track: u64,
    false_positives: u64,
    errors: u64,
    seconds: f64,
    /// Mean |reported − true| track offset of right answers, seconds.
    offset_error: f64,
}

struct Collect(HashMap<String, Outcome>);

impl Reporter for Collect {
    fn outcome(&mut self, o: &Outcome) -> std::io::Result<()> {
        self.0.insert(o.item.clone(), o.clone());
        Ok(())
    }
}

pub fn run(args: EvalArgs) -> anyhow::Result<Status> {
    let text = std::fs::read_to_string(&args.truth)
        .with_context(|| format!("reading {}", args.truth.display()))?;
    let base = args.truth.parent().unwrap_or(Path::new("."));
    let mut queries: Vec<(PathBuf, Query)> = Vec::new();
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
        queries.push((
            base.join(f[0]),
            Query {
                track: f[1].to_string(),
                offset,
                degradation: f[3].to_string(),
            },
        ));
    }
    let index = Index::open(&args.index)?;
    let options = ScanOptions {
        jobs: args.jobs,
        query: args.matching.query(),
        ..ScanOptions::default()
    };
    let inputs: Vec<PathBuf> = queries.iter().map(|(p, _)| p.clone()).collect();
    let mut collect = Collect(HashMap::new());
    let summary = scan::scan(&index, &inputs, &options, &mut collect)?;

    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    for (path, q) in &queries {
        let row = rows.entry(q.degradation.clone()).or_default();
        row.queries += 1;
        let Some(o) = collect.0.get(&path.display().to_string()) else {
            continue;
        };
        row.seconds += o.seconds;
        row.errors += u64::from(o.error.is_some() && !o.partial);
        if q.track.is_empty() {
            row.false_positives += o.found.len() as u64;
            continue;
        }
        row.in_catalogue += 1;
        row.wrong_track += o.found.iter().filter(|f| f.track != q.track).count() as u64;
        // Where the match puts the query's start in the track.
        let best = o
            .found
            .iter()
            .filter(|f| f.track == q.track)
            .map(|f| (f.m.track_start - f.m.item_start * f.m.speed - q.offset).abs())
            .fold(f64::INFINITY, f64::min);
        if best <= OFFSET_TOLERANCE {
            row.right += 1;
            row.offset_error += best;
        }
    }
    println!(
        "{:<28} {:>7} {:>8} {:>6} {:>6} {:>7} {:>9}",
        "degradation", "queries", "recall", "wrong", "FP", "errors", "offset_s"
    );
    for (name, row) in rows.iter_mut() {
        if row.right > 0 {
            row.offset_error /= row.right as f64;
        }
        let recall = if row.in_catalogue > 0 {
            format!("{:.1}%", 100.0 * row.right as f64 / row.in_catalogue as f64)
        } else {
            "-".into()
        };
        println!(
            "{name:<28} {:>7} {recall:>8} {:>6} {:>6} {:>7} {:>9.3}",
            row.queries, row.wrong_track, row.false_positives, row.errors, row.offset_error
        );
    }
    println!(
        "{} queries, {:.2} hours, {:.1} s wall, {:.0}x real time, {:.1} queries/s",
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
            degradations: &'a BTreeMap<String, Row>,
        }
        let report = Report {
            index: args.index.display().to_string(),
            queries: summary.items,
            wall_seconds: summary.wall_seconds,
            audio_seconds: summary.seconds,
            degradations: &rows,
        };
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let wrong: u64 = rows
        .values()
        .map(|r| r.wrong_track + r.false_positives)
        .sum();
    Ok(if wrong > 0 {
        Status::CompletedWithErrors
    } else {
        Status::Found
    })
}
