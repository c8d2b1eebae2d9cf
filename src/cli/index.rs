//! `earmark index` (and `earmark demo`, which indexes then scans the shipped test data).

use std::collections::{HashMap, HashSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use rayon::prelude::*;

use super::Status;
use crate::audio;
use crate::config::{FingerprintParams, Limits};
use crate::fingerprint::{Density, Fingerprinter, HashLayout, Keyed};
use crate::index::format::PeakCode;
use crate::index::{BuildLock, Index, IndexBuilder, TrackEntry};
use crate::scan::source::{self, Item, ItemData};

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Catalogue files, directories and archives.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The index file to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// TSV of `path<TAB>external id` (an ISRC, say); paths as track ids are shown.
    #[arg(long)]
    pub ids: Option<PathBuf>,
    /// Add to the existing index at --output instead of replacing it; tracks already in it are
    /// not fingerprinted again.
    #[arg(long)]
    pub append: bool,
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
    /// The catalogue to index.
    #[arg(long, default_value = "testdata/catalogue")]
    pub catalogue: PathBuf,
    /// The dump to scan.
    #[arg(long, default_value = "testdata/dump")]
    pub dump: PathBuf,
    /// External ids for the catalogue.
    #[arg(long, default_value = "testdata/catalogue-ids.tsv")]
    pub ids: PathBuf,
}

/// A catalogue file ready to fingerprint, with its track id.
struct Pending {
    id: String,
    item: Item,
}

/// Items per parallel batch: bounds memory while keeping track ids in walk order.
const BATCH: usize = 64;

pub fn run(args: IndexArgs) -> anyhow::Result<Status> {
    let started = Instant::now();
    let limits = args.limits.limits();
    let _lock = BuildLock::acquire(&args.output)?;
    let external_ids = match &args.ids {
        Some(path) => read_ids(path)?,
        None => HashMap::new(),
    };
    let base = if args.append && args.output.exists() {
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
    let mut known: HashSet<String> = builder.track_ids().map(str::to_string).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(super::jobs(args.jobs))
        .build()?;

    let (mut added, mut failed_to_read, mut seconds) = (0u64, 0u64, 0.0f64);
    let (mut skipped, mut duplicates) = (0u64, 0u64);
    let mut batch: Vec<Pending> = Vec::with_capacity(BATCH);
    let mut flush = |batch: &mut Vec<Pending>, builder: &mut IndexBuilder| -> anyhow::Result<()> {
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
                    }
                    let external_id = external_ids.get(&id).cloned().unwrap_or_default();
                    let entry = TrackEntry {
                        id,
                        external_id,
                        frames: f.frames,
                    };
                    builder.add_track(entry, &f.hashes, &f.peaks)?;
                    added += 1;
                    seconds += f.seconds;
                }
                Err(why) => {
                    eprintln!("earmark: {id}: {why}");
                    failed_to_read += 1;
                }
            }
        }
        Ok(())
    };
    let mut failure = None;
    for input in &args.inputs {
        let prefix = input.display().to_string();
        source::walk(std::slice::from_ref(input), &limits, &mut |item| {
            let id = track_id(&prefix, input, &item);
            if !known.insert(id.clone()) {
                if args.append {
                    skipped += 1;
                } else {
                    eprintln!("earmark: {id}: duplicate track id, second copy ignored");
                    duplicates += 1;
                }
                return true;
            }
            batch.push(Pending { id, item });
            if batch.len() == BATCH
                && let Err(e) = flush(&mut batch, &mut builder)
            {
                failure = Some(e);
                return false;
            }
            true
        });
        if let Some(e) = failure.take() {
            return Err(e);
        }
    }
    flush(&mut batch, &mut builder)?;
    let failed = failed_to_read + duplicates;
    if let Some(b) = base.as_ref().filter(|_| added == 0) {
        {
            eprintln!(
                "earmark: nothing new to add to {} ({} tracks already in it)",
                b.path().display(),
                b.tracks()
            );
            return Ok(if failed > 0 {
                Status::CompletedWithErrors
            } else {
                Status::Found
            });
        }
    }
    let stats = builder
        .finish(&args.output)
        .with_context(|| format!("writing {}", args.output.display()))?;
    let wall = started.elapsed().as_secs_f64();
    eprintln!(
        "earmark: indexed {added} tracks ({:.2} h of audio) in {wall:.1} s ({:.0}x real time){}{}; {} has {} tracks, {} postings, {:.2} MB",
        seconds / 3600.0,
        seconds / wall.max(1e-9),
        if skipped > 0 {
            format!(", {skipped} already indexed")
        } else {
            String::new()
        },
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        },
        args.output.display(),
        stats.tracks,
        stats.postings,
        stats.bytes as f64 / 1e6
    );
    Ok(if failed > 0 {
        Status::CompletedWithErrors
    } else {
        Status::Found
    })
}

