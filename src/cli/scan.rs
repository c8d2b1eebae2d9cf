//! `earmark scan` and `earmark query`, and the resume journal that makes a killed scan
//! continue where it stopped.
//!
//! The journal (`<output>.journal`) gets one JSON line per finished item, written after the
//! item's output lines are flushed: the output's length after them, the item's key, and its
//! totals. On `--resume` the
//! output is cut back to the last journalled length (dropping lines of an item whose journal
//! line never made it, and the summary record of a run that finished) and journalled items are
//! skipped, so an interrupted run plus its resume give exactly the lines of an uninterrupted
//! run, none lost and none twice.
//!
//! The journal's first line records what the results depend on ([`Settings`]: earmark's
//! version, the index, the output format, the shard, the matching options and the decoding
//! limits, each named by its flag). `--resume` with other settings is refused and names every
//! difference, since it would mix two scans' answers in one output.

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::Context;
use clap::Args;
use serde::{Deserialize, Serialize};

use super::{Format, InputList, Status};
use crate::error::FailureKind;
use crate::index::Index;
use crate::matcher;
use crate::output::{self, Output};
use crate::report::{Csv, Human, JsonLines, Outcome, Reporter, Skip, Summary};
use crate::scan::{self, ScanOptions, Shard};

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Dump files, directories and archives (tar, tar.gz, zip).
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
        query: args.matching.query(),
        limits: args.isolation.limits(args.limits.limits()),
        shard: args.shard.as_deref().map(Shard::parse).transpose()?,
        done: HashSet::new(),
        progress,
        worker: args.isolation.worker()?,
        ..ScanOptions::default()
    };
    if progress {
        size_on_the_side(&args.inputs, &options);
    }
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
        names: args.matching.names(&options.query),
    };
    job.run()
}

