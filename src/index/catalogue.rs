//! Indexing a catalogue, as `earmark index` does it: [`build`] walks the inputs, names each
//! recording ([`track_id`]), refuses two recordings of one id, fingerprints batches in parallel
//! ([`fingerprint_track`]) and hands them to the [`IndexBuilder`]. With a base index
//! (`--append`), a recording already in it under its id, with the same bytes, is not
//! fingerprinted again, and the new ones become a segment of their own; [`compact`] merges the
//! segments into one.

use std::collections::{BTreeSet, HashMap};
use std::io::{Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::format::{MAX_SEGMENTS, SOURCE_CHECK_BYTES, source_check};
use super::{BuildLock, BuildStats, Index, IndexBuilder, TrackEntry, TrackId};
use crate::audio;
use crate::codec::{Keyed, PeakCode};
use crate::config::FingerprintParams;
use crate::error::{Error, Failure, FailureKind, Result};
use crate::fingerprint::{Density, Fingerprinter, HashLayout};
use crate::limits::Limits;
use crate::report::{LISTED_FAILURES, Summary};
use crate::scan::source::{self, Item, ItemData};

/// A track's metadata as `earmark index --ids` stored it in the track's external-id string:
/// a bare id (an ISRC) from a two-column list, or a JSON object of the columns of a metadata
/// file with a header (`isrc`, `title`, `artist`, and any others). This is the one place that
/// string is read back (docs/index-format.md, "Track table and strings").
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackMetadata {
    /// The id that records name the track by (`external_id`): the bare id, or the object's
    /// `isrc` (else `external_id`, else `id`); empty when there is none.
    pub external_id: String,
    /// Every column of the metadata file, where one was given.
    pub fields: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The keys, in order, whose value names a track in records when its metadata has several.
const ID_COLUMNS: &[&str] = &["isrc", "external_id", "id"];

impl TrackMetadata {
    /// Reads a stored external-id string back.
    pub fn of(stored: &str) -> Self {
        let fields = stored
            .starts_with('{')
            .then(|| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(stored))
            .and_then(Result::ok);
        match fields {
            Some(fields) => TrackMetadata {
                external_id: ID_COLUMNS
                    .iter()
                    .find_map(|k| fields.get(*k).and_then(serde_json::Value::as_str))
                    .unwrap_or_default()
                    .to_string(),
                fields: Some(fields),
            },
            None => TrackMetadata {
                external_id: stored.to_string(),
                fields: None,
            },
        }
    }

    /// The string stored for `fields` (a metadata file's columns other than the path).
    pub fn stored(fields: &serde_json::Map<String, serde_json::Value>) -> String {
        serde_json::Value::Object(fields.clone()).to_string()
    }
}

/// One catalogue recording fingerprinted at index density, ready for the builder.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueTrack {
    pub hashes: Vec<Keyed>,
    pub peaks: Vec<PeakCode>,
    pub frames: u32,
    pub seconds: f64,
    /// [`source_check`] of the bytes (0 for samples fingerprinted directly).
    pub source: u32,
    /// Set when only part of the file could be decoded.
    pub problem: Option<Failure>,
}

/// Keys landmarks and codes peaks as they come out of an index-density fingerprinter.
struct Keying {
    fingerprinter: Fingerprinter,
    layout: HashLayout,
    params: FingerprintParams,
    hashes: Vec<Keyed>,
    peaks: Vec<PeakCode>,
}

impl Keying {
    fn new(params: &FingerprintParams) -> Self {
        Keying {
            fingerprinter: Fingerprinter::new(params, Density::index(params)).keeping_peaks(),
            layout: HashLayout::new(params),
            params: *params,
            hashes: Vec::new(),
            peaks: Vec::new(),
        }
    }

    fn push(&mut self, samples: &[f32]) {
        let (layout, params) = (&self.layout, &self.params);
        self.fingerprinter.push(samples);
        self.hashes
            .extend(self.fingerprinter.take().map(|m| layout.keyed(&m)));
        self.peaks.extend(
            self.fingerprinter
                .take_peaks()
                .filter_map(|p| p.code(params)),
        );
    }

    fn finish(mut self, seconds: f64, source: u32, problem: Option<Failure>) -> CatalogueTrack {
        let (rest, rest_peaks, frames) = self.fingerprinter.finish_with_peaks();
        self.hashes
            .extend(rest.iter().map(|m| self.layout.keyed(m)));
        self.peaks
            .extend(rest_peaks.iter().filter_map(|p| p.code(&self.params)));
        CatalogueTrack {
            hashes: self.hashes,
            peaks: self.peaks,
            frames: u32::try_from(frames).unwrap_or(u32::MAX),
            seconds,
            source,
            problem,
        }
    }
}

/// Decodes and fingerprints one catalogue file's bytes, as `earmark index` does.
pub fn fingerprint_track(
    bytes: Vec<u8>,
    extension: Option<&str>,
    params: &FingerprintParams,
    limits: &Limits,
) -> Result<CatalogueTrack> {
    if bytes.is_empty() {
        return Err(Error::Item(Failure::new(
            FailureKind::Empty,
            "empty file (0 bytes)",
        )));
    }
    let source = source_check(bytes.len() as u64, &bytes, &bytes);
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut keying = Keying::new(params);
        let decoded = audio::decode(
            Box::new(Cursor::new(bytes)),
            extension,
            params.sample_rate,
            limits,
            &mut |s| keying.push(s),
        )?;
        Ok(keying.finish(decoded.seconds, source, decoded.problem))
    }));
    run.unwrap_or_else(|_| {
        Err(Error::DecoderPanic {
            message: "while indexing".into(),
        })
    })
}

