//! `earmark explain`: one item scanned again, each match with its evidence in plain words, its
//! line and its landmark pairs; or its records as `scan` writes them, for `earmark report`.

use std::collections::BTreeMap;
use std::io::{self, BufWriter};
use std::path::PathBuf;

use clap::Args;

use super::{Format, InputList, Status};
use crate::index::Index;
use crate::report::{Csv, Explained, JsonLines, OneTrack, Reporter, Skip};
use crate::scan::{self, ScanOptions};

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The item: an audio file, or the archive or parquet file that holds it (with --member).
    pub item: PathBuf,
    /// The archive member (or parquet row) as records name it.
    #[arg(long)]
    pub member: Option<String>,
    /// The catalogue index.
    #[arg(long)]
    pub index: PathBuf,
    /// Only this catalogue track's matches (its id, as records name it).
    #[arg(long)]
    pub track: Option<String>,
    /// `human`: why each match was made, in words; `jsonl`: the records `scan` writes, which
    /// `earmark report` reads.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    pub isolation: super::IsolationArgs,
    #[command(flatten)]
    pub matching: super::MatchArgs,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

pub fn run(args: ExplainArgs) -> anyhow::Result<Status> {
    let inputs = std::slice::from_ref(&args.item);
    super::inputs_exist(inputs)?;
    let index = Index::open(&args.index)?;
    index.check_tables()?;
    let options = ScanOptions {
        jobs: 1,
        query: args.matching.query()?,
        limits: args.isolation.limits(args.limits.limits()),
        worker: args.isolation.worker()?,
        member: args.member.clone(),
        ..ScanOptions::default()
    };
    let names: BTreeMap<String, serde_json::Value> = args.matching.names(&options.query);
    let job = super::scan::Job {
        index: &args.index,
        inputs,
        list: &InputList::default(),
        format: args.format,
        output: None,
        resume: false,
        force: false,
        strict: false,
        options: &options,
        names,
        echo: false,
    };
    let provenance = job.provenance(&index)?;
    let out = BufWriter::new(io::stdout().lock());
    let mut reporter: Box<dyn Reporter> = match (args.format, args.track.clone()) {
        (Format::Human, track) => Box::new(Explained::new(out, track)),
        (Format::Jsonl, None) => Box::new(JsonLines::new(out)),
        (Format::Jsonl, Some(t)) => Box::new(OneTrack::new(JsonLines::new(out), t)),
        (Format::Csv, None) => Box::new(Csv::new(out)),
        (Format::Csv, Some(t)) => Box::new(OneTrack::new(Csv::new(out), t)),
    };
    reporter.start(&provenance)?;
    let mut noticing = Noticing {
        inner: reporter.as_mut(),
        track: args.track.as_deref(),
        found: false,
    };
    let summary = scan::scan(&index, inputs.iter().cloned(), &options, &mut noticing)?;
    let found = noticing.found;
    if summary.items == 0
        && summary.failures() == 0
        && !summary.skipped.contains_key(&Skip::TooShort)
    {
        anyhow::bail!(
            "{} holds no item{}",
            args.item.display(),
            args.member
                .as_ref()
                .map_or_else(String::new, |m| format!(" named {m:?}"))
        );
    }
    Ok(if found {
        Status::Found
    } else {
        Status::NothingFound
    })
}

/// Notes whether any match (of the track asked about) went by, for the exit status.
struct Noticing<'a> {
    inner: &'a mut dyn Reporter,
    track: Option<&'a str>,
    found: bool,
}

impl Reporter for Noticing<'_> {
    fn outcome(&mut self, o: &crate::report::Outcome) -> io::Result<()> {
        self.found |= (o.found.iter()).any(|f| self.track.is_none_or(|t| f.track == t));
        self.inner.outcome(o)
    }

    fn finish(&mut self, summary: &crate::report::Summary) -> io::Result<()> {
        self.inner.finish(summary)
    }
}
