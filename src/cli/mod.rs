//! The command line: one file per subcommand; `main.rs` only maps the outcome to an exit code.
//!
//! Exit codes (documented in README.md), so that a script can tell found from not found
//! whatever else happened:
//! - 0: done, and (scan/query) at least one catalogue recording found
//! - 1: done, nothing found
//! - 2: fatal: bad arguments, an unreadable or damaged index, an output that would overwrite
//!   something, nothing to scan or index, output lost
//! - 3: `--strict` only: some items could not be scanned (the summary and their records say
//!   why); `index`: some catalogue files could not be indexed; `eval`: some answers were wrong

mod eval;
mod explain;
mod index;
mod info;
mod manifest_check;
mod merge;
mod report;
mod scan;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::limits::Limits;
use crate::tuning::{Profile, QueryParams};

/// What a finished command reports to `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Found,
    NothingFound,
    /// Items or catalogue files failed where that is the caller's concern (`--strict`,
    /// `index`), or `eval` gave wrong answers.
    ItemsFailed,
}

impl Status {
    pub fn exit_code(self) -> u8 {
        match self {
            Status::Found => 0,
            Status::NothingFound => 1,
            Status::ItemsFailed => 3,
        }
    }
}

/// `--files-from`: more inputs, read from a list as they are needed (millions of paths are
/// never collected).
#[derive(Args, Debug, Clone, Default)]
pub struct InputList {
    /// Also read inputs from FILE, one path per line (`-`: standard input).
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<PathBuf>,
    /// The --files-from list is NUL-separated, as `find -print0` writes it.
    #[arg(short = '0', long = "null", requires = "files_from")]
    pub null: bool,
}

impl InputList {
    /// Opens the list (nothing, if none was given).
    pub fn open(&self) -> anyhow::Result<OpenList> {
        let reader: Option<Box<dyn BufRead + Send>> = match &self.files_from {
            None => None,
            Some(p) if p.as_os_str() == "-" => Some(Box::new(BufReader::new(std::io::stdin()))),
            Some(p) => Some(Box::new(BufReader::new(
                std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?,
            ))),
        };
        Ok(OpenList {
            reader: Mutex::new(reader),
            separator: if self.null { b'\0' } else { b'\n' },
            name: self
                .files_from
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            failure: Mutex::new(None),
        })
    }
}

/// An open `--files-from` list.
pub struct OpenList {
    reader: Mutex<Option<Box<dyn BufRead + Send>>>,
    separator: u8,
    name: String,
    /// A read error ends the paths; [`finish`](Self::finish) reports it.
    failure: Mutex<Option<std::io::Error>>,
}

impl OpenList {
    /// The listed paths, in order; empty entries (and a `\r` before a line break) are dropped.
    pub fn paths(&self) -> impl Iterator<Item = PathBuf> + Send + '_ {
        std::iter::from_fn(move || {
            let mut guard = self.reader.lock().ok()?;
            let reader = guard.as_mut()?;
            loop {
                let mut entry = Vec::new();
                match reader.read_until(self.separator, &mut entry) {
                    Ok(0) => return None,
                    Ok(_) => {}
                    Err(e) => {
                        if let Ok(mut f) = self.failure.lock() {
                            *f = Some(e);
                        }
                        return None;
                    }
                }
                if entry.last() == Some(&self.separator) {
                    entry.pop();
                }
                if self.separator == b'\n' && entry.last() == Some(&b'\r') {
                    entry.pop();
                }
                if !entry.is_empty() {
                    return Some(path_from_bytes(entry));
                }
            }
        })
    }

    /// Fails if reading the list failed part-way: the scan did not see every listed path.
    pub fn finish(&self) -> anyhow::Result<()> {
        match self.failure.lock().ok().and_then(|mut f| f.take()) {
            Some(e) => anyhow::bail!(
                "reading {} failed part-way ({e}): the paths after that point were not scanned",
                self.name
            ),
            None => Ok(()),
        }
    }
}

/// Fails on the first named input that does not exist: a mistyped path is the command's
/// mistake, not a failed item (a path in a `--files-from` list that is gone is one).
pub fn inputs_exist(inputs: &[PathBuf]) -> anyhow::Result<()> {
    for input in inputs {
        std::fs::symlink_metadata(input).map_err(|e| crate::Error::io(input, e))?;
    }
    Ok(())
}

