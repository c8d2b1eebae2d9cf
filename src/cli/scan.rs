//! `earmark scan` and `earmark query`: the options, the output (resumable through
//! `scan::journal`), the summary on stderr and the exit status.

use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::{Format, InputList, Status};
use crate::index::Index;
use crate::output::{self, Output};
use crate::report::{
    Both, Csv, Human, IndexProvenance, JsonLines, Provenance, Reporter, Skip, Summary, timestamp,
};
use crate::scan::{self, ScanOptions, Shard, journal};

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Dump files, directories and archives (tar, tar.gz, zip, parquet).
    #[arg(required_unless_present = "files_from")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub list: InputList,
    /// The catalogue index.
    #[arg(long)]
    pub index: PathBuf,
    /// Where results go (standard output when absent).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Worker threads (0 = all cores).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,
    /// Continue an interrupted scan into the same --output.
    #[arg(long, requires = "output", conflicts_with = "force")]
    pub resume: bool,
    /// Replace an --output that earmark did not write, or an earlier scan's (never the index
    /// or an input).
    #[arg(long)]
    pub force: bool,
    /// Exit with 3 when any item could not be scanned (they are reported either way).
    #[arg(long)]
    pub strict: bool,
    /// Scan only shard K of N (1-based), split by top-level file or archive.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Never show the progress line.
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub dataset: super::DatasetArgs,
    #[command(flatten)]
    pub isolation: super::IsolationArgs,
    #[command(flatten)]
    pub matching: super::MatchArgs,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

#[derive(Args, Debug)]
pub struct WorkerArgs {
    /// The catalogue index.
    #[arg(long)]
    pub index: PathBuf,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// Audio files (or archives) to identify.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The catalogue index.
    #[arg(long)]
    pub index: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit with 3 when any item could not be scanned.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub isolation: super::IsolationArgs,
    #[command(flatten)]
    pub matching: super::MatchArgs,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

pub fn run_scan(args: ScanArgs) -> anyhow::Result<Status> {
    let progress = !args.quiet && io::stderr().is_terminal();
    let options = ScanOptions {
        jobs: args.jobs,
        query: args.matching.query()?,
        limits: args.isolation.limits(args.limits.limits()),
        shard: args.shard.as_deref().map(Shard::parse).transpose()?,
        done: HashSet::new(),
        progress,
        worker: args.isolation.worker()?,
        audio_column: args.dataset.audio_column.clone(),
        join: args.dataset.join()?.map(std::sync::Arc::new),
        ..ScanOptions::default()
    };
    if progress {
        size_on_the_side(&args.inputs, &options);
    }
    let mut names = args.matching.names(&options.query);
    args.dataset.names(&mut names);
    let job = Job {
        index: &args.index,
        inputs: &args.inputs,
        list: &args.list,
        format: args.format,
        output: args.output.as_deref(),
        resume: args.resume,
        force: args.force,
        strict: args.strict,
        options: &options,
        names,
        echo: false,
    };
    job.run()
}

pub fn run_query(args: QueryArgs) -> anyhow::Result<Status> {
    let options = ScanOptions {
        jobs: 0,
        query: args.matching.query()?,
        limits: args.isolation.limits(args.limits.limits()),
        worker: args.isolation.worker()?,
        ..ScanOptions::default()
    };
    Job {
        index: &args.index,
        inputs: &args.inputs,
        list: &InputList::default(),
        format: args.format,
        output: None,
        resume: false,
        force: false,
        strict: args.strict,
        options: &options,
        names: BTreeMap::new(),
        echo: false,
    }
    .run()
}

/// `earmark worker`: the child side of process isolation.
pub fn run_worker(args: WorkerArgs) -> anyhow::Result<Status> {
    scan::worker::serve(&args.index, io::stdin().lock(), io::stdout().lock())?;
    Ok(Status::NothingFound)
}

/// Sizes the named inputs in a thread of their own, for the progress line's estimate: walking
/// millions of files takes a while.
fn size_on_the_side(inputs: &[PathBuf], options: &ScanOptions) {
    let inputs = inputs.to_vec();
    let total = options.total_bytes.clone();
    std::thread::spawn(move || {
        let sum: u64 = inputs.iter().map(|p| scan::du(p)).sum();
        total.store(sum, std::sync::atomic::Ordering::Relaxed);
    });
}

/// One scan, as the command line asked for it.
pub struct Job<'a> {
    pub index: &'a Path,
    pub inputs: &'a [PathBuf],
    pub list: &'a InputList,
    pub format: Format,
    pub output: Option<&'a Path>,
    pub resume: bool,
    pub force: bool,
    pub strict: bool,
    pub options: &'a ScanOptions,
    /// The matching options by the flags that set them, for the resume journal.
    pub names: BTreeMap<String, serde_json::Value>,
    /// Also show the records as readable lines on stdout while writing `output`.
    pub echo: bool,
}

