//! `earmark index` (and `earmark demo`, which indexes then scans the shipped test data).

use std::collections::{BTreeSet, HashMap};
use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use super::{InputList, Status};
use crate::audio;
use crate::config::{FingerprintParams, Limits};
use crate::error::{Error, Failure};
use crate::fingerprint::{Density, Fingerprinter, HashLayout, Keyed};
use crate::index::format::{PeakCode, SOURCE_CHECK_BYTES, source_check};
use crate::index::{BuildLock, Index, IndexBuilder, TrackEntry};
use crate::output::{self, Output};
use crate::report::{LISTED_FAILURES, Skip, Summary, count};
use crate::scan::source::{self, Item, ItemData};

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Catalogue files, directories and archives.
    #[arg(required_unless_present = "files_from")]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub list: InputList,
    /// The index file to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// TSV of `path<TAB>external id` (an ISRC, say); paths as track ids are shown.
    #[arg(long)]
    pub ids: Option<PathBuf>,
    /// Add to the existing index at --output instead of replacing it; tracks already in it are
    /// not fingerprinted again.
    #[arg(long, conflicts_with = "force")]
    pub append: bool,
    /// Replace an existing index, or a file that earmark did not write (never an input).
    #[arg(long)]
    pub force: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,
    /// Postings held in memory before a sorted run is spilled to disk, in MiB.
    #[arg(long, default_value_t = 2048)]
    pub memory_mb: u64,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The catalogue to index [default: testdata/catalogue of earmark's source tree].
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
    /// The dump to scan [default: testdata/dump].
    #[arg(long)]
    pub dump: Option<PathBuf>,
    /// External ids for the catalogue [default: testdata/catalogue-ids.tsv].
    #[arg(long)]
    pub ids: Option<PathBuf>,
}

/// A catalogue file ready to fingerprint, with its track id.
struct Pending {
    id: String,
    item: Item,
}

/// Items per parallel batch: bounds memory while keeping track ids in walk order.
const BATCH: usize = 64;

/// How an index build went, for the summary and the exit status.
#[derive(Default)]
struct Tally {
    added: u64,
    seconds: f64,
    /// Already in the index under the same id and with the same bytes (`--append`).
    already: u64,
    failed: u64,
    too_short: u64,
    warnings: u64,
}

