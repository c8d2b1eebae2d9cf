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
mod index;
mod info;
mod merge;
mod scan;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Limits, QueryParams};

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
    /// Scan a dump (files, directories, tar, tar.gz, zip) for catalogue recordings.
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
}

impl LimitArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_item_bytes: self.max_item_bytes,
            max_audio_seconds: self.max_seconds,
            ..Limits::default()
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

/// Query-time matching settings.
#[derive(Args, Debug, Clone)]
pub struct MatchArgs {
    /// Hits on one time line needed to report a match whose pitch, tempo or speed changed
    /// (twice as many when pitch and tempo changed independently).
    #[arg(long, default_value_t = QueryParams::default().min_inliers)]
    pub min_score: u32,
    /// Hits on one time line needed to report an unchanged copy (speed 1, pitch 0); never more
    /// than --min-score.
    #[arg(long, default_value_t = QueryParams::default().min_inliers_unchanged)]
    pub min_score_unchanged: u32,
    /// Distinct pitches (quarter semitones) among the query peaks a match rests on: fewer is a
    /// repeated note or two lining up with another such figure, not a copy (1: no such rule).
    #[arg(long, default_value_t = QueryParams::default().min_pitches)]
    pub min_pitches: u32,
    /// Where the index stores its tracks' peaks: hits on one time line that make a candidate
    /// worth checking against them (twice as many when pitch and tempo changed independently;
    /// one fewer, at least 2, for an unchanged copy when every key is read, whose line is
    /// searched on its own odds) [default: 3, or 4 with --key-sample above 1]
    #[arg(long)]
    pub candidate_score: Option<u32>,
    /// Evidence a checked candidate needs: -log10 of the chance that a recording unrelated to
    /// the track would hold its peaks where the match puts them as well as the item does, a
    /// peak counting for more where the item has few others at its pitch (0: no peak check;
    /// every match then needs --min-score and --min-pitches, as with an index without peaks).
    #[arg(long, default_value_t = QueryParams::default().min_peak_evidence)]
    pub min_peak_evidence: f64,
    /// --min-pitches for a match checked against the track's peaks. A match of fewer landmarks
    /// than this shows its figure in the peaks it matched instead: they lie on 8 semitones or
    /// more.
    #[arg(long, default_value_t = QueryParams::default().min_pitches_checked)]
    pub min_pitches_checked: u32,
    /// Largest pitch shift searched for, in semitones (a copy shifted a little more may still be
    /// found, through the verification tolerance, and is reported at its measured shift: at most
    /// half a semitone beyond the limit rounded up to a quarter semitone).
    #[arg(long, default_value_t = QueryParams::default().max_pitch_semitones)]
    pub max_pitch: f32,
    /// Largest speed or tempo change searched for, as a fraction (0.1 = ±10 %).
    #[arg(long, default_value_t = QueryParams::default().max_tempo_change)]
    pub max_tempo: f32,
    /// Spectral peaks kept per second of query audio (denser finds more, costs more lookups).
    #[arg(long, default_value_t = QueryParams::default().peaks_per_second)]
    pub query_peaks: f32,
    /// Triplets formed per query anchor peak.
    #[arg(long, default_value_t = QueryParams::default().fanout)]
    pub query_fanout: u32,
    /// Peaks per second of the query's dense layer, whose weaker peaks form extra triplets,
    /// looked up at the query's own pitch and speed (finds music under speech or through a
    /// narrow band; 0: none).
    #[arg(long, default_value_t = QueryParams::default().dense_peaks_per_second)]
    pub dense_peaks: f32,
    /// Zone peaks paired per anchor in the dense layer (below 2: no dense layer).
    #[arg(long, default_value_t = QueryParams::default().dense_fanout)]
    pub dense_fanout: u32,
    /// Peaks per second, each the maximum of a small neighbourhood, that form triplets of their
    /// own and that the peak check also reads: music under a voice keeps such peaks where the
    /// ordinary ones are lost (0: none, for a faster scan) [default: 45, or 0 with --key-sample
    /// above 1]
    #[arg(long)]
    pub fine_peaks: Option<f32>,
    /// Zone peaks, fine ones included, paired per anchor into triplets that hold a fine peak,
    /// looked up like the dense layer's (below 2: fine peaks only serve the peak check).
    #[arg(long, default_value_t = QueryParams::default().fine_fanout)]
    pub fine_fanout: u32,
    /// A feature this close to a hash cell's edge (fraction of a cell) is also looked up in the
    /// neighbouring cell; 0 looks up one cell per feature.
    #[arg(long, default_value_t = QueryParams::default().probe_margin)]
    pub probe_margin: f32,
    /// Peak-time error, in frames (16 ms), across which rare triplets are looked up: every
    /// time-ratio cell that B or C moved by this much could reach (0: the probe margin only).
    #[arg(long, default_value_t = QueryParams::default().ratio_jitter_frames)]
    pub ratio_jitter: f32,
    /// In an index with fourth-peak hashes: a triplet holding more postings than this is read
    /// only where its fourth peak agrees with the query's (larger finds more in large
    /// catalogues and costs more: 1024 at 10^8 postings finds nearly what a small catalogue
    /// would, in twice the time; 0 reads every triplet that way).
    #[arg(long, default_value_t = QueryParams::default().fourth_peak_above)]
    pub fourth_peak_above: u64,
    /// Triplets holding more than this share of the index's postings are skipped as common
    /// (never one of 32 postings or fewer). A share, so that an index skips the same triplets
    /// whatever its size; a larger one reads more common triplets, for more time.
    #[arg(long, default_value_t = QueryParams::default().common_hash_share)]
    pub common_hash_share: f64,
    /// The same for the dense layer's triplets, each looked up in its own cells only, so
    /// reading them whole costs little: it finds music under speech in a large catalogue.
    #[arg(long, default_value_t = QueryParams::default().dense_fourth_peak_above)]
    pub dense_fourth_peak_above: u64,
    /// Zone peaks after C that the query offers as the index's fourth peak (the strongest, or the
    /// first in an index built with that rule).
    #[arg(long, default_value_t = QueryParams::default().fourth_peak_candidates)]
    pub fourth_peak_candidates: u32,
    /// Look up one triplet key in K (1: all). Matching costs about 1/K as much and the
    /// verification window grows K-fold, so recordings lasting K times as long as before are
    /// found as reliably: for dumps of whole songs against very large catalogues.
    #[arg(long, value_name = "K", default_value_t = QueryParams::default().key_sample)]
    pub key_sample: u32,
}

