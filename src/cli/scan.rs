//! `earmark scan` and `earmark query`, and the resume journal that makes a killed scan
//! continue where it stopped.
//!
//! The journal (`<output>.journal`) gets one JSON line per finished item, written after the
//! item's output lines are flushed: the output's length after them, the item's key, and its
//! totals. On `--resume` the
//! output is cut back to the last journalled length (dropping lines of an item whose journal
//! line never made it) and journalled items are skipped, so an interrupted run plus its resume
//! give exactly the lines of an uninterrupted run, none lost and none twice.
//!
//! The journal's first line records what the results depend on ([`Settings`]: earmark's
//! version, the index, the output format, the shard, the matching options and the decoding
//! limits). `--resume` with other settings is refused and names every difference, since it
//! would mix two scans' answers in one output.

use std::cell::Cell;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::Context;
use clap::Args;
use serde::{Deserialize, Serialize};

use super::{Format, Status};
use crate::QueryParams;
use crate::index::Index;
use crate::matcher;
use crate::report::{Csv, Human, JsonLines, Outcome, Reporter, Summary};
use crate::scan::{self, ScanOptions, Shard};

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Dump files, directories and archives (tar, tar.gz, zip).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
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
    #[arg(long, requires = "output")]
    pub resume: bool,
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
    #[command(flatten)]
    pub isolation: super::IsolationArgs,
    #[command(flatten)]
    pub matching: super::MatchArgs,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

pub fn run_scan(args: ScanArgs) -> anyhow::Result<Status> {
    let options = ScanOptions {
        jobs: args.jobs,
        query: args.matching.query(),
        limits: args.isolation.limits(args.limits.limits()),
        shard: args.shard.as_deref().map(Shard::parse).transpose()?,
        done: HashSet::new(),
        progress: !args.quiet && io::stderr().is_terminal(),
        worker: args.isolation.worker()?,
    };
    scan_to(
        &args.index,
        &args.inputs,
        args.format,
        args.output.as_deref(),
        &options,
        args.resume,
    )
}

pub fn run_query(args: QueryArgs) -> anyhow::Result<Status> {
    let options = ScanOptions {
        jobs: 0,
        query: args.matching.query(),
        limits: args.isolation.limits(args.limits.limits()),
        worker: args.isolation.worker()?,
        ..ScanOptions::default()
    };
    scan_to(
        &args.index,
        &args.inputs,
        args.format,
        None,
        &options,
        false,
    )
}

/// `earmark worker`: the child side of process isolation.
pub fn run_worker(args: WorkerArgs) -> anyhow::Result<Status> {
    scan::worker::serve(&args.index, io::stdin().lock(), io::stdout().lock())?;
    Ok(Status::NothingFound)
}

/// Opens the index, runs the scan into the chosen output and format, and prints the summary.
pub fn scan_to(
    index_path: &Path,
    inputs: &[PathBuf],
    format: Format,
    output: Option<&Path>,
    options: &ScanOptions,
    resume: bool,
) -> anyhow::Result<Status> {
    let index = Index::open(index_path)?;
    let mut options = options.clone();
    let summary = match output {
        None => {
            let stdout = io::stdout().lock();
            let mut reporter = reporter(format, BufWriter::new(stdout), false);
            scan::scan(&index, inputs, &options, reporter.as_mut())?
        }
        Some(path) => {
            let journal_path = journal_path(path);
            let settings = Settings::of(&index, format, &options);
            let Resumed {
                file,
                offset,
                done,
                previous,
            } = if resume {
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
                .append(resume)
                .write(true)
                .truncate(!resume)
                .open(&journal_path)
                .with_context(|| format!("opening {}", journal_path.display()))?;
            let mut journal = BufWriter::new(journal);
            if !resume {
                writeln!(journal, "{}", settings.line())?;
                journal.flush()?;
            }
            let written = Rc::new(Cell::new(offset));
            let counted = Counting {
                inner: BufWriter::new(file),
                written: written.clone(),
            };
            let inner = reporter(format, counted, offset > 0);
            let mut journaled = Journaled {
                inner,
                written,
                journal,
            };
            let mut summary =
                scan::scan(&index, inputs, &options, &mut journaled).with_context(|| {
                    format!(
                        "writing {} (fix the cause, then run again with --resume)",
                        path.display()
                    )
                })?;
            if previous.items > 0 {
                eprintln!(
                    "earmark: resumed: {} items were already done",
                    previous.items
                );
            }
            // The totals, and so the exit code, cover the whole scan, not just this run.
            summary.items += previous.items;
            summary.matches += previous.matches;
            summary.errors += previous.errors;
            summary.seconds += previous.seconds;
            summary.skipped = summary.skipped.saturating_sub(previous.items);
            summary
        }
    };
    if format != Format::Human {
        eprintln!("earmark: {}", summary.describe());
    }
    Ok(status(&summary))
}

fn status(s: &Summary) -> Status {
    if s.errors > 0 {
        Status::CompletedWithErrors
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

fn journal_path(output: &Path) -> PathBuf {
    crate::index::builder::sibling(output, ".journal")
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
    format: String,
    /// `[shard, count]`.
    shard: Option<[u32; 2]>,
    query: QueryParams,
    /// The limits that change what an item yields (the time and memory limits of worker
    /// processes only stop items that would never finish).
    max_item_bytes: u64,
    max_audio_seconds: f64,
    min_audio_seconds: f64,
}

impl Settings {
    fn of(index: &Index<memmap2::Mmap>, format: Format, options: &ScanOptions) -> Settings {
        let format = clap::ValueEnum::to_possible_value(&format)
            .map_or_else(String::new, |v| v.get_name().to_string());
        Settings {
            earmark: env!("CARGO_PKG_VERSION").to_string(),
            matcher: matcher::REVISION,
            index: [u64::from(index.tracks()), index.postings(), index.size()],
            format,
            shard: options.shard.map(|s| [s.index, s.count]),
            query: options.query,
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

/// Walks two JSON objects in step and names each field whose values differ.
fn differences(a: &serde_json::Value, b: &serde_json::Value, path: &str, found: &mut Vec<String>) {
    match (a, b) {
        (serde_json::Value::Object(x), serde_json::Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let null = serde_json::Value::Null;
                let name = if path.is_empty() {
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
    error: bool,
    seconds: f64,
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
                    "{} was written with other settings ({difference}); resume with the same options, index and earmark, or start again without --resume",
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
            "{} is shorter ({len} bytes) than its journal says ({offset}): it was changed by hand; start again without --resume",
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
        previous.items += 1;
        previous.matches += e.matches;
        previous.errors += u64::from(e.error);
        previous.seconds += e.seconds;
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

/// Writes the journal line of each item after the item's own output.
struct Journaled<'w> {
    inner: Box<dyn Reporter + 'w>,
    written: Rc<Cell<u64>>,
    journal: BufWriter<File>,
}

impl Reporter for Journaled<'_> {
    fn outcome(&mut self, o: &Outcome) -> io::Result<()> {
        self.inner.outcome(o)?;
        let entry = JournalEntry {
            end: self.written.get(),
            key: scan::item_key(&o.item, o.member.as_deref()),
            matches: o.found.len() as u64,
            error: o.error.is_some(),
            seconds: o.seconds,
        };
        let line = serde_json::to_string(&entry).expect("plain data");
        writeln!(self.journal, "{line}")?;
        self.journal.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.inner.finish(summary)?;
        self.journal.flush()
    }
}