pub fn run(args: IndexArgs) -> anyhow::Result<Status> {
    let started = Instant::now();
    let limits = args.limits.limits();
    super::inputs_exist(&args.inputs)?;
    let appending = args.append && args.output.exists();
    if appending {
        output::not_read(&args.output, None, &args.inputs)?;
    } else {
        output::claim(&args.output, Output::Index, None, &args.inputs, args.force)?;
    }
    let _lock = BuildLock::acquire(&args.output)?;
    let mut external_ids = match &args.ids {
        Some(path) => ExternalIds::read(path)?,
        None => ExternalIds::default(),
    };
    let base = if appending {
        Some(Index::open(&args.output)?)
    } else {
        None
    };
    let params = base
        .as_ref()
        .map_or_else(FingerprintParams::default, |b| *b.params());
    let spill = spill_dir(&args.output);
    let mut builder = IndexBuilder::new(params, args.memory_mb << 20, spill)?;
    if let Some(b) = &base {
        builder = builder.with_base(b)?;
    }
    // Ids already in the index, with the source check of the file each came from.
    let indexed: HashMap<String, u32> = base.as_ref().map_or_else(HashMap::new, |b| {
        (0..b.tracks())
            .filter_map(|t| b.track(crate::index::TrackId(t)))
            .map(|t| (t.id.to_string(), t.source))
            .collect()
    });
    // Ids given out in this run, with the file each came from.
    let mut given: HashMap<String, String> = HashMap::new();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(super::jobs(args.jobs))
        .build()?;

    let mut tally = Tally::default();
    let mut failures: Vec<String> = Vec::new();
    let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<Pending>,
                     builder: &mut IndexBuilder,
                     tally: &mut Tally,
                     external_ids: &mut ExternalIds|
     -> anyhow::Result<()> {
        let results: Vec<_> = pool.install(|| {
            batch
                .par_drain(..)
                .map(|p| (p.id, fingerprint_item(p.item, &params, &limits)))
                .collect()
        });
        for (id, result) in results {
            match result {
                Ok(f) => {
                    if let Some(problem) = &f.problem {
                        eprintln!("earmark: {id}: warning: {problem}");
                        tally.warnings += 1;
                    }
                    let entry = TrackEntry {
                        external_id: external_ids.take(&id),
                        id,
                        frames: f.frames,
                        source: f.source,
                    };
                    builder.add_track(entry, &f.hashes, &f.peaks)?;
                    tally.added += 1;
                    tally.seconds += f.seconds;
                }
                Err(Error::TooShort { seconds, .. }) => {
                    eprintln!(
                        "earmark: {id}: skipped: {seconds:.2} s of audio is too short to fingerprint"
                    );
                    tally.too_short += 1;
                }
                Err(e) => {
                    let failure = e.failure();
                    eprintln!("earmark: {id}: {failure}");
                    if failures.len() < LISTED_FAILURES {
                        failures.push(format!("{id}: {failure}"));
                    }
                    tally.failed += 1;
                }
            }
        }
        Ok(())
    };
    let list = args.list.open()?;
    let listed = list.paths().map(|p| (p, true));
    let mut failure = None;
    let mut walker_skips = Summary::default();
    for (input, is_listed) in args
        .inputs
        .iter()
        .cloned()
        .map(|p| (p, false))
        .chain(listed)
    {
        let prefix = input.display().to_string();
        let mut walker = source::Walker::new(&limits, &|_| true);
        walker.walk([input.clone()], &mut |item| {
            let id = track_id(&prefix, &input, is_listed, &item);
            if let Some(&stored) = indexed.get(&id) {
                match same_source(stored, &item) {
                    Ok(true) => {
                        external_ids.take(&id);
                        tally.already += 1;
                        return true;
                    }
                    Ok(false) => {
                        failure = Some(anyhow::anyhow!(
                            "{} has the track id `{id}` of another recording already in {}: track ids are paths relative to the argument they were found under, so index it from a folder that names it apart",
                            item_name(&item),
                            args.output.display()
                        ));
                        return false;
                    }
                    Err(e) => {
                        failure = Some(anyhow::anyhow!(e));
                        return false;
                    }
                }
            }
            if let Some(first) = given.insert(id.clone(), item_name(&item)) {
                failure = Some(anyhow::anyhow!(
                    "two catalogue files have the track id `{id}`: {first} and {}; track ids are paths relative to the argument they were found under, so index them from a common parent folder (or list them with --files-from, whose ids are the paths as listed)",
                    item_name(&item)
                ));
                return false;
            }
            batch.push(Pending { id, item });
            if batch.len() == BATCH
                && let Err(e) = flush(&mut batch, &mut builder, &mut tally, &mut external_ids)
            {
                failure = Some(e);
                return false;
            }
            true
        });
        walker_skips.merge(&walker.skipped);
        if let Some(e) = failure.take() {
            return Err(e);
        }
    }
    list.finish()?;
    flush(&mut batch, &mut builder, &mut tally, &mut external_ids)?;
    external_ids.report_unmatched();
    if tally.added == 0 && tally.already == 0 {
        let found = tally.failed + tally.too_short;
        let why = if found == 0 {
            walker_skips.nothing_found()
        } else {
            format!(
                "no track could be indexed: {} failed, {} too short",
                tally.failed, tally.too_short
            )
        };
        anyhow::bail!("{why}; {} was not written", args.output.display());
    }
    if let Some(b) = base.as_ref().filter(|_| tally.added == 0) {
        eprintln!(
            "earmark: nothing new to add to {} ({} already in it)",
            b.path().display(),
            count(u64::from(b.tracks()), "track", "tracks")
        );
        return Ok(exit(&tally, &failures));
    }
    let stats = builder
        .finish(&args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let wall = started.elapsed().as_secs_f64();
    let mut notes = Vec::new();
    if tally.already > 0 {
        notes.push(format!("{} already indexed", tally.already));
    }
    if tally.too_short > 0 {
        notes.push(format!("{} too short", tally.too_short));
    }
    if tally.failed > 0 {
        notes.push(format!("{} failed", tally.failed));
    }
    if let Some(n) = walker_skips.skipped.get(&Skip::NotAudio) {
        notes.push(format!("{n} not audio"));
    }
    eprintln!(
        "earmark: indexed {} ({:.2} h of audio) in {wall:.1} s ({:.0}x real time){}; {} has {}, {} postings, {:.2} MB",
        count(tally.added, "track", "tracks"),
        tally.seconds / 3600.0,
        tally.seconds / wall.max(1e-9),
        if notes.is_empty() {
            String::new()
        } else {
            format!(", skipped: {}", notes.join(", "))
        },
        args.output.display(),
        count(stats.tracks, "track", "tracks"),
        stats.postings,
        stats.bytes as f64 / 1e6
    );
    Ok(exit(&tally, &failures))
}

/// 0, or 3 when catalogue files could not be indexed (listed again, after the progress lines).
fn exit(tally: &Tally, failures: &[String]) -> Status {
    if tally.failed == 0 {
        return Status::Found;
    }
    eprintln!(
        "earmark: {} could not be indexed:",
        count(tally.failed, "file", "files")
    );
    for f in failures {
        eprintln!("  {f}");
    }
    if tally.failed > failures.len() as u64 {
        eprintln!("  … and {} more", tally.failed - failures.len() as u64);
    }
    Status::ItemsFailed
}

/// `file` or `archive :: member`, for messages.
fn item_name(item: &Item) -> String {
    match &item.member {
        Some(m) => format!("{} :: {m}", item.item),
        None => item.item.clone(),
    }
}

/// Whether `item` is the file whose [`source_check`] the index stored (0: not recorded, so
/// taken to be the same).
fn same_source(stored: u32, item: &Item) -> anyhow::Result<bool> {
    if stored == 0 {
        return Ok(true);
    }
    let check = match &item.data {
        ItemData::Bytes(b) => source_check(b.len() as u64, b, b),
        ItemData::File(path) => file_source_check(path)?,
        ItemData::Failed(_) => return Ok(true),
    };
    Ok(check == stored)
}

/// [`source_check`] of a file, reading only its two ends.
fn file_source_check(path: &Path) -> anyhow::Result<u32> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let len = f.metadata()?.len();
    let mut head = Vec::new();
    (&mut f)
        .take(SOURCE_CHECK_BYTES as u64)
        .read_to_end(&mut head)?;
    let from = len.saturating_sub(SOURCE_CHECK_BYTES as u64);
    f.seek(std::io::SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)?;
    Ok(source_check(len, &head, &tail))
}

