//! `earmark merge`: combines the JSON Lines outputs of several shards (or runs) into one
//! result, without duplicates, in a deterministic order (item, member, then time), ending in
//! one summary record that adds up the shards' own.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::Status;
use crate::output::{self, Output};
use crate::report::{Skip, Summary, count};

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// JSON Lines outputs of `earmark scan`.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The merged output (standard output when absent).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Replace an --output that earmark did not write (never an input).
    #[arg(long)]
    pub force: bool,
}

/// Sort key: item, member, start in the item, then the whole line.
type Key = (String, String, i64, String);

pub fn run(args: MergeArgs) -> anyhow::Result<Status> {
    if let Some(path) = &args.output {
        output::claim(path, Output::Merged, None, &args.inputs, args.force)?;
    }
    let mut lines: BTreeSet<Key> = BTreeSet::new();
    let (mut read, mut matches, mut errors) = (0u64, 0u64, 0u64);
    // Summaries by shard: a shard scanned twice (a retried job) is counted once.
    let mut by_shard: BTreeMap<String, Summary> = BTreeMap::new();
    let mut summary = Summary::default();
    let mut summaries = 0;
    for path in &args.inputs {
        let file =
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        for (n, line) in BufReader::new(file).lines().enumerate() {
            let line = line.with_context(|| format!("reading {}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: not a JSON object (an interrupted shard? finish it with --resume first)", path.display(), n + 1))?;
            if let Some(s) = v.get("summary").and_then(Summary::from_record) {
                match &s.shard {
                    Some(shard) => {
                        by_shard.insert(shard.clone(), s);
                    }
                    None => add(&mut summary, &s),
                }
                summaries += 1;
                continue;
            }
            let text = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            let start = v
                .get("item_start")
                .and_then(|x| x.as_f64())
                .map_or(-1, |s| (s * 1000.0).round() as i64);
            // Re-serialised, so equal records from different files compare equal byte for byte.
            if lines.insert((text("item"), text("member"), start, v.to_string())) {
                matches += u64::from(v.get("track").is_some());
                errors += u64::from(v.get("error").is_some());
            }
            read += 1;
        }
    }
    for s in by_shard.values() {
        add(&mut summary, s);
    }
    // A file in one shard is in no other: the merged scan saw each once.
    summary.skipped.remove(&Skip::OtherShard);
    summary.shard = None;
    let out: Box<dyn Write> = match &args.output {
        Some(p) => {
            Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?)
        }
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::new(out);
    for (_, _, _, line) in &lines {
        writeln!(out, "{line}")?;
    }
    if summaries > 0 {
        writeln!(out, "{}", summary.record())?;
    }
    out.flush()?;
    eprintln!(
        "earmark: merged {read} lines from {} into {} ({}, {}, {} dropped as duplicates)",
        count(args.inputs.len() as u64, "file", "files"),
        count(lines.len() as u64, "line", "lines"),
        count(matches, "match", "matches"),
        count(errors, "error record", "error records"),
        read - lines.len() as u64
    );
    if summaries < args.inputs.len() {
        eprintln!(
            "earmark: warning: {} of {} end in no summary record (unfinished shards?): the merged summary counts only the others",
            args.inputs.len() - summaries,
            count(args.inputs.len() as u64, "file", "files"),
        );
    }
    Ok(if matches > 0 {
        Status::Found
    } else {
        Status::NothingFound
    })
}

/// Adds one run's totals; shards run side by side, so the merged wall time is the longest.
fn add(into: &mut Summary, s: &Summary) {
    into.merge(s);
    into.wall_seconds = into.wall_seconds.max(s.wall_seconds);
}
