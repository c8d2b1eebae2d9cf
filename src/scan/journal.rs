//! The resume journal that makes a killed scan continue where it stopped.
//!
//! The journal (`<output>.journal`) gets one JSON line per finished item, written after the
//! item's output lines are flushed: the output's length after them, the item's key, and its
//! totals. On `--resume` the output is cut back to the last journalled length (dropping lines
//! of an item whose journal line never made it, and the summary record of a run that finished)
//! and journalled items are skipped, so an interrupted run plus its resume give exactly the
//! lines of an uninterrupted run, none lost and none twice.
//!
//! The journal's first line records what the results depend on ([`Settings`]: earmark's
//! version, the index, the output format, the shard, the matching options by the names people
//! use, and the decoding limits). Resuming with other settings is refused and names every
//! difference, since it would mix two scans' answers in one output.

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use super::ScanOptions;
use crate::error::{Error, FailureKind, Result};
use crate::index::Index;
use crate::matcher;
use crate::output;
use crate::report::{Outcome, Provenance, Reporter, Skip, Summary};

/// The whole scan's totals: this run's, and those of the run it continues. The items done
/// before are counted where they were counted then, not as skipped.
pub fn with_previous(mut summary: Summary, previous: &Summary) -> Summary {
    summary.skipped.remove(&Skip::DoneBefore);
    let wall = summary.wall_seconds;
    summary.merge(previous);
    summary.wall_seconds = wall;
    summary
}

/// What a scan's answers depend on: the journal's first line. It is read back as plain JSON,
/// not as this struct, so that a journal written before a setting existed differs in that
/// setting (missing, `null`) instead of failing to parse.
#[derive(Debug, Serialize)]
pub struct Settings {
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
    /// The settings of a scan of `index` written as `format` (its name, e.g. `jsonl`), with
    /// the matching options `names` gives by the names people use.
    pub fn new(
        index: &Index<memmap2::Mmap>,
        format: &str,
        options: &ScanOptions,
        names: &BTreeMap<String, serde_json::Value>,
    ) -> Settings {
        let format = format.to_string();
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
    /// Whether a `--manifest` knew the item (absent when none was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    joined: Option<bool>,
}

impl JournalEntry {
    fn of(o: &Outcome, end: u64, joining: bool) -> Self {
        JournalEntry {
            end,
            key: super::item_key(&o.item, o.member.as_deref()),
            matches: o.found.len() as u64,
            error: o.failed(),
            kind: o.failure.as_ref().map(|f| f.kind),
            partial: o.partial,
            skipped: o.skipped,
            seconds: o.seconds,
            joined: joining.then_some(o.dataset.is_some()),
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
        if let Some(joined) = self.joined {
            s.add_join(joined);
        }
    }
}

/// A scan's output opened for writing, with its journal: fresh, or what an interrupted run
/// left, cut back to its last journalled item.
pub struct Opened {
    pub file: File,
    /// Bytes of the output kept from the interrupted run.
    pub offset: u64,
    /// Keys of the items it finished.
    pub done: HashSet<String>,
    /// Its totals, so the resumed run's summary and exit code cover the whole scan.
    pub previous: Summary,
    /// The journal, open for appending.
    pub journal: BufWriter<File>,
}

/// Opens `output` and its journal: afresh (both replaced, the settings written first), or, to
/// `resume`, as an interrupted run with the same settings left them.
pub fn open(output: &Path, settings: &Settings, resume: bool) -> Result<Opened> {
    let journal_path = output::journal_path(output);
    let (file, offset, done, previous) = if resume {
        resume_state(output, &journal_path, settings)?
    } else {
        let file = File::create(output).map_err(|e| Error::io(output, e))?;
        let mut journal = File::create(&journal_path).map_err(|e| Error::io(&journal_path, e))?;
        writeln!(journal, "{}", settings.line()).map_err(|e| Error::io(&journal_path, e))?;
        (file, 0, HashSet::new(), Summary::default())
    };
    let journal = OpenOptions::new()
        .append(true)
        .open(&journal_path)
        .map_err(|e| Error::io(&journal_path, e))?;
    Ok(Opened {
        file,
        offset,
        done,
        previous,
        journal: BufWriter::new(journal),
    })
}

/// Reads the journal, checks that it was written with this run's settings, cuts the output back
/// to the last journalled length, and rewrites the journal without any line the kill cut short.
fn resume_state(
    output: &Path,
    journal: &Path,
    settings: &Settings,
) -> Result<(File, u64, HashSet<String>, Summary)> {
    let lines: Vec<String> = match File::open(journal) {
        Ok(f) => BufReader::new(f)
            .lines()
            .map_while(io::Result::ok)
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(journal, e)),
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
                return Err(Error::Invalid(format!(
                    "{} was written with other settings ({difference}); resume with the same options, index and earmark, or start again with --force",
                    output.display()
                )));
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
    let at_output = |e| Error::io(output, e);
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(output)
        .map_err(at_output)?;
    let len = file.metadata().map_err(at_output)?.len();
    if len < offset {
        return Err(Error::Invalid(format!(
            "{} is shorter ({len} bytes) than its journal says ({offset}): it was changed by hand; start again with --force",
            output.display()
        )));
    }
    file.set_len(offset).map_err(at_output)?;
    io::Seek::seek(&mut file, io::SeekFrom::Start(offset)).map_err(at_output)?;
    let at_journal = |e| Error::io(journal, e);
    let mut j = BufWriter::new(File::create(journal).map_err(at_journal)?);
    writeln!(j, "{}", settings.line()).map_err(at_journal)?;
    let mut previous = Summary::default();
    let mut done = HashSet::new();
    for e in entries {
        writeln!(j, "{}", serde_json::to_string(&e).expect("plain data")).map_err(at_journal)?;
        e.count_into(&mut previous);
        done.insert(e.key);
    }
    j.into_inner()
        .map_err(|e| at_journal(e.into_error()))?
        .sync_all()
        .map_err(at_journal)?;
    Ok((file, offset, done, previous))
}

/// Counts bytes written, so the journal knows where each item's lines end.
pub struct Counting<W: Write> {
    inner: W,
    written: Rc<Cell<u64>>,
}

impl<W: Write> Counting<W> {
    /// `inner`, counting from `offset`; the count is shared with [`Journaled`].
    pub fn new(inner: W, offset: u64) -> (Self, Rc<Cell<u64>>) {
        let written = Rc::new(Cell::new(offset));
        (
            Counting {
                inner,
                written: written.clone(),
            },
            written,
        )
    }
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
pub struct Journaled<'w> {
    pub inner: Box<dyn Reporter + 'w>,
    /// The output's length so far ([`Counting::new`]).
    pub written: Rc<Cell<u64>>,
    pub journal: BufWriter<File>,
    /// The interrupted run's totals.
    pub previous: &'w Summary,
    /// Items are joined to manifests, so each entry says whether its item was.
    pub joining: bool,
}

impl Reporter for Journaled<'_> {
    fn start(&mut self, provenance: &Provenance) -> io::Result<()> {
        self.inner.start(provenance)
    }

    fn outcome(&mut self, o: &Outcome) -> io::Result<()> {
        self.inner.outcome(o)?;
        let entry = JournalEntry::of(o, self.written.get(), self.joining);
        let line = serde_json::to_string(&entry).expect("plain data");
        writeln!(self.journal, "{line}")?;
        self.journal.flush()
    }

    fn finish(&mut self, summary: &Summary) -> io::Result<()> {
        self.inner
            .finish(&with_previous(summary.clone(), self.previous))?;
        self.journal.flush()
    }
}