impl MatchArgs {
    pub fn query(&self) -> QueryParams {
        QueryParams {
            min_inliers: self.min_score.max(1),
            min_inliers_unchanged: self.min_score_unchanged.max(1),
            min_pitches: self.min_pitches,
            candidate_score: self
                .candidate_score
                .unwrap_or(QueryParams::default_candidate_score(self.key_sample))
                .max(1),
            min_peak_evidence: self.min_peak_evidence.max(0.0),
            min_pitches_checked: self.min_pitches_checked,
            max_pitch_semitones: self.max_pitch,
            max_tempo_change: self.max_tempo,
            peaks_per_second: self.query_peaks.max(1.0),
            fanout: self.query_fanout.max(1),
            dense_peaks_per_second: self.dense_peaks.max(0.0),
            dense_fanout: self.dense_fanout.min(16),
            fine_peaks_per_second: self
                .fine_peaks
                .unwrap_or(QueryParams::default_fine_peaks(self.key_sample))
                .max(0.0),
            fine_fanout: self.fine_fanout.min(16),
            probe_margin: self.probe_margin.clamp(0.0, 0.5),
            ratio_jitter_frames: self.ratio_jitter.clamp(0.0, 8.0),
            fourth_peak_above: self.fourth_peak_above,
            common_hash_share: self.common_hash_share.clamp(0.0, 1.0),
            dense_fourth_peak_above: self.dense_fourth_peak_above,
            fourth_peak_candidates: self
                .fourth_peak_candidates
                .clamp(1, crate::fingerprint::landmark::MAX_FOURTH_CANDIDATES),
            key_sample: self.key_sample.max(1),
            ..QueryParams::default()
        }
    }
}

