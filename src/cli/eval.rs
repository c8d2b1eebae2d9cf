//! `earmark eval`: scores a ground-truth file of queries against an index (the library's
//! `eval`), prints the table per degradation, and writes the `--json`, `--misses` and
//! `--answers` files.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::Status;
use crate::eval::{self, Row};
use crate::index::Index;
use crate::output::{self, Output};
use crate::scan::ScanOptions;

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

/// One row of the table.
fn print_row(row: &Row, name: &str) {
    let recall = row
        .recall
        .map_or_else(|| "-".into(), |r| format!("{:.1}%", 100.0 * r));
    let offset = row
        .mean_offset_error_s
        .map_or_else(|| "-".into(), |e| format!("{e:.3}"));
    let speed = row
        .x_real_time_per_core
        .map_or_else(|| "-".into(), |x| format!("{x:.0}x"));
    println!(
        "{name:<28} {:>7} {recall:>8} {:>6} {:>6} {:>7} {offset:>9} {speed:>9}",
        row.queries, row.wrong, row.false_positives, row.errors
    );
}

/// An output file, claimed and created (its earlier content replaced), or nothing.
fn create(
    path: Option<&PathBuf>,
    what: Output,
    args: &EvalArgs,
) -> anyhow::Result<Option<std::io::BufWriter<std::fs::File>>> {
    let Some(path) = path else { return Ok(None) };
    output::claim(
        path,
        what,
        Some(&args.index),
        std::slice::from_ref(&args.truth),
        args.force,
    )?;
    let file =
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    Ok(Some(std::io::BufWriter::new(file)))
}

pub fn run(args: EvalArgs) -> anyhow::Result<Status> {
    let queries = eval::read_truth(&args.truth)?;
    let index = Index::open(&args.index)?;
    index.check_tables()?;
    if let Some(path) = &args.json {
        output::claim(
            path,
            Output::EvalJson,
            Some(&args.index),
            std::slice::from_ref(&args.truth),
            args.force,
        )?;
    }
    let mut misses = create(args.misses.as_ref(), Output::EvalTsv, &args)?;
    let mut answers = create(args.answers.as_ref(), Output::EvalTsv, &args)?;
    let options = ScanOptions {
        jobs: args.jobs,
        query: args.matching.query()?,
        ..ScanOptions::default()
    };
    let result = eval::evaluate(
        &queries,
        &index,
        &options,
        misses.as_mut().map(|w| w as &mut dyn Write),
        answers.as_mut().map(|w| w as &mut dyn Write),
    )?;
    for (out, path) in [(misses, &args.misses), (answers, &args.answers)] {
        if let (Some(mut out), Some(path)) = (out, path) {
            out.flush()
                .with_context(|| format!("writing {}", path.display()))?;
        }
    }
    println!(
        "{:<28} {:>7} {:>8} {:>6} {:>6} {:>7} {:>9} {:>9}",
        "degradation", "queries", "recall", "wrong", "FP", "errors", "offset_s", "xRT/core"
    );
    for (name, row) in &result.rows {
        print_row(row, name);
    }
    print_row(&result.totals, "(all)");
    let s = &result.summary;
    println!(
        "{} queries, {:.2} hours, {:.1} s wall, {:.0}x real time, {:.1} queries/s \
         (xRT/core: audio over summed per-query processing time, one core)",
        s.items,
        s.seconds / 3600.0,
        s.wall_seconds,
        s.seconds / s.wall_seconds.max(1e-9),
        s.items as f64 / s.wall_seconds.max(1e-9)
    );
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&result.json(&args.index))? + "\n";
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if result.totals.wrong + result.totals.false_positives > 0 {
        Status::ItemsFailed
    } else {
        Status::Found
    })
}