impl Job<'_> {
    /// What the output's first record says produced it.
    pub(super) fn provenance(&self, index: &Index) -> anyhow::Result<Provenance> {
        let mut options = self.names.clone();
        let limits = &self.options.limits;
        let format = clap::ValueEnum::to_possible_value(&self.format)
            .map_or_else(String::new, |v| v.get_name().to_string());
        options.insert("--format".into(), format.into());
        options.insert(
            "--shard".into(),
            self.options
                .shard
                .map(|s| format!("{}/{}", s.index + 1, s.count))
                .into(),
        );
        options.insert("--max-item-bytes".into(), limits.max_item_bytes.into());
        options.insert(
            "--max-row-group-bytes".into(),
            limits.max_row_group_bytes.into(),
        );
        options.insert("--max-seconds".into(), limits.max_audio_seconds.into());
        Ok(Provenance {
            earmark: env!("CARGO_PKG_VERSION"),
            commit: crate::report::COMMIT,
            started: timestamp(std::time::SystemTime::now()),
            index: IndexProvenance::of(index),
            options,
            inputs: self
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            files_from: self
                .list
                .files_from
                .as_ref()
                .map(|p| p.display().to_string()),
            manifests: self
                .options
                .join
                .iter()
                .flat_map(|j| j.manifests.iter().map(|m| m.describe()))
                .collect(),
        })
    }

    /// Opens and checks the index, claims the output, scans into it, and prints the summary.
    pub fn run(self) -> anyhow::Result<Status> {
        super::inputs_exist(self.inputs)?;
        let index = Index::open(self.index)?;
        index.check_tables()?;
        let provenance = self.provenance(&index)?;
        if let Some(path) = self.output
            && !self.resume
        {
            output::claim(
                path,
                Output::ScanResults,
                Some(self.index),
                self.inputs,
                self.force,
            )?;
        }
        let list = self.list.open()?;
        let inputs = self.inputs.iter().cloned().chain(list.paths());
        let mut options = self.options.clone();
        let summary = match self.output {
            None => {
                let stdout = io::stdout().lock();
                let mut reporter = reporter(self.format, BufWriter::new(stdout), false);
                reporter.start(&provenance)?;
                scan::scan(&index, inputs, &options, reporter.as_mut())?
            }
            Some(path) => {
                let format = clap::ValueEnum::to_possible_value(&self.format)
                    .map_or_else(String::new, |v| v.get_name().to_string());
                let settings = journal::Settings::new(&index, &format, &options, &self.names);
                let opened = journal::open(path, &settings, self.resume)?;
                options.done = opened.done;
                let (counted, written) =
                    journal::Counting::new(BufWriter::new(opened.file), opened.offset);
                let mut inner = reporter(self.format, counted, opened.offset > 0);
                if self.echo {
                    let lines = Human::new(BufWriter::new(io::stdout().lock()));
                    inner = Box::new(Both(inner, lines));
                }
                let mut journaled = journal::Journaled {
                    inner,
                    written,
                    journal: opened.journal,
                    previous: &opened.previous,
                    joining: options.join.is_some(),
                };
                if opened.offset == 0 {
                    journaled.start(&provenance)?;
                }
                let summary =
                    scan::scan(&index, inputs, &options, &mut journaled).with_context(|| {
                        format!(
                            "writing {} (fix the cause, then run again with --resume)",
                            path.display()
                        )
                    })?;
                let done_before = opened.previous.files_seen();
                if done_before > 0 {
                    eprintln!(
                        "earmark: resumed: {} already done",
                        crate::report::count(done_before, "file was", "files were")
                    );
                }
                journal::with_previous(summary, &opened.previous)
            }
        };
        list.finish()?;
        if self.format != Format::Human && !self.echo {
            eprintln!("earmark: {}", summary.describe());
        }
        if nothing_to_scan(&summary) {
            if let Some(path) = self.output.filter(|_| !self.resume) {
                // Nothing was scanned into it: leave no output to be refused next time.
                let _ = std::fs::remove_file(path);
                let _ = std::fs::remove_file(output::journal_path(path));
            }
            anyhow::bail!("{}", summary.nothing_found());
        }
        Ok(status(&summary, self.strict))
    }
}

/// True when the inputs held nothing to scan: no audio item at all, not even one that failed,
/// and none in other shards or done before.
fn nothing_to_scan(s: &Summary) -> bool {
    s.items == 0
        && s.failures() == 0
        && !s.skipped.contains_key(&Skip::TooShort)
        && !s.skipped.contains_key(&Skip::OtherShard)
        && !s.skipped.contains_key(&Skip::DoneBefore)
}

/// The exit status: found or not, whatever else happened; failed items matter only with
/// `--strict`.
fn status(s: &Summary, strict: bool) -> Status {
    if strict && s.failures() > 0 {
        Status::ItemsFailed
    } else if s.matches > 0 {
        Status::Found
    } else {
        Status::NothingFound
    }
}

fn reporter<'w, W: Write + 'w>(format: Format, out: W, resumed: bool) -> Box<dyn Reporter + 'w> {
    match format {
        Format::Jsonl => Box::new(JsonLines::new(out)),
        Format::Csv => {
            let mut csv = Csv::new(out);
            if resumed {
                csv.skip_header();
            }
            Box::new(csv)
        }
        Format::Human => Box::new(Human::new(out)),
    }
}