impl MatchArgs {
    /// The matching options `query` holds, each by the flag that sets it (settings without a
    /// flag by their own name), for the resume journal and its messages.
    pub fn names(&self, query: &QueryParams) -> BTreeMap<String, serde_json::Value> {
        const FLAGS: &[(&str, &str)] = &[
            ("peaks_per_second", "--query-peaks"),
            ("fanout", "--query-fanout"),
            ("dense_peaks_per_second", "--dense-peaks"),
            ("dense_fanout", "--dense-fanout"),
            ("fine_peaks_per_second", "--fine-peaks"),
            ("fine_fanout", "--fine-fanout"),
            ("max_pitch_semitones", "--max-pitch"),
            ("max_tempo_change", "--max-tempo"),
            ("probe_margin", "--probe-margin"),
            ("ratio_jitter_frames", "--ratio-jitter"),
            ("common_hash_share", "--common-hash-share"),
            ("fourth_peak_above", "--fourth-peak-above"),
            ("dense_fourth_peak_above", "--dense-fourth-peak-above"),
            ("fourth_peak_candidates", "--fourth-peak-candidates"),
            ("key_sample", "--key-sample"),
            ("min_inliers", "--min-score"),
            ("min_inliers_unchanged", "--min-score-unchanged"),
            ("min_pitches", "--min-pitches"),
            ("candidate_score", "--candidate-score"),
            ("min_peak_evidence", "--min-peak-evidence"),
            ("min_pitches_checked", "--min-pitches-checked"),
        ];
        let serde_json::Value::Object(fields) = serde_json::to_value(query).expect("plain data")
        else {
            unreachable!("a struct serialises to an object")
        };
        fields
            .into_iter()
            .map(|(field, value)| {
                let name = FLAGS
                    .iter()
                    .find(|(f, _)| *f == field)
                    .map_or(field, |(_, flag)| flag.to_string());
                (name, value)
            })
            .collect()
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

    fn matching(args: &[&str]) -> QueryParams {
        let argv = ["earmark", "eval", "truth.tsv", "--index", "i.earmark"];
        let cli = Cli::try_parse_from(argv.iter().chain(args)).unwrap();
        let Command::Eval(e) = cli.command else {
            unreachable!("parsed as eval")
        };
        e.matching.query()
    }

    #[test]
    fn matching_options_default_to_the_library_defaults_and_reach_the_matcher() {
        assert_eq!(matching(&[]), QueryParams::default());
        let q = matching(&["--common-hash-share", "0.0005", "--key-sample", "8"]);
        assert_eq!(q.common_hash_share, 0.0005);
        assert_eq!(q.key_sample, 8);
        assert_eq!(q.max_postings_per_hash(1_000_000_000), 500_000);
        // Sampled keys raise the candidate score's default, not a score asked for.
        assert_eq!(q.candidate_score, 4);
        let asked = ["--key-sample", "8", "--candidate-score", "3"];
        assert_eq!(matching(&asked).candidate_score, 3);
        assert_eq!(matching(&["--candidate-score", "5"]).candidate_score, 5);
        // And turn fine peaks off, unless asked for.
        assert_eq!(q.fine_peaks_per_second, 0.0);
        let asked = ["--key-sample", "8", "--fine-peaks", "30"];
        assert_eq!(matching(&asked).fine_peaks_per_second, 30.0);
        assert_eq!(matching(&["--fine-peaks", "0"]).fine_peaks_per_second, 0.0);
    }
}
