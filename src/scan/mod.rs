//! Scanning: the parallel driver. [`source`] turns inputs into items; workers decode,
//! fingerprint and match each item; outcomes go to a [`Reporter`] as items finish.
//!
//! One thread walks the inputs and reads archive members into a bounded queue, `jobs` rayon
//! workers take items from it, and the calling thread reports. Memory is bounded by the queue
//! length times the item size limit, however large the dump. A panic while processing an item
//! becomes an error record for that item. With [`ScanOptions::worker`] set, each worker hands
//! its items to a child process that can be killed ([`worker`]): a stuck or runaway decoder
//! then costs one error record, not the scan.

pub mod journal;
pub mod parquet;
pub mod source;
pub mod worker;

use std::collections::HashSet;
use std::io::{Cursor, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::time::Instant;

use memmap2::Mmap;
use rayon::iter::{ParallelBridge, ParallelIterator};
use symphonia::core::io::MediaSource;

use crate::audio;
use crate::dataset::Join;
use crate::error::{Error, Failure, FailureKind, Result};
use crate::fingerprint::{Density, Fingerprinter};
use crate::index::Index;
use crate::index::catalogue::TrackMetadata;
use crate::limits::Limits;
use crate::matcher::Matcher;
use crate::report::{Found, Outcome, Reporter, Skip, Summary};
use crate::tuning::QueryParams;
pub use source::{Item, ItemData};

/// The key of an item in resume journals: the path, then NUL and the member for archive members.
pub fn item_key(item: &str, member: Option<&str>) -> String {
    match member {
        Some(m) => format!("{item}\u{0}{m}"),
        None => item.to_string(),
    }
}

/// Which part of a dump this run covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard number, below `count`.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    /// Parses `K/N` (1-based K, as users count shards: `--shard 1/4` … `--shard 4/4`).
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || Error::Invalid(format!("--shard wants K/N with 1 <= K <= N, got {s:?}"));
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (k, n): (u32, u32) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if n == 0 || k == 0 || k > n {
            return Err(bad());
        }
        Ok(Shard {
            index: k - 1,
            count: n,
        })
    }

    /// Whether this shard owns the top-level item (a file or a whole archive). The choice is a
    /// fixed hash of the path (FNV-1a), so it is stable when the dump is listed again.
    pub fn owns(&self, item: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in item.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % u64::from(self.count) == u64::from(self.index)
    }
}

/// How a scan runs.
#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
    pub query: QueryParams,
    pub limits: Limits,
    pub shard: Option<Shard>,
    /// Keys ([`Item::key`]) of items already done by an earlier run.
    pub done: HashSet<String>,
    /// Show a progress line on stderr.
    pub progress: bool,
    /// The dump's size in bytes, for the progress line's estimate of the time left: filled in
    /// on the side by whoever can size the dump ([`du`]), 0 while unknown.
    pub total_bytes: std::sync::Arc<AtomicU64>,
    /// Decode in worker processes started with this command (see [`worker`]); `None` decodes
    /// in threads of this process.
    pub worker: Option<worker::WorkerCommand>,
    /// The audio column read from parquet files that have several (`--audio-column`).
    pub audio_column: Option<String>,
    /// Dataset metadata joined onto each item's records (`--manifest`).
    pub join: Option<std::sync::Arc<Join>>,
    /// Only the archive member (or parquet row) of this label; the others are passed over
    /// uncounted (`earmark explain --member`).
    pub member: Option<String>,
}

/// Who decodes items.
enum Workers<'a> {
    Threads(rayon::ThreadPool),
    Processes(&'a worker::WorkerCommand),
}

