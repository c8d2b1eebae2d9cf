//! [`IndexBuilder`]: collects `(hash, track, frame)` postings, spills sorted runs to disk when
//! they outgrow the memory limit, and merges the runs (and, when rewriting an index whole, the
//! old index's postings, which are already sorted) into an index blob.
//!
//! A new or rewritten index is written under a temporary name beside the target, synced, and
//! renamed over it ([`IndexBuilder::finish`]); an append writes its tracks as a new segment
//! after the index's end and then the table that makes it part of the index
//! ([`IndexBuilder::finish_segment`]). Either way a build killed at any moment leaves the
//! previous index as it was. A lock file stops two builds of the same index from racing.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rayon::slice::ParallelSliceMut;

use super::TrackId;
use super::format::{
    Footer, HEADER_LEN, Header, MAX_SEGMENTS, Section, SegmentTable, TrackRecord, VERSION,
};
use super::reader::Index;
use crate::codec::{Detail, Keyed, PeakCode, PostingLayout, PostingPacker};
use crate::config::FingerprintParams;
use crate::error::{Error, Result};
use crate::fingerprint::HashLayout;

/// A catalogue track to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackEntry {
    /// Path relative to the argument it was found under.
    pub id: String,
    /// External identifier such as an ISRC; empty when none.
    pub external_id: String,
    /// Length in frames.
    pub frames: u32,
    /// [`source_check`](super::format::source_check) of the file it came from; 0 if unknown.
    pub source: u32,
}

/// One posting before packing; sorts by hash, then track, frame and detail, as packed postings do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Record {
    hash: u32,
    track: u32,
    frame: u32,
    detail: u16,
}

const RECORD_BYTES: usize = 14;

impl Record {
    fn write(&self, w: &mut impl Write) -> std::io::Result<()> {
        w.write_all(&self.hash.to_le_bytes())?;
        w.write_all(&self.track.to_le_bytes())?;
        w.write_all(&self.frame.to_le_bytes())?;
        w.write_all(&self.detail.to_le_bytes())
    }