#[cfg(unix)]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    use std::os::unix::ffi::OsStringExt;
    PathBuf::from(std::ffi::OsString::from_vec(bytes))
}

#[cfg(not(unix))]
fn path_from_bytes(bytes: Vec<u8>) -> PathBuf {
    PathBuf::from(String::from_utf8_lossy(&bytes).into_owned())
}

#[derive(Parser, Debug)]
#[command(
    name = "earmark",
    version,
    about = "Find catalogue recordings inside huge audio dataset dumps"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Fingerprint catalogue files, directories and archives into an index.
    Index(index::IndexArgs),
    /// Scan a dump (files, directories, tar, tar.gz, zip, parquet) for catalogue recordings.
    Scan(scan::ScanArgs),
    /// Identify a few files, printed for a person.
    Query(scan::QueryArgs),
    /// Show an index's tracks, postings, size and parameters.
    Info(info::InfoArgs),
    /// Check every checksum of an index; exits 2 on damage.
    Verify(info::VerifyArgs),
    /// Index the catalogue shipped in testdata/ and scan the shipped dump.
    Demo(index::DemoArgs),
    /// Score a ground-truth file of queries against an index, per degradation.
    Eval(eval::EvalArgs),
    /// Combine the JSON Lines outputs of several shards into one, without duplicates.
    Merge(merge::MergeArgs),
    /// List a dataset manifest's entries that have no audio in a dump, and audio no entry names.
    ManifestCheck(manifest_check::ManifestCheckArgs),
    /// Write a scan's results as a static site of claims with plots (-o DIR) and a claims CSV.
    Report(report::ReportArgs),
    /// Scan one item again and say why each match was made: its evidence, line and pairs.
    Explain(explain::ExplainArgs),
    /// Serve items to a scan over stdin and stdout (started by `scan`, not by people).
    #[command(hide = true)]
    Worker(scan::WorkerArgs),
}

/// Where items are decoded.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In worker processes that are killed when an item passes its time or memory limit.
    Process,
    /// In threads of the scanning process: no time or memory limit per item.
    Thread,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object per match or error (the default for scan).
    Jsonl,
    /// Comma-separated values with a header row.
    Csv,
    /// Readable lines (the default for query).
    Human,
}

/// Limits on what one item may cost.
#[derive(Args, Debug, Clone)]
pub struct LimitArgs {
    /// Largest file or archive member read, in bytes.
    #[arg(long, default_value_t = Limits::default().max_item_bytes)]
    pub max_item_bytes: u64,
    /// Longest audio analysed per item, in seconds; the rest is skipped with a warning record.
    #[arg(long, default_value_t = Limits::default().max_audio_seconds)]
    pub max_seconds: f64,
    /// Largest parquet row group whose audio is read at once, in bytes; a larger one gets an
    /// error record per row.
    #[arg(long, default_value_t = Limits::default().max_row_group_bytes)]
    pub max_row_group_bytes: u64,
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_item_bytes: self.max_item_bytes,
            max_row_group_bytes: self.max_row_group_bytes,
            max_audio_seconds: self.max_seconds,
            ..Limits::default()
        }
    }
}

/// Datasets: which parquet column holds the audio, and the manifests joined onto the records.
#[derive(Args, Debug, Clone, Default)]
pub struct DatasetArgs {
    /// The audio column of parquet files that have several.
    #[arg(long, value_name = "NAME")]
    pub audio_column: Option<String>,
    /// Dataset metadata joined onto each item's records by its key (CSV, TSV, JSON Lines or
    /// parquet; FMA, MTG-Jamendo, LAION-DISCO-12M and Sleeping-DISCO-9M layouts known);
    /// repeatable.
    #[arg(long, value_name = "FILE")]
    pub manifest: Vec<PathBuf>,
    /// A pattern whose first group (or whole match) over an item's member name or path is its
    /// manifest key [default: the file or member stem, or a parquet row's key column].
    #[arg(long, value_name = "REGEX")]
    pub manifest_key: Option<String>,
}