/// Scans `inputs` against `index`, reporting every item's outcome to `reporter`, then the
/// totals to [`Reporter::finish`].
///
/// Returns the totals, in which every file seen is counted once; fails only when the reporter
/// fails (output lost, disk full), never because of one item. `inputs` may be long (a list
/// read from `--files-from`): it is walked as it comes, never collected.
pub fn scan(
    index: &Index<Mmap>,
    inputs: impl IntoIterator<Item = std::path::PathBuf> + Send,
    options: &ScanOptions,
    reporter: &mut dyn Reporter,
) -> Result<Summary> {
    let started = Instant::now();
    let jobs = if options.jobs == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.jobs
    };
    let workers = match &options.worker {
        Some(command) => Workers::Processes(command),
        None => Workers::Threads(
            rayon::ThreadPoolBuilder::new()
                .num_threads(jobs)
                .thread_name(|i| format!("earmark-worker-{i}"))
                .build()
                .map_err(|e| Error::Invalid(format!("cannot start {jobs} worker threads: {e}")))?,
        ),
    };
    let mut summary = Summary::default();
    let mut progress = options
        .progress
        .then(|| Progress::new(options.total_bytes.clone()));

    let (item_tx, item_rx) = sync_channel::<Item>(jobs * 2);
    let (out_tx, out_rx) = sync_channel::<Outcome>(jobs * 2);
    let stop = AtomicBool::new(false);
    let (result, walked) = std::thread::scope(|scope| {
        let stop = &stop;
        let walker = scope.spawn(move || {
            let mine = |path: &str| options.shard.is_none_or(|s| s.owns(path));
            let mut walker = source::Walker::new(&options.limits, &mine)
                .audio_column(options.audio_column.as_deref());
            let mut done_before = 0;
            walker.walk(inputs, &mut |item| {
                if (options.member.as_ref()).is_some_and(|m| item.member.as_ref() != Some(m)) {
                    return true;
                }
                if options.done.contains(&item.key()) {
                    done_before += 1;
                    return true;
                }
                !stop.load(Ordering::Relaxed) && item_tx.send(item).is_ok()
            });
            walker.skipped.skip(Skip::DoneBefore, done_before);
            walker.skipped
        });
        match &workers {
            Workers::Processes(command) => {
                run_slots(scope, jobs, command, item_rx, index, options, out_tx);
            }
            Workers::Threads(pool) => {
                scope.spawn(move || run_workers(pool, item_rx, index, options, out_tx));
            }
        }
        let mut failure = None;
        for mut outcome in out_rx.iter() {
            if let Some(join) = &options.join {
                summary.add_join(join.join(&mut outcome));
            }
            if failure.is_some() {
                // Output is lost (disk full, say): items in flight drain unreported, and are
                // neither counted nor journalled, so --resume does them again.
                continue;
            }
            match reporter.outcome(&outcome) {
                Ok(()) => summary.add(&outcome),
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    failure = Some(e);
                }
            }
            if let Some(p) = progress.as_mut() {
                p.update(&summary, started);
            }
        }
        (failure, walker.join())
    });
    if let Some(p) = progress.as_mut() {
        p.clear();
    }
    match walked {
        Ok(skipped) => summary.merge(&skipped),
        Err(panic) => std::panic::resume_unwind(panic),
    }
    summary.wall_seconds = started.elapsed().as_secs_f64();
    summary.finished = Some(crate::report::timestamp(std::time::SystemTime::now()));
    summary.shard = options
        .shard
        .map(|s| format!("{}/{}", s.index + 1, s.count));
    if let Some(e) = result {
        return Err(Error::io("output", e));
    }
    reporter
        .finish(&summary)
        .map_err(|e| Error::io("output", e))?;
    Ok(summary)
}

fn run_workers(
    pool: &rayon::ThreadPool,
    items: Receiver<Item>,
    index: &Index<Mmap>,
    options: &ScanOptions,
    out: std::sync::mpsc::SyncSender<Outcome>,
) {
    pool.install(|| {
        items
            .into_iter()
            .par_bridge()
            .for_each_with(out, |out, item| {
                let _ = out.send(process_item(index, item, &options.query, &options.limits));
            });
    });
}

/// One thread per worker process, each taking the next item from the shared queue.
fn run_slots<'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    jobs: usize,
    command: &worker::WorkerCommand,
    items: Receiver<Item>,
    index: &Index<Mmap>,
    options: &ScanOptions,
    out: std::sync::mpsc::SyncSender<Outcome>,
) {
    let items = std::sync::Arc::new(std::sync::Mutex::new(items));
    for _ in 0..jobs {
        let (items, out) = (items.clone(), out.clone());
        let mut slot = worker::Slot::new(
            command.clone(),
            index.path(),
            &options.query,
            &options.limits,
        );
        scope.spawn(move || {
            loop {
                // The lock is held only while waiting for the next item, not while it runs.
                let next = match items.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => break,
                };
                let Ok(item) = next else { break };
                if out.send(slot.process(item)).is_err() {
                    break;
                }
            }
        });
    }
}