/// Fingerprints audio already decoded to the analysis rate (tests and benchmarks of synthetic
/// or prepared audio); the same keying as [`fingerprint_track`].
pub fn fingerprint_samples(samples: &[f32], params: &FingerprintParams) -> CatalogueTrack {
    let mut keying = Keying::new(params);
    keying.push(samples);
    let seconds = samples.len() as f64 / f64::from(params.sample_rate);
    keying.finish(seconds, 0, None)
}

/// What to index, and where.
pub struct Request<'a> {
    /// Inputs named on the command line: a track's id is its path relative to the input.
    pub named: &'a [PathBuf],
    /// Inputs read from a list: a track's id is its path as listed.
    pub listed: &'a mut dyn Iterator<Item = PathBuf>,
    pub output: &'a Path,
    /// The index to add to (`--append`), or none.
    pub base: Option<&'a Index>,
    /// Write the whole index as one segment, the base's postings merged in, instead of adding
    /// the new tracks as a segment of their own (`--compact`).
    pub compact: bool,
    /// External ids (`--ids`), by track id.
    pub external_ids: HashMap<String, String>,
    pub jobs: usize,
    /// Bytes of postings held in memory before a sorted run is spilled.
    pub memory_bytes: u64,
    pub limits: Limits,
}

/// Something to tell the person indexing, as it happens.
pub enum Note<'a> {
    /// Indexed, but only part of the file decoded.
    Partial { id: &'a str, problem: &'a Failure },
    /// Not indexed: less audio than a fingerprint needs.
    TooShort { id: &'a str, seconds: f64 },
    /// Not indexed.
    Failed { id: &'a str, failure: &'a Failure },
}

/// How an index build went.
#[derive(Debug, Default)]
pub struct Built {
    pub added: u64,
    /// Seconds of audio added.
    pub seconds: f64,
    /// Already in the base index under the same id, with the same bytes.
    pub already: u64,
    pub failed: u64,
    /// The first [`LISTED_FAILURES`] failures, `id: message (kind)`.
    pub failures: Vec<String>,
    pub too_short: u64,
    pub partial: u64,
    /// Files that were no audio, and the like.
    pub skipped: Summary,
    /// `--ids` lines that named no track.
    pub unmatched_ids: Vec<String>,
    /// What was written: `None` when nothing was new.
    pub written: Option<BuildStats>,
}