impl DatasetArgs {
    /// The manifests, read, with the item key rule; `None` when no manifest was given.
    pub fn join(&self) -> anyhow::Result<Option<crate::dataset::Join>> {
        let key = match &self.manifest_key {
            Some(p) => crate::dataset::ItemKey::pattern(p)?,
            None => crate::dataset::ItemKey::default(),
        };
        if self.manifest.is_empty() {
            anyhow::ensure!(
                self.manifest_key.is_none(),
                "--manifest-key needs a --manifest to join"
            );
            return Ok(None);
        }
        let manifests = self
            .manifest
            .iter()
            .map(|p| crate::dataset::Manifest::open(p))
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(Some(crate::dataset::Join { manifests, key }))
    }

    /// These options by flag, for the resume journal and the provenance record.
    pub fn names(&self, names: &mut BTreeMap<String, serde_json::Value>) {
        if let Some(c) = &self.audio_column {
            names.insert("--audio-column".into(), c.clone().into());
        }
        if !self.manifest.is_empty() {
            let paths: Vec<String> = self
                .manifest
                .iter()
                .map(|p| p.display().to_string())
                .collect();
            names.insert("--manifest".into(), paths.into());
        }
        if let Some(k) = &self.manifest_key {
            names.insert("--manifest-key".into(), k.clone().into());
        }
    }
}

/// Where scanned items are decoded, and the limits that only worker processes can enforce.
#[derive(Args, Debug, Clone)]
pub struct IsolationArgs {
    /// Where items are decoded: worker processes survive decoders that hang or eat memory.
    #[arg(long, value_enum, default_value_t = Isolation::Process)]
    pub isolation: Isolation,
    /// Wall time one item may take before its worker process is killed, in seconds.
    #[arg(long, default_value_t = Limits::default().item_timeout_seconds)]
    pub item_timeout: f64,
    /// Memory (heap) one worker process may use, in MiB.
    #[arg(long, default_value_t = Limits::default().item_memory_bytes >> 20)]
    pub item_memory_mb: u64,
}

impl IsolationArgs {
    /// The worker command, or `None` for threads.
    pub fn worker(&self) -> crate::Result<Option<crate::scan::worker::WorkerCommand>> {
        match self.isolation {
            Isolation::Process => crate::scan::worker::WorkerCommand::this_executable().map(Some),
            Isolation::Thread => Ok(None),
        }
    }

    /// `limits` with this wall-time and memory limit.
    pub fn limits(&self, limits: Limits) -> Limits {
        Limits {
            item_timeout_seconds: self.item_timeout,
            item_memory_bytes: self.item_memory_mb.saturating_mul(1 << 20),
            ..limits
        }
    }
}

/// What a scan looks for: a profile, the few knobs a person sets, and tuning for experts.
#[derive(Args, Debug, Clone, Default)]
pub struct MatchArgs {
    /// What the dump holds: `clips` (clips and anything modified), `songs` (whole songs against
    /// a very large catalogue: about 8 times less matching, damaged copies shorter than a minute
    /// or two may be missed), `fast` (clips, without looking under a louder voice).
    #[arg(long, value_enum, default_value_t = Profile::Clips)]
    pub profile: Profile,
    /// Largest pitch shift searched for, in semitones [default: 2.5].
    #[arg(long, value_name = "SEMITONES")]
    pub max_pitch: Option<f64>,
    /// Largest speed or tempo change searched for, as a fraction: 0.1 is ±10 % [default: 0.1].
    #[arg(long, value_name = "FRACTION")]
    pub max_tempo: Option<f64>,
    /// How sure a match must be: an unrelated recording would match as well less than once in
    /// 10^N tries [default: 7].
    #[arg(long, value_name = "N")]
    pub strictness: Option<f64>,
    /// Settings for experts, from a TOML file of `key = value` lines (see --help-tuning).
    #[arg(long, value_name = "FILE")]
    pub tuning: Option<PathBuf>,
    /// One setting for experts, after --tuning's (repeatable; see --help-tuning).
    #[arg(long, value_name = "KEY=VALUE")]
    pub tune: Vec<String>,
    /// Print every tuning setting, its range and each profile's value, and exit.
    #[arg(long)]
    pub help_tuning: bool,
}