    fn read(r: &mut impl Read) -> std::io::Result<Option<Record>> {
        let mut b = [0u8; RECORD_BYTES];
        match r.read_exact(&mut b) {
            Ok(()) => Ok(Some(Record {
                hash: u32::from_le_bytes(b[0..4].try_into().expect("4")),
                track: u32::from_le_bytes(b[4..8].try_into().expect("4")),
                frame: u32::from_le_bytes(b[8..12].try_into().expect("4")),
                detail: u16::from_le_bytes(b[12..14].try_into().expect("2")),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Figures about a finished build: the whole index's, once it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildStats {
    pub tracks: u64,
    pub postings: u64,
    pub bytes: u64,
    /// Sorted runs spilled to disk (0 when everything fitted in memory).
    pub runs: usize,
    /// Segments the index now holds: 1 unless this build appended one.
    pub segments: usize,
}

/// Builds an index file. Add tracks with [`add_track`](Self::add_track), then
/// [`finish`](Self::finish).
pub struct IndexBuilder<'b> {
    params: FingerprintParams,
    hash_bits: u32,
    base: Option<&'b Index>,
    tracks: Vec<TrackEntry>,
    run: Vec<Record>,
    run_capacity: usize,
    spill_dir: PathBuf,
    runs: Vec<PathBuf>,
    postings: u64,
    /// Peaks per track, base tracks included.
    peak_counts: Vec<u64>,
    /// Added tracks' peaks stream to `spill_dir/peaks` in track order: a million-track
    /// catalogue (65,000 hours) holds about 9 GB of them.
    peak_file: Option<BufWriter<File>>,
}

impl<'b> IndexBuilder<'b> {
    /// A builder whose in-memory run never exceeds `memory_bytes`; runs spill into `spill_dir`
    /// (created on demand, removed by `finish`).
    pub fn new(params: FingerprintParams, memory_bytes: u64, spill_dir: PathBuf) -> Result<Self> {
        params.validate()?;
        Ok(IndexBuilder {
            hash_bits: HashLayout::new(&params).total_bits(),
            params,
            base: None,
            tracks: Vec::new(),
            run: Vec::new(),
            run_capacity: (memory_bytes as usize / std::mem::size_of::<Record>()).max(1024),
            spill_dir,
            runs: Vec::new(),
            postings: 0,
            peak_counts: Vec::new(),
            peak_file: None,
        })
    }

    /// Starts from an existing index: its tracks keep their ids and its postings are merged in
    /// without being fingerprinted again. Must be called before any track is added.
    pub fn with_base(mut self, base: &'b Index) -> Result<Self> {
        base.params().ensure_same(&self.params)?;
        assert!(
            self.tracks.is_empty(),
            "with_base must come before add_track"
        );
        self.postings = base.postings();
        self.peak_counts = (0..base.tracks())
            .map(|t| base.track_peaks(TrackId(t)).len() as u64)
            .collect();
        self.tracks = (0..base.tracks())
            .map(|t| {
                let track = base.track(TrackId(t)).expect("id below the track count");
                TrackEntry {
                    id: track.id.to_string(),
                    external_id: track.external_id.to_string(),
                    frames: track.frames,
                    source: track.source,
                }
            })
            .collect();
        self.base = Some(base);
        Ok(self)
    }

    /// Ids of the tracks already in the builder (from the base index and added so far).
    pub fn track_ids(&self) -> impl Iterator<Item = &str> {
        self.tracks.iter().map(|t| t.id.as_str())
    }

    pub fn params(&self) -> &FingerprintParams {
        &self.params
    }

    /// Adds one track's keyed landmarks and its peaks, each in any order. A track added
    /// without peaks is matched by its hashes alone.
    pub fn add_track(
        &mut self,
        entry: TrackEntry,
        hashes: &[Keyed],
        peaks: &[PeakCode],
    ) -> Result<TrackId> {
        let id = u32::try_from(self.tracks.len()).map_err(|_| Error::Build {
            reason: "more than 2^32 tracks".into(),
        })?;
        self.add_peaks(peaks)?;
        if !self.run.is_empty() && self.run.len() + hashes.len() > self.run_capacity {
            self.spill()?;
        }
        // Grow by hand so the run never reserves more than the memory limit allows.
        let needed = self.run.len() + hashes.len();
        if needed > self.run.capacity() {
            let target = needed.max((2 * self.run.capacity()).min(self.run_capacity));
            self.run.reserve_exact(target - self.run.len());
        }
        let start = self.run.len();
        self.run.extend(hashes.iter().map(|k| Record {
            hash: k.hash.0,
            track: id,
            frame: k.frame,
            detail: k.detail.0,
        }));
        // The same landmark can quantise to the same hash twice; keep one posting.
        self.run[start..].sort_unstable();
        let mut kept = start;
        for i in start..self.run.len() {
            if kept == start || self.run[i] != self.run[kept - 1] {
                self.run[kept] = self.run[i];
                kept += 1;
            }
        }
        self.run.truncate(kept);
        self.postings += (kept - start) as u64;
        self.tracks.push(entry);
        Ok(TrackId(id))
    }

    fn add_peaks(&mut self, peaks: &[PeakCode]) -> Result<()> {
        let mut sorted = peaks.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        if !sorted.is_empty() {
            let path = self.spill_dir.join("peaks");
            let io = |e| Error::io(&path, e);
            if self.peak_file.is_none() {
                fs::create_dir_all(&self.spill_dir).map_err(|e| Error::io(&self.spill_dir, e))?;
                let file = File::create(&path).map_err(io)?;
                self.peak_file = Some(BufWriter::with_capacity(1 << 20, file));
            }
            let w = self.peak_file.as_mut().expect("opened above");
            for p in &sorted {
                w.write_all(&p.0.to_le_bytes()).map_err(io)?;
            }
        }
        self.peak_counts.push(sorted.len() as u64);
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        fs::create_dir_all(&self.spill_dir).map_err(|e| Error::io(&self.spill_dir, e))?;
        let path = self.spill_dir.join(format!("run-{:05}", self.runs.len()));
        let io = |e| Error::io(&path, e);
        // Sorting a full run is the build's largest single step: use every core.
        self.run.par_sort_unstable();
        let mut w = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io)?);
        for r in &self.run {
            r.write(&mut w).map_err(io)?;
        }
        w.flush().map_err(io)?;
        self.run.clear();
        self.runs.push(path);
        Ok(())
    }

    /// The posting layout for what was added.
    fn layout(&self) -> Result<PostingLayout> {
        let max_frames = self.tracks.iter().map(|t| t.frames).max().unwrap_or(0);
        PostingLayout::choose(
            self.hash_bits,
            self.postings,
            self.tracks.len() as u64,
            u64::from(max_frames),
        )
    }

    /// Sorts the run in memory and flushes the spilled peaks: what `write` reads.
    fn seal(&mut self) -> Result<()> {
        self.run.par_sort_unstable();
        let peaks = self.spill_dir.join("peaks");
        match self.peak_file.take() {
            Some(w) => w
                .into_inner()
                .map(drop)
                .map_err(|e| Error::io(&peaks, e.into_error())),
            None => Ok(()),
        }
    }

    /// Writes the index to `path` atomically and returns what was written.
    pub fn finish(mut self, path: &Path) -> Result<BuildStats> {
        let layout = self.layout()?;
        let flushed = self.seal();
        let tmp = temp_path(path);
        let result = flushed.and_then(|()| {
            let io = |e| Error::io(&tmp, e);
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&tmp)
                .map_err(io)?;
            let stats = self.write(&mut file, 0, layout, &tmp)?;
            file.sync_all().map_err(io)?;
            Ok(stats)
        });
        let _ = fs::remove_dir_all(&self.spill_dir);
        let stats = match result {
            Ok(stats) => stats,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Make the rename itself durable.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(stats)
    }

    /// Adds the tracks to `base`, the index at `path`, as a new segment: written after the
    /// index's end (over the tail of an append that did not finish, if any), synced, then closed
    /// by a segment table naming every segment, synced in turn. Until the table is complete the
    /// file reads as it was. The cost is the new tracks': the segments already there are neither
    /// read nor rewritten.
    pub fn finish_segment(mut self, path: &Path, base: &Index) -> Result<BuildStats> {
        assert!(
            self.base.is_none(),
            "a segment holds only its own tracks: no with_base"
        );
        base.params().ensure_same(&self.params)?;
        let mut sections: Vec<Section> = base.segments().iter().map(|s| s.section()).collect();
        if sections.len() >= MAX_SEGMENTS {
            return Err(Error::Build {
                reason: format!(
                    "{} already holds {MAX_SEGMENTS} segments; merge them with `earmark index --compact`",
                    path.display()
                ),
            });
        }
        let layout = self.layout()?;
        let flushed = self.seal();
        let result = flushed.and_then(|()| {
            let io = |e| Error::io(path, e);
            let mut file = OpenOptions::new().write(true).open(path).map_err(io)?;
            let start = base.size();
            // The base ends on an 8-byte boundary (a footer or a table); what lies past it is
            // an unfinished append's.
            file.set_len(start).map_err(io)?;
            let added = self.write(&mut file, start, layout, path)?;
            file.sync_all().map_err(io)?;
            sections.push(Section {
                offset: start,
                len: added.bytes,
            });
            let at = start + added.bytes;
            let segments = sections.len();
            let table = SegmentTable { segments: sections }.encode(at);
            file.seek(SeekFrom::Start(at)).map_err(io)?;
            file.write_all(&table).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok(BuildStats {
                tracks: u64::from(base.tracks()) + added.tracks,
                postings: base.postings() + added.postings,
                bytes: at + table.len() as u64,
                runs: added.runs,
                segments,
            })
        });
        let _ = fs::remove_dir_all(&self.spill_dir);
        result
    }

    /// Writes the index blob at offset `start` of `file` (`path` names it in errors); every
    /// offset inside counts from `start`.
    fn write(
        &self,
        file: &mut File,
        start: u64,
        layout: PostingLayout,
        path: &Path,
    ) -> Result<BuildStats> {
        let io = |e| Error::io(path, e);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let mut w = CountingWriter::new(BufWriter::with_capacity(1 << 20, &mut *file));
        w.write_all(&[0u8; HEADER_LEN]).map_err(io)?;

        // Track table, then the strings it points into.
        let track_table = Section {
            offset: w.pos,
            len: (self.tracks.len() * super::format::TRACK_RECORD_LEN) as u64,
        };
        w.start_crc();
        let mut strings_len = 0u64;
        let mut total_frames = 0u64;
        for t in &self.tracks {
            let record = TrackRecord {
                strings_offset: strings_len,
                id_len: t.id.len() as u32,
                external_id_len: t.external_id.len() as u32,
                frames: t.frames,
                source: t.source,
            };
            w.write_all(&record.encode()).map_err(io)?;
            strings_len += (t.id.len() + t.external_id.len()) as u64;
            total_frames += u64::from(t.frames);
        }
        let crc_tracks = w.take_crc();
        let strings = Section {
            offset: w.pos,
            len: strings_len,
        };
        for t in &self.tracks {
            w.write_all(t.id.as_bytes()).map_err(io)?;
            w.write_all(t.external_id.as_bytes()).map_err(io)?;
        }
        let crc_strings = w.take_crc();
        w.pad8().map_err(io)?;

        // Postings, merged from every sorted source; the directory is counted on the way.
        let posting_list = Section {
            offset: w.pos,
            len: layout
                .list_bytes(self.postings)
                .ok_or_else(|| Error::Build {
                    reason: format!("{} postings overflow a posting list", self.postings),
                })?,
        };
        let mut directory = vec![0u64; layout.buckets() + 1];
        let mut written = 0u64;
        let mut last = None;
        let mut packer = PostingPacker::new(layout);
        self.merge(&mut |r: Record| {
            if last == Some(r) {
                return Ok(());
            }
            last = Some(r);
            directory[layout.bucket(r.hash) + 1] += 1;
            written += 1;
            let packed = layout
                .pack(r.hash, r.track, r.frame, Detail(r.detail))
                .ok_or_else(|| Error::Build {
                    reason: format!(
                        "track {} frame {} does not fit the layout {layout:?}",
                        r.track, r.frame
                    ),
                })?;
            packer.push(packed, &mut w).map_err(io)
        })?;
        packer.finish(&mut w).map_err(io)?;
        if written != self.postings {
            return Err(Error::Build {
                reason: format!("merged {written} postings, expected {}", self.postings),
            });
        }
        written_whole(w.pos, posting_list, "postings")?;
        let crc_postings = w.take_crc();
        w.pad8().map_err(io)?;
        let dir_section = Section {
            offset: w.pos,
            len: directory.len() as u64 * 8,
        };
        let mut running = 0u64;
        for count in &directory {
            running += count;
            w.write_all(&running.to_le_bytes()).map_err(io)?;
        }
        let crc_directory = w.take_crc();
        w.pad8().map_err(io)?;

        // Peaks: each track's start, then every track's peaks in track order.
        let peaks: u64 = self.peak_counts.iter().sum();
        let peak_list = Section {
            offset: w.pos,
            len: (self.tracks.len() as u64 + 1) * 8 + peaks * 4,
        };
        let mut running = 0u64;
        for count in std::iter::once(&0).chain(&self.peak_counts) {
            running += count;
            w.write_all(&running.to_le_bytes()).map_err(io)?;
        }
        if let Some(base) = self.base {
            for t in 0..base.tracks() {
                for p in base.track_peaks(TrackId(t)).iter() {
                    w.write_all(&p.0.to_le_bytes()).map_err(io)?;
                }
            }
        }
        let added = self.spill_dir.join("peaks");
        if added.exists() {
            let mut r = File::open(&added).map_err(|e| Error::io(&added, e))?;
            std::io::copy(&mut r, &mut w).map_err(|e| Error::io(&added, e))?;
        }
        written_whole(w.pos, peak_list, "peaks")?;
        let crc_peaks = w.take_crc();
        w.pad8().map_err(io)?;

        let header = Header {
            params: self.params,
            layout,
            tracks: self.tracks.len() as u64,
            postings: self.postings,
            total_frames,
            track_table,
            strings,
            posting_list,
            directory: dir_section,
            version: VERSION,
            peak_list,
            peaks,
            crc_peaks,
        };
        let file_len = w.pos + super::format::FOOTER_LEN as u64;
        let footer = Footer {
            crc_tracks,
            crc_strings,
            crc_postings,
            crc_directory,
            file_len,
        };
        w.write_all(&footer.encode()).map_err(io)?;
        w.inner.flush().map_err(io)?;
        drop(w);
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        file.write_all(&header.encode()).map_err(io)?;
        Ok(BuildStats {
            tracks: header.tracks,
            postings: header.postings,
            bytes: file_len,
            runs: self.runs.len(),
            segments: 1,
        })
    }

    /// Feeds every posting, in sorted order, from the base index, the spilled runs and the
    /// in-memory run.
    fn merge(&self, emit: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        let mut sources: Vec<Box<dyn Iterator<Item = Result<Record>> + '_>> = Vec::new();
        if let Some(base) = self.base {
            sources.push(Box::new(base.all_postings().map(|(h, p)| {
                Ok(Record {
                    hash: h.0,
                    track: p.track.0,
                    frame: p.frame,
                    detail: p.detail.0,
                })
            })));
        }
        for path in &self.runs {
            let mut r = BufReader::with_capacity(
                1 << 20,
                File::open(path).map_err(|e| Error::io(path, e))?,
            );
            sources.push(Box::new(std::iter::from_fn(move || {
                Record::read(&mut r)
                    .map_err(|e| Error::io(path, e))
                    .transpose()
            })));
        }
        sources.push(Box::new(self.run.iter().map(|&r| Ok(r))));
        let mut heap = BinaryHeap::with_capacity(sources.len());
        for (i, s) in sources.iter_mut().enumerate() {
            if let Some(r) = s.next().transpose()? {
                heap.push(Reverse((r, i)));
            }
        }
        while let Some(Reverse((r, i))) = heap.pop() {
            emit(r)?;
            if let Some(next) = sources[i].next().transpose()? {
                heap.push(Reverse((next, i)));
            }
        }
        Ok(())
    }
}

/// `dir/name` → `dir/name<suffix>`: the files that travel with an output (temporary copy, lock,
/// spilled runs, resume journal) sit beside it, on the same file system.
pub fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// `index.earmark` → `index.earmark.tmp-<pid>` in the same directory, so the rename is atomic.
fn temp_path(path: &Path) -> PathBuf {
    sibling(path, &format!(".tmp-{}", std::process::id()))
}

/// Holds an exclusive lock on `<index>.lock` while an index is being written. The lock file is
/// left in place afterwards: deleting it would let a waiting builder lock a file that a third
/// one no longer sees.
pub struct BuildLock {
    _file: File,
}

impl BuildLock {
    /// Fails at once, naming the index, when another process is building it.
    pub fn acquire(index: &Path) -> Result<Self> {
        let path = sibling(index, ".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => {
                remove_leftovers(index);
                Ok(BuildLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Build {
                reason: format!(
                    "{} is being written by another earmark process (lock {})",
                    index.display(),
                    path.display()
                ),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
        }
    }
}

/// Removes the temporary index and spilled runs of builders that were killed (`kill -9`, power
/// loss) before they could clean up. Only the lock holder calls this, so no live builder owns
/// them. Best effort: what cannot be removed is only wasted space.
fn remove_leftovers(index: &Path) {
    let (Some(dir), Some(name)) = (index.parent(), index.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let name = name.to_string_lossy();
    let prefixes = [format!("{name}.tmp-"), format!("{name}.runs-")];
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let Some(pid) = prefixes.iter().find_map(|p| file.strip_prefix(p.as_str())) else {
            continue;
        };
        if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let path = entry.path();
        let _ = match entry.file_type() {
            Ok(t) if t.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
    }
}

/// Checks that a section written up to `pos` filled exactly what its header entry says.
fn written_whole(pos: u64, section: Section, what: &str) -> Result<()> {
    if pos == section.offset + section.len {
        return Ok(());
    }
    Err(Error::Build {
        reason: format!(
            "wrote {} bytes of {what}, expected {}",
            pos.saturating_sub(section.offset),
            section.len
        ),
    })
}

/// Tracks the write position and a running CRC of the current section.
struct CountingWriter<W: Write> {
    inner: W,
    pos: u64,
    crc: crc32fast::Hasher,
}

impl<W: Write> CountingWriter<W> {
    fn new(inner: W) -> Self {
        CountingWriter {
            inner,
            pos: 0,
            crc: crc32fast::Hasher::new(),
        }
    }

    fn start_crc(&mut self) {
        self.crc = crc32fast::Hasher::new();
    }

    fn take_crc(&mut self) -> u32 {
        std::mem::replace(&mut self.crc, crc32fast::Hasher::new()).finalize()
    }

    /// Zero padding to the next 8-byte boundary (not part of any checksum).
    fn pad8(&mut self) -> std::io::Result<()> {
        let pad = (self.pos.next_multiple_of(8) - self.pos) as usize;
        self.inner.write_all(&[0u8; 8][..pad])?;
        self.pos += pad as u64;
        Ok(())
    }
}

impl<W: Write> Write for CountingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