/// Decodes, fingerprints and matches one item, and records the wall time that took in
/// [`Outcome::processing_seconds`]. Never panics: a panic inside becomes the item's error.
pub fn process_item<D: AsRef<[u8]>>(
    index: &Index<D>,
    mut item: Item,
    query: &QueryParams,
    limits: &Limits,
) -> Outcome {
    let started = Instant::now();
    let row = item.row.take();
    let mut outcome = process_timed(index, item, query, limits);
    outcome.row = row;
    outcome.processing_seconds = started.elapsed().as_secs_f64();
    outcome
}

/// BLAKE3 of a file's bytes, read in a pass before decoding, which then reads them from the
/// page cache; the file is left at its start.
fn hash_file(file: &mut std::fs::File) -> std::io::Result<String> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(&mut *file)?;
    file.rewind()?;
    Ok(hasher.finalize().to_hex().to_string())
}

fn process_timed<D: AsRef<[u8]>>(
    index: &Index<D>,
    item: Item,
    query: &QueryParams,
    limits: &Limits,
) -> Outcome {
    let mut outcome = Outcome {
        item: item.item.clone(),
        member: item.member.clone(),
        ..Outcome::default()
    };
    let ext = item.extension();
    let source: Box<dyn MediaSource> = match item.data {
        ItemData::Failed(failure) => {
            outcome.failure = Some(failure);
            return outcome;
        }
        ItemData::Bytes(bytes) => {
            outcome.bytes = bytes.len() as u64;
            outcome.blake3 = Some(blake3::hash(&bytes).to_hex().to_string());
            Box::new(Cursor::new(bytes))
        }
        ItemData::File(path) => {
            let opened = std::fs::File::open(&path).and_then(|mut f| {
                let len = f.metadata()?.len();
                let hash = hash_file(&mut f)?;
                Ok((f, len, hash))
            });
            match opened {
                Ok((f, len, hash)) => {
                    outcome.bytes = len;
                    outcome.blake3 = Some(hash);
                    Box::new(f)
                }
                Err(e) => {
                    outcome.failure = Some(Error::io(&path, e).failure());
                    return outcome;
                }
            }
        }
    };
    if outcome.bytes == 0 {
        outcome.failure = Some(Failure::new(FailureKind::Empty, "empty file (0 bytes)"));
        return outcome;
    }
    let run = catch_unwind(AssertUnwindSafe(|| {
        identify(index, source, ext.as_deref(), query, limits)
    }));
    match run {
        Ok(Ok((found, decoded))) => {
            outcome.seconds = decoded.seconds;
            outcome.found = found;
            outcome.partial = decoded.problem.is_some();
            outcome.failure = decoded.problem;
        }
        Ok(Err(Error::TooShort { seconds, .. })) => {
            outcome.skipped = Some(Skip::TooShort);
            outcome.seconds = seconds;
        }
        Ok(Err(e)) => outcome.failure = Some(e.failure()),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            outcome.failure = Some(Error::DecoderPanic { message }.failure());
        }
    }
    outcome
}

/// The pipeline for one item: decode → fingerprint → match, streaming.
pub fn identify<D: AsRef<[u8]>>(
    index: &Index<D>,
    source: Box<dyn MediaSource + '_>,
    extension: Option<&str>,
    query: &QueryParams,
    limits: &Limits,
) -> Result<(Vec<Found>, audio::Decoded)> {
    let params = *index.params();
    let mut fingerprinter = Fingerprinter::new(&params, Density::query(query)).keeping_peaks();
    let mut matcher = Matcher::new(index, *query);
    let decoded = audio::decode(
        source,
        extension,
        params.sample_rate,
        limits,
        &mut |samples| {
            fingerprinter.push(samples);
            matcher.add(fingerprinter.take());
            matcher.add_peaks(fingerprinter.take_peaks());
            matcher.add_fine_peaks(fingerprinter.take_fine_peaks());
        },
    )?;
    let rest = fingerprinter.finish_all();
    matcher.add(rest.landmarks);
    matcher.add_peaks(rest.peaks);
    matcher.add_fine_peaks(rest.fine_peaks);
    let found = matcher
        .finish()
        .into_iter()
        .map(|m| {
            let track = index
                .track(m.track)
                .expect("matches only name tracks in the table");
            let metadata = TrackMetadata::of(track.external_id);
            Found {
                track: track.id.to_string(),
                external_id: metadata.external_id,
                catalogue: metadata.fields,
                m,
            }
        })
        .collect();
    Ok((found, decoded))
}