/// A catalogue file ready to fingerprint, with its track id.
struct Pending {
    id: String,
    item: Item,
}

/// Items per parallel batch: bounds memory while keeping track ids in walk order.
const BATCH: usize = 64;

/// Indexes `request`'s inputs into `request.output`, telling `note` of each track that failed,
/// was too short or decoded only in part.
pub fn build(request: Request<'_>, note: &mut dyn FnMut(Note<'_>)) -> Result<Built> {
    let _lock = BuildLock::acquire(request.output)?;
    let params = request
        .base
        .map_or_else(FingerprintParams::default, |b| *b.params());
    let limits = request.limits;
    let spill = super::builder::sibling(request.output, &format!(".runs-{}", std::process::id()));
    let mut builder = IndexBuilder::new(params, request.memory_bytes, spill)?;
    // New tracks go into a segment of their own, unless the index is to be rewritten whole or
    // already holds as many segments as it may.
    let rewrite = request
        .base
        .filter(|b| request.compact || b.segments().len() >= MAX_SEGMENTS);
    if let Some(b) = rewrite {
        builder = builder.with_base(b)?;
    }
    // Ids already in the index, with the source check of the file each came from.
    let indexed: HashMap<String, u32> = request.base.map_or_else(HashMap::new, |b| {
        (0..b.tracks())
            .filter_map(|t| b.track(TrackId(t)))
            .map(|t| (t.id.to_string(), t.source))
            .collect()
    });
    // Ids given out in this run, with the file each came from.
    let mut given: HashMap<String, String> = HashMap::new();
    let mut taken_ids: BTreeSet<String> = BTreeSet::new();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(request.jobs.max(1))
        .build()
        .map_err(|e| Error::Build {
            reason: format!("cannot start {} threads: {e}", request.jobs),
        })?;
    let mut built = Built::default();
    let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
    let external_ids = &request.external_ids;
    let mut flush = |batch: &mut Vec<Pending>,
                     builder: &mut IndexBuilder,
                     built: &mut Built,
                     taken_ids: &mut BTreeSet<String>|
     -> Result<()> {
        let results: Vec<_> = pool.install(|| {
            batch
                .par_drain(..)
                .map(|p| (p.id, fingerprint_item(p.item, &params, &limits)))
                .collect()
        });
        for (id, result) in results {
            match result {
                Ok(track) => {
                    if let Some(problem) = &track.problem {
                        note(Note::Partial { id: &id, problem });
                        built.partial += 1;
                    }
                    let external_id = external_ids.get(&id).cloned().unwrap_or_default();
                    if !external_id.is_empty() {
                        taken_ids.insert(id.clone());
                    }
                    let entry = TrackEntry {
                        id,
                        external_id,
                        frames: track.frames,
                        source: track.source,
                    };
                    builder.add_track(entry, &track.hashes, &track.peaks)?;
                    built.added += 1;
                    built.seconds += track.seconds;
                }
                Err(Error::TooShort { seconds, .. }) => {
                    note(Note::TooShort { id: &id, seconds });
                    built.too_short += 1;
                }
                Err(e) => {
                    let failure = e.failure();
                    note(Note::Failed {
                        id: &id,
                        failure: &failure,
                    });
                    if built.failures.len() < LISTED_FAILURES {
                        built.failures.push(format!("{id}: {failure}"));
                    }
                    built.failed += 1;
                }
            }
        }
        Ok(())
    };
    let named = request.named.iter().cloned().map(|p| (p, false));
    let listed = request.listed.map(|p| (p, true));
    let mut failure = None;
    for (input, is_listed) in named.chain(listed) {
        let prefix = input.display().to_string();
        let mut walker = source::Walker::new(&limits, &|_| true);
        walker.walk([input.clone()], &mut |item| {
            let id = track_id(&prefix, &input, is_listed, &item);
            if let Some(&stored) = indexed.get(&id) {
                match same_source(stored, &item) {
                    Ok(true) => {
                        taken_ids.insert(id);
                        built.already += 1;
                        return true;
                    }
                    Ok(false) => {
                        failure = Some(Error::Invalid(format!(
                            "{} has the track id `{id}` of another recording already in {}: track ids are paths relative to the argument they were found under, so index it from a folder that names it apart",
                            item_name(&item),
                            request.output.display()
                        )));
                        return false;
                    }
                    Err(e) => {
                        failure = Some(e);
                        return false;
                    }
                }
            }
            if let Some(first) = given.insert(id.clone(), item_name(&item)) {
                failure = Some(Error::Invalid(format!(
                    "two catalogue files have the track id `{id}`: {first} and {}; track ids are paths relative to the argument they were found under, so index them from a common parent folder (or list them with --files-from, whose ids are the paths as listed)",
                    item_name(&item)
                )));
                return false;
            }
            batch.push(Pending { id, item });
            if batch.len() == BATCH
                && let Err(e) = flush(&mut batch, &mut builder, &mut built, &mut taken_ids)
            {
                failure = Some(e);
                return false;
            }
            true
        });
        built.skipped.merge(&walker.skipped);
        if let Some(e) = failure.take() {
            return Err(e);
        }
    }
    flush(&mut batch, &mut builder, &mut built, &mut taken_ids)?;
    let mut unmatched: Vec<String> = external_ids
        .keys()
        .filter(|k| !taken_ids.contains(*k))
        .cloned()
        .collect();
    unmatched.sort();
    built.unmatched_ids = unmatched;
    if built.added == 0 && built.already == 0 {
        let why = if built.failed + built.too_short == 0 {
            built.skipped.nothing_found()
        } else {
            format!(
                "no track could be indexed: {} failed, {} too short",
                built.failed, built.too_short
            )
        };
        return Err(Error::Invalid(format!(
            "{why}; {} was not written",
            request.output.display()
        )));
    }
    built.written = match request.base {
        Some(base) if built.added > 0 && rewrite.is_none() => {
            Some(builder.finish_segment(request.output, base)?)
        }
        Some(_) if built.added == 0 && !request.compact => None,
        _ => Some(builder.finish(request.output)?),
    };
    Ok(built)
}