pub fn run_query(args: QueryArgs) -> anyhow::Result<Status> {
    let options = ScanOptions {
        jobs: 0,
        query: args.matching.query(),
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
}

impl Job<'_> {
    /// Opens and checks the index, claims the output, scans into it, and prints the summary.
    pub fn run(self) -> anyhow::Result<Status> {
        super::inputs_exist(self.inputs)?;
        let index = Index::open(self.index)?;
        index.check_tables()?;
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
                scan::scan(&index, inputs, &options, reporter.as_mut())?
            }
            Some(path) => {
                let journal_path = output::journal_path(path);
                let settings = Settings::of(&index, self.format, &options, &self.names);
                let Resumed {
                    file,
                    offset,
                    done,
                    previous,
                } = if self.resume {
                    resume_state(path, &journal_path, &settings)?
                } else {
                    Resumed {
                        file: File::create(path)
                            .with_context(|| format!("creating {}", path.display()))?,
                        offset: 0,
                        done: HashSet::new(),
                        previous: Summary::default(),
                    }
                };
                options.done = done;
                let journal = OpenOptions::new()
                    .create(true)
                    .append(self.resume)
                    .write(true)
                    .truncate(!self.resume)
                    .open(&journal_path)
                    .with_context(|| format!("opening {}", journal_path.display()))?;
                let mut journal = BufWriter::new(journal);
                if !self.resume {
                    writeln!(journal, "{}", settings.line())?;
                    journal.flush()?;
                }
                let written = Rc::new(Cell::new(offset));
                let counted = Counting {
                    inner: BufWriter::new(file),
                    written: written.clone(),
                };
                let inner = reporter(self.format, counted, offset > 0);
                let mut journaled = Journaled {
                    inner,
                    written,
                    journal,
                    previous: &previous,
                };
                let summary =
                    scan::scan(&index, inputs, &options, &mut journaled).with_context(|| {
                        format!(
                            "writing {} (fix the cause, then run again with --resume)",
                            path.display()
                        )
                    })?;
                let done_before = previous.files_seen();
                if done_before > 0 {
                    eprintln!(
                        "earmark: resumed: {} already done",
                        crate::report::count(done_before, "file was", "files were")
                    );
                }
                with_previous(summary, &previous)
            }
        };
        list.finish()?;
        if self.format != Format::Human {
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

/// The whole scan's totals: this run's, and those of the run it continues. The items done
/// before are counted where they were counted then, not as skipped.
fn with_previous(mut summary: Summary, previous: &Summary) -> Summary {
    summary.skipped.remove(&Skip::DoneBefore);
    let wall = summary.wall_seconds;
    summary.merge(previous);
    summary.wall_seconds = wall;
    summary
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

/// What a scan's answers depend on: the journal's first line. It is read back as plain JSON,
/// not as this struct, so that a journal written before a setting existed differs in that
/// setting (missing, `null`) instead of failing to parse.
#[derive(Debug, Serialize)]
struct Settings {
    earmark: String,
    /// Which matches a given index and query yield ([`matcher::REVISION`]): a code change that
    /// alters them, without a version bump, still stops a resume from mixing two runs' answers.
    matcher: u32,
    /// The index's size in tracks, postings and bytes: `index --append` changes all three.
    index: [u64; 3],
    #[serde(rename = "--format")]
    format: String,
    /// `[shard, count]`.
    #[serde(rename = "--shard")]
    shard: Option<[u32; 2]>,
    /// The matching options, by flag.
    options: BTreeMap<String, serde_json::Value>,
    /// The limits that change what an item yields (the time and memory limits of worker
    /// processes only stop items that would never finish).
    #[serde(rename = "--max-item-bytes")]
    max_item_bytes: u64,
    #[serde(rename = "--max-seconds")]
    max_audio_seconds: f64,
    min_audio_seconds: f64,
}

impl Settings {
    fn of(
        index: &Index<memmap2::Mmap>,
        format: Format,
        options: &ScanOptions,
        names: &BTreeMap<String, serde_json::Value>,
    ) -> Settings {
        let format = clap::ValueEnum::to_possible_value(&format)
            .map_or_else(String::new, |v| v.get_name().to_string());
        Settings {
            earmark: env!("CARGO_PKG_VERSION").to_string(),
            matcher: matcher::REVISION,
            index: [u64::from(index.tracks()), index.postings(), index.size()],
            format,
            shard: options.shard.map(|s| [s.index + 1, s.count]),
            options: names.clone(),
            max_item_bytes: options.limits.max_item_bytes,
            max_audio_seconds: options.limits.max_audio_seconds,
            min_audio_seconds: options.limits.min_audio_seconds,
        }
    }

    fn line(&self) -> String {
        serde_json::json!({ "settings": self }).to_string()
    }

    /// The settings (each as `name: journal's value, this run's value`) that differ from the
    /// journal's (`{"settings": {...}}`), or `None`. Every one is named: one option can move
    /// another's default (`--key-sample` moves `--candidate-score`'s).
    fn differences(&self, journal: &serde_json::Value) -> Option<String> {
        let mine = serde_json::to_value(self).expect("plain data");
        let mut found = Vec::new();
        differences(journal, &mine, "", &mut found);
        (!found.is_empty()).then(|| found.join("; "))
    }
}

/// Walks two JSON objects in step and names each field whose values differ (the matching
/// options by their flag alone: `--min-score`, not `options.--min-score`).
fn differences(a: &serde_json::Value, b: &serde_json::Value, path: &str, found: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let null = serde_json::Value::Null;
                let name = if path.is_empty() || k.starts_with("--") {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                differences(
                    x.get(k).unwrap_or(&null),
                    y.get(k).unwrap_or(&null),
                    &name,
                    found,
                );
            }
        }
        _ if a == b => {}
        _ => found.push(format!("{path}: {a} in the journal, {b} now")),
    }
}

/// One journal line: an item finished and its output lines end at byte `end`.
#[derive(Debug, Serialize, Deserialize)]
struct JournalEntry {
    end: u64,
    key: String,
    matches: u64,
    /// The item could not be scanned (journals written before kinds: without one).
    error: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<FailureKind>,
    /// Scanned in part.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    partial: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    skipped: Option<Skip>,
    seconds: f64,
}