impl MatchArgs {
    /// The settings: the profile's, then the tuning file's, `--tune`'s and the knobs', each
    /// refused when out of range.
    pub fn query(&self) -> anyhow::Result<QueryParams> {
        let mut q = self.profile.params();
        if let Some(path) = &self.tuning {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            q.apply_toml(&text, &path.display().to_string())?;
        }
        for t in &self.tune {
            let (key, value) = t
                .split_once('=')
                .with_context(|| format!("--tune wants KEY=VALUE, got {t:?}"))?;
            let value: f64 = value
                .trim()
                .parse()
                .with_context(|| format!("--tune {t}: {value:?} is not a number"))?;
            q.set(key.trim(), value)?;
        }
        for (key, knob, flag) in [
            ("max_pitch_semitones", self.max_pitch, "--max-pitch"),
            ("max_tempo_change", self.max_tempo, "--max-tempo"),
            ("min_peak_evidence", self.strictness, "--strictness"),
        ] {
            if let Some(v) = knob {
                q.set(key, v).with_context(|| format!("{flag} {v}"))?;
            }
        }
        Ok(q)
    }

    /// What the results depend on, by the names people use: the profile, the knobs by their
    /// flags, every other setting by its tuning key (for the resume journal and its messages).
    pub fn names(&self, query: &QueryParams) -> BTreeMap<String, serde_json::Value> {
        let mut names = BTreeMap::new();
        names.insert("--profile".to_string(), self.profile.name().into());
        for (setting, (key, value)) in crate::tuning::SETTINGS.iter().zip(query.values()) {
            let name = match key {
                "max_pitch_semitones" => "--max-pitch",
                "max_tempo_change" => "--max-tempo",
                "min_peak_evidence" => "--strictness",
                other => other,
            };
            let value = if setting.integer {
                serde_json::Value::from(value as u64)
            } else {
                serde_json::Value::from(value)
            };
            names.insert(name.to_string(), value);
        }
        names
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Status> {
    match cli.command {
        Command::Index(a) => index::run(a),
        Command::Scan(a) => scan::run_scan(a),
        Command::Query(a) => scan::run_query(a),
        Command::Info(a) => info::run_info(a),
        Command::Verify(a) => info::run_verify(a),
        Command::Demo(a) => index::run_demo(a),
        Command::Eval(a) => eval::run(a),
        Command::Merge(a) => merge::run(a),
        Command::ManifestCheck(a) => manifest_check::run(a),
        Command::Report(a) => report::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Worker(a) => scan::run_worker(a),
    }
}

/// Number of worker threads for `--jobs` (0 = all cores).
pub fn jobs(requested: usize) -> usize {
    if requested == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        requested
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn matching(args: &[&str]) -> anyhow::Result<QueryParams> {
        let argv = ["earmark", "eval", "truth.tsv", "--index", "i.earmark"];
        let cli = Cli::try_parse_from(argv.iter().chain(args))?;
        let Command::Eval(e) = cli.command else {
            unreachable!("parsed as eval")
        };
        e.matching.query()
    }

    #[test]
    fn profiles_knobs_and_tuning_reach_the_matcher_in_that_order() {
        assert_eq!(matching(&[]).unwrap(), QueryParams::default());
        assert_eq!(
            matching(&["--profile", "songs"]).unwrap(),
            Profile::Songs.params()
        );
        let q = matching(&[
            "--profile",
            "songs",
            "--tune",
            "key_sample=64",
            "--max-pitch",
            "1",
        ])
        .unwrap();
        assert_eq!(
            (q.key_sample, q.candidate_score, q.max_pitch_semitones),
            (64, 4, 1.0)
        );
        let q = matching(&["--strictness", "9", "--max-tempo", "0.05"]).unwrap();
        assert_eq!((q.min_peak_evidence, q.max_tempo_change), (9.0, 0.05));
        // Nothing moves a default behind the user's back: a key sample alone is just that.
        let q = matching(&["--tune", "key_sample=8"]).unwrap();
        assert_eq!((q.candidate_score, q.fine_peaks_per_second), (3, 45.0));
    }

    #[test]
    fn values_out_of_range_are_refused_with_their_range() {
        let err = matching(&["--tune", "probe_margin=0.9"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("from 0 to 0.5"), "{err}");
        let err = format!("{:#}", matching(&["--max-pitch", "30"]).unwrap_err());
        assert!(
            err.contains("--max-pitch 30") && err.contains("from 0 to 12"),
            "{err}"
        );
        assert!(matching(&["--tune", "probe_margin"]).is_err());
    }
}