/// The track id of an item: its path relative to the argument it was found under, with the
/// archive member appended for archives inside a directory.
fn track_id(prefix: &str, input: &Path, item: &Item) -> String {
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

/// Decodes and fingerprints one catalogue item at index density.
/// One catalogue track's hashes, ready for the builder.
struct Fingerprinted {
    hashes: Vec<Keyed>,
    peaks: Vec<PeakCode>,
    frames: u32,
    seconds: f64,
    /// Set when only part of the file could be decoded.
    problem: Option<String>,
}

fn fingerprint_item(
    item: Item,
    params: &FingerprintParams,
    limits: &Limits,
) -> Result<Fingerprinted, String> {
    let ext = item.extension();
    let bytes = match item.data {
        ItemData::Failed(why) => return Err(why),
        ItemData::Bytes(b) => b,
        ItemData::File(path) => source::read_file(&path, limits).map_err(|e| e.to_string())?,
    };
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
        )
        .map_err(|e| e.to_string())?;
        let (rest, rest_peaks, frames) = fp.finish_with_peaks();
        hashes.extend(rest.iter().map(|m| layout.keyed(m)));
        peaks.extend(rest_peaks.iter().filter_map(|p| p.code(params)));
        Ok(Fingerprinted {
            hashes,
            peaks,
            frames: u32::try_from(frames).unwrap_or(u32::MAX),
            seconds: decoded.seconds,
            problem: decoded.problem,
        })
    }));
    run.unwrap_or_else(|_| Err("decoder panicked".into()))
}

fn read_ids(path: &Path) -> anyhow::Result<HashMap<String, String>> {
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
    Ok(ids)
}

/// `catalogue.earmark` → `catalogue.earmark.runs-<pid>` beside it.
fn spill_dir(output: &Path) -> PathBuf {
    crate::index::builder::sibling(output, &format!(".runs-{}", std::process::id()))
}

pub fn run_demo(args: DemoArgs) -> anyhow::Result<Status> {
    let dir = std::env::temp_dir().join(format!("earmark-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let index_path = dir.join("catalogue.earmark");
    eprintln!(
        "earmark demo: indexing {} into {}",
        args.catalogue.display(),
        index_path.display()
    );
    let index_args = IndexArgs {
        inputs: vec![args.catalogue.clone()],
        output: index_path.clone(),
        ids: args.ids.exists().then_some(args.ids.clone()),
        append: false,
        jobs: 0,
        memory_mb: 256,
        limits: super::LimitArgs {
            max_item_bytes: Limits::default().max_item_bytes,
            max_seconds: Limits::default().max_audio_seconds,
        },
    };
    run(index_args)?;
    eprintln!("earmark demo: scanning {}", args.dump.display());
    let status = super::scan::scan_to(
        &index_path,
        std::slice::from_ref(&args.dump),
        super::Format::Human,
        None,
        &crate::scan::ScanOptions::default(),
        false,
    );
    let _ = std::fs::remove_dir_all(&dir);
    status
}