impl JournalEntry {
    fn of(o: &Outcome, end: u64) -> Self {
        JournalEntry {
            end,
            key: scan::item_key(&o.item, o.member.as_deref()),
            matches: o.found.len() as u64,
            error: o.failed(),
            kind: o.failure.as_ref().map(|f| f.kind),
            partial: o.partial,
            skipped: o.skipped,
            seconds: o.seconds,
        }
    }

    /// Counts the item in `s`, as its outcome was counted in the run that journalled it.
    fn count_into(&self, s: &mut Summary) {
        let failure = (self.error || self.partial).then(|| {
            crate::error::Failure::new(
                self.kind.unwrap_or(FailureKind::Crashed),
                "(in the interrupted run; see its error record)",
            )
        });
        s.add_item(
            self.skipped,
            failure.as_ref().map(|f| (f, self.partial)),
            self.seconds,
            self.matches,
            || self.key.replace('\u{0}', " :: "),
        );
    }
}

/// What an interrupted run left: the output cut back and reopened, the items done, and their
/// totals (so the resumed run's summary and exit code cover the whole scan).
struct Resumed {
    file: File,
    offset: u64,
    done: HashSet<String>,
    previous: Summary,
}

/// Reads the journal, checks that it was written with this run's settings, cuts the output back
/// to the last journalled length, and rewrites the journal without any line the kill cut short.
fn resume_state(output: &Path, journal: &Path, settings: &Settings) -> anyhow::Result<Resumed> {
    let lines: Vec<String> = match File::open(journal) {
        Ok(f) => BufReader::new(f).lines().map_while(Result::ok).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", journal.display())),
    };
    let mut lines = lines.iter().peekable();
    let recorded = lines
        .peek()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|mut line| line.get_mut("settings").map(serde_json::Value::take));
    match recorded {
        Some(before) => {
            lines.next();
            if let Some(difference) = settings.differences(&before) {
                anyhow::bail!(
                    "{} was written with other settings ({difference}); resume with the same options, index and earmark, or start again with --force",
                    output.display()
                );
            }
        }
        None if lines.peek().is_some() => eprintln!(
            "earmark: {} records no settings (an earlier earmark wrote it): cannot check that this run's settings match the interrupted run's",
            journal.display()
        ),
        None => {}
    }
    // A line cut by the kill, and anything after it, is simply not there.
    let entries: Vec<JournalEntry> = lines.map_while(|l| serde_json::from_str(l).ok()).collect();
    let offset = entries.last().map_or(0, |e| e.end);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(output)
        .with_context(|| format!("opening {}", output.display()))?;
    let len = file.metadata()?.len();
    if len < offset {
        anyhow::bail!(
            "{} is shorter ({len} bytes) than its journal says ({offset}): it was changed by hand; start again with --force",
            output.display()
        );
    }
    file.set_len(offset)?;
    io::Seek::seek(&mut file, io::SeekFrom::Start(offset))?;
    let mut j = BufWriter::new(File::create(journal)?);
    writeln!(j, "{}", settings.line())?;
    let mut previous = Summary::default();
    let mut done = HashSet::new();
    for e in entries {
        writeln!(j, "{}", serde_json::to_string(&e).expect("plain data"))?;
        e.count_into(&mut previous);
        done.insert(e.key);
    }
    j.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok(Resumed {
        file,
        offset,
        done,
        previous,
    })
}

/// Counts bytes written, so the journal knows where each item's lines end.
struct Counting<W: Write> {
    inner: W,
    written: Rc<Cell<u64>>,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written.set(self.written.get() + n as u64);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes the journal line of each item after the item's own output; the summary record that
/// ends the output covers the run it continues too.
struct Journaled<'w> {
    inner: Box<dyn Reporter + 'w>,
    written: Rc<Cell<u64>>,
    journal: BufWriter<File>,
    previous: &'w Summary,
}

impl Reporter for Journaled<'_> {
    fn outcome(&mut self, o: &Outcome) -> io::Result<()> {
        self.inner.outcome(o)?;
        let line =
            serde_json::to_string(&JournalEntry::of(o, self.written.get())).expect("plain data");
        writeln!(self.journal, "{line}")?;
        self.journal.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.inner
            .finish(&with_previous(summary.clone(), self.previous))?;
        self.journal.flush()
    }
}
