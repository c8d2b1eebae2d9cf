//! `earmark merge`: combines the JSON Lines outputs of several shards (or runs) into one
//! result, without duplicates, in a deterministic order (item, member, then time).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;

use super::Status;

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// JSON Lines outputs of `earmark scan`.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The merged output (standard output when absent).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

/// Sort key: item, member, start in the item, then the whole line.
type Key = (String, String, i64, String);

pub fn run(args: MergeArgs) -> anyhow::Result<Status> {
    let mut lines: BTreeSet<Key> = BTreeSet::new();
    let (mut read, mut matches, mut errors) = (0u64, 0u64, 0u64);
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
    out.flush()?;
    eprintln!(
        "earmark: merged {read} lines from {} files into {} ({matches} matches, {errors} errors, {} duplicates dropped)",
        args.inputs.len(),
        lines.len(),
        read - lines.len() as u64
    );
    Ok(if errors > 0 {
        Status::CompletedWithErrors
    } else if matches > 0 {
        Status::Found
    } else {
        Status::NothingFound
    })
}