/// The progress line on stderr.
struct Progress {
    last: Instant,
    /// The dump's size, 0 while unknown.
    total_bytes: std::sync::Arc<AtomicU64>,
}

impl Progress {
    fn new(total_bytes: std::sync::Arc<AtomicU64>) -> Self {
        Progress {
            last: Instant::now(),
            total_bytes,
        }
    }

    fn update(&mut self, s: &Summary, started: Instant) {
        if self.last.elapsed().as_millis() < 250 {
            return;
        }
        self.last = Instant::now();
        let wall = started.elapsed().as_secs_f64().max(1e-3);
        // The dump's size is known once the side thread has walked it; compressed archives make
        // this an estimate.
        let total = self.total_bytes.load(Ordering::Relaxed);
        let eta = if total > s.bytes && s.bytes > 0 {
            let left = (total - s.bytes) as f64 / (s.bytes as f64 / wall);
            format!(", ETA {}", duration(left))
        } else {
            String::new()
        };
        eprint!(
            "\r\x1b[2K{}, {:.2} h of audio, {:.0}x real time, {:.1} items/s, {}, {} failed{eta}",
            crate::report::count(s.items, "item", "items"),
            s.seconds / 3600.0,
            s.seconds / wall,
            s.items as f64 / wall,
            crate::report::count(s.matches, "match", "matches"),
            s.failures()
        );
    }

    fn clear(&mut self) {
        eprint!("\r\x1b[2K");
    }
}

/// `3h07m`, `5m12s`, `42s`.
fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// Bytes under `path`, for the progress line (a directory's files summed, links not followed).
pub fn du(path: &std::path::Path) -> u64 {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| du(&e.path())).sum())
            .unwrap_or(0),
        Ok(m) => m.len(),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file listed by the walk can be gone by the time a worker opens it (a dump being
    /// cleaned up under the scan): it gets an error record, like any unreadable item.
    #[test]
    fn a_file_that_vanished_after_listing_gets_an_error_record() {
        let index = Index::open(std::path::Path::new("testdata/index-v3.earmark")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.mp3");
        std::fs::write(&gone, b"soon gone").unwrap();
        let item = Item {
            item: gone.display().to_string(),
            member: None,
            data: ItemData::File(gone.clone()),
            row: None,
        };
        std::fs::remove_file(&gone).unwrap();
        let outcome = process_item(&index, item, &QueryParams::default(), &Limits::default());
        let failure = outcome.failure.unwrap();
        assert!(
            failure.message.contains("gone.mp3") && failure.message.contains("No such file"),
            "{failure}"
        );
        assert_eq!(failure.kind, FailureKind::Unreadable);
        assert!(outcome.found.is_empty());
    }

    /// An index of triplet hashes alone (`FourthPeak::Off`, format 2's hashes) is still
    /// read and matched: every triplet whole, none narrowed.
    #[test]
    fn an_index_without_fourth_peaks_still_identifies() {
        use crate::fingerprint::HashLayout;
        use crate::test_support::{decode, index_of};
        let params = crate::config::FingerprintParams {
            fourth_peak: crate::config::FourthPeak::Off,
            ..Default::default()
        };
        assert_eq!(HashLayout::new(&params).total_bits(), 25);
        let dir = tempfile::tempdir().unwrap();
        let (battle, basrah) = (
            decode("testdata/catalogue/wesnoth/battle.ogg"),
            decode("testdata/catalogue/ufoai/basrah.mp3"),
        );
        let index = index_of(
            &dir.path().join("triplets.earmark"),
            params,
            &[
                ("wesnoth/battle.ogg", &battle),
                ("ufoai/basrah.mp3", &basrah),
            ],
        );
        let clip = std::fs::read("testdata/dump/clip-mp3.mp3").unwrap();
        let (found, _) = identify(
            &index,
            Box::new(std::io::Cursor::new(clip)),
            Some("mp3"),
            &QueryParams::default(),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].track, "wesnoth/battle.ogg");
    }

    #[test]
    fn shards_partition_items() {
        let shards: Vec<Shard> = (1..=4)
            .map(|k| Shard::parse(&format!("{k}/4")).unwrap())
            .collect();
        for i in 0..200 {
            let item = format!("dump/{i:06}.tar");
            assert_eq!(shards.iter().filter(|s| s.owns(&item)).count(), 1);
        }
        assert!(
            Shard::parse("0/4").is_err()
                && Shard::parse("5/4").is_err()
                && Shard::parse("x").is_err()
        );
    }
}