/// The track id of an item: its path relative to the argument it was found under, with the
/// archive member appended for archives inside a directory. An item reached from a path read
/// from `--files-from` is named by its whole path, as listed.
fn track_id(prefix: &str, input: &Path, listed: bool, item: &Item) -> String {
    if listed {
        return match &item.member {
            Some(m) => format!("{}/{m}", item.item),
            None => item.item.clone(),
        };
    }
    let relative = item
        .item
        .strip_prefix(prefix)
        .map(|r| r.trim_start_matches('/'))
        .unwrap_or(&item.item);
    let file_name = || {
        input
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    match (&item.member, relative.is_empty()) {
        (Some(m), true) => m.clone(),
        (Some(m), false) => format!("{relative}/{m}"),
        (None, true) => file_name(),
        (None, false) => relative.to_string(),
    }
}

/// One catalogue track's hashes, ready for the builder.
struct Fingerprinted {
    hashes: Vec<Keyed>,
    peaks: Vec<PeakCode>,
    frames: u32,
    seconds: f64,
    source: u32,
    /// Set when only part of the file could be decoded.
    problem: Option<Failure>,
}

/// Decodes and fingerprints one catalogue item at index density.
fn fingerprint_item(
    item: Item,
    params: &FingerprintParams,
    limits: &Limits,
) -> Result<Fingerprinted, Error> {
    let ext = item.extension();
    let bytes = match item.data {
        ItemData::Failed(failure) => return Err(Error::Item(failure)),
        ItemData::Bytes(b) => b,
        ItemData::File(path) => source::read_file(&path, limits)?,
    };
    if bytes.is_empty() {
        return Err(Error::Item(Failure::new(
            crate::error::FailureKind::Empty,
            "empty file (0 bytes)",
        )));
    }
    let source = source_check(bytes.len() as u64, &bytes, &bytes);
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let layout = HashLayout::new(params);
        let mut fp = Fingerprinter::new(params, Density::index(params)).keeping_peaks();
        let mut hashes = Vec::new();
        let mut peaks = Vec::new();
        let decoded = audio::decode(
            Box::new(Cursor::new(bytes)),
            ext.as_deref(),
            params.sample_rate,
            limits,
            &mut |s| {
                fp.push(s);
                hashes.extend(fp.take().map(|m| layout.keyed(&m)));
                peaks.extend(fp.take_peaks().filter_map(|p| p.code(params)));
            },
        )?;
        let (rest, rest_peaks, frames) = fp.finish_with_peaks();
        hashes.extend(rest.iter().map(|m| layout.keyed(m)));
        peaks.extend(rest_peaks.iter().filter_map(|p| p.code(params)));
        Ok(Fingerprinted {
            hashes,
            peaks,
            frames: u32::try_from(frames).unwrap_or(u32::MAX),
            seconds: decoded.seconds,
            source,
            problem: decoded.problem,
        })
    }));
    run.unwrap_or_else(|_| {
        Err(Error::DecoderPanic {
            message: "while indexing".into(),
        })
    })
}