/// Rewrites the index at `path` as one segment (`earmark index --compact`): the segments that
/// appends added are merged, so that a lookup searches one. Nothing is fingerprinted again.
pub fn compact(path: &Path, memory_bytes: u64) -> Result<BuildStats> {
    let _lock = BuildLock::acquire(path)?;
    let index = Index::open(path)?;
    let spill = super::builder::sibling(path, &format!(".runs-{}", std::process::id()));
    IndexBuilder::new(*index.params(), memory_bytes, spill)?
        .with_base(&index)?
        .finish(path)
}

/// Reads and fingerprints one walked item.
fn fingerprint_item(
    item: Item,
    params: &FingerprintParams,
    limits: &Limits,
) -> Result<CatalogueTrack> {
    let ext = item.extension();
    let bytes = match item.data {
        ItemData::Failed(failure) => return Err(Error::Item(failure)),
        ItemData::Bytes(b) => b,
        ItemData::File(path) => source::read_file(&path, limits)?,
    };
    fingerprint_track(bytes, ext.as_deref(), params, limits)
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
fn same_source(stored: u32, item: &Item) -> Result<bool> {
    if stored == 0 {
        return Ok(true);
    }
    let check = match &item.data {
        ItemData::Bytes(b) => source_check(b.len() as u64, b, b),
        ItemData::File(path) => file_source_check(path).map_err(|e| Error::io(path, e))?,
        ItemData::Failed(_) => return Ok(true),
    };
    Ok(check == stored)
}

/// [`source_check`] of a file, reading only its two ends.
fn file_source_check(path: &Path) -> std::io::Result<u32> {
    let mut f = std::fs::File::open(path)?;
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
/// from a list is named by its whole path, as listed.
pub fn track_id(prefix: &str, input: &Path, listed: bool, item: &Item) -> String {
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