/// `--ids`: external ids by track id, and which of them a track took.
#[derive(Default)]
struct ExternalIds {
    path: Option<PathBuf>,
    ids: HashMap<String, String>,
    taken: BTreeSet<String>,
}

impl ExternalIds {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut ids = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (p, id) = line
                .split_once('\t')
                .with_context(|| format!("{}:{}: expected `path<TAB>id`", path.display(), n + 1))?;
            ids.insert(p.trim().to_string(), id.trim().to_string());
        }
        Ok(ExternalIds {
            path: Some(path.to_path_buf()),
            ids,
            taken: BTreeSet::new(),
        })
    }

    /// The external id of track `id` ("" when none), marked as used.
    fn take(&mut self, id: &str) -> String {
        match self.ids.get(id) {
            Some(external) => {
                self.taken.insert(id.to_string());
                external.clone()
            }
            None => String::new(),
        }
    }

    /// Warns about lines that named no track: a typo there leaves a recording without its id.
    fn report_unmatched(&self) {
        let Some(path) = &self.path else { return };
        let mut unmatched: Vec<&String> = self
            .ids
            .keys()
            .filter(|k| !self.taken.contains(*k))
            .collect();
        if unmatched.is_empty() {
            return;
        }
        unmatched.sort();
        let shown: Vec<&str> = unmatched.iter().take(10).map(|s| s.as_str()).collect();
        eprintln!(
            "earmark: warning: {} of {} match no track: {}{}",
            count(unmatched.len() as u64, "line", "lines"),
            path.display(),
            shown.join(", "),
            if unmatched.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        );
    }
}

/// `catalogue.earmark` → `catalogue.earmark.runs-<pid>` beside it.
fn spill_dir(output: &Path) -> PathBuf {
    crate::index::builder::sibling(output, &format!(".runs-{}", std::process::id()))
}

/// A path of earmark's source tree (where the demo's data is shipped), or the same path from
/// the current folder when the source tree is gone (an installed binary).
fn shipped(rel: &str) -> PathBuf {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    if built_from.exists() {
        built_from
    } else {
        PathBuf::from(rel)
    }
}

pub fn run_demo(args: DemoArgs) -> anyhow::Result<Status> {
    let catalogue = args
        .catalogue
        .unwrap_or_else(|| shipped("testdata/catalogue"));
    let dump = args.dump.unwrap_or_else(|| shipped("testdata/dump"));
    let ids = args
        .ids
        .unwrap_or_else(|| shipped("testdata/catalogue-ids.tsv"));
    let dir = tempfile_dir()?;
    let index_path = dir.join("catalogue.earmark");
    eprintln!(
        "earmark demo: indexing {} into {}",
        catalogue.display(),
        index_path.display()
    );
    let index_args = IndexArgs {
        inputs: vec![catalogue],
        list: InputList::default(),
        output: index_path.clone(),
        ids: ids.exists().then_some(ids),
        append: false,
        force: false,
        jobs: 0,
        memory_mb: 256,
        limits: super::LimitArgs {
            max_item_bytes: Limits::default().max_item_bytes,
            max_seconds: Limits::default().max_audio_seconds,
        },
    };
    let scanned = run(index_args).and_then(|_| {
        eprintln!("earmark demo: scanning {}", dump.display());
        super::scan::Job {
            index: &index_path,
            inputs: std::slice::from_ref(&dump),
            list: &InputList::default(),
            format: super::Format::Human,
            output: None,
            resume: false,
            force: false,
            strict: false,
            options: &crate::scan::ScanOptions::default(),
            names: Default::default(),
        }
        .run()
    });
    let _ = std::fs::remove_dir_all(&dir);
    // The demo did its job once the dump was scanned, whatever it held.
    scanned.map(|_| Status::Found)
}

/// A fresh folder for the demo's index, removed when it ends.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("earmark-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
