//! [`Index`]: an immutable index over any bytes — a memory map in production, a `Vec<u8>` in
//! tests — made of one [`Segment`] or of several that appends added. Opening reads and checks
//! only each segment's header and footer (and the segment table); [`Index::verify`] checks
//! every checksum and is a separate, explicit call (`earmark verify`).

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::{Advice, Mmap};

use super::format::{
    self, FOOTER_LEN, Footer, HEADER_LEN, Header, Section, TRACK_RECORD_LEN, TrackRecord,
};
use super::{Posting, TrackId};
use crate::codec::{Hash, PeakCode, PostingLayout};
use crate::config::FingerprintParams;
use crate::error::{Error, Result};

/// A catalogue track as the index stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Track<'a> {
    /// Path relative to the argument it was indexed from.
    pub id: &'a str,
    /// Optional external identifier from `--ids` (an ISRC, say); empty when none.
    pub external_id: &'a str,
    /// Length in frames.
    pub frames: u32,
    /// [`source_check`](super::format::source_check) of the file it was indexed from; 0 where
    /// unknown.
    pub source: u32,
}

/// One track's stored peaks ([`PeakCode`]s, little-endian u32s), ordered by frame.
#[derive(Debug, Clone, Copy)]
pub struct TrackPeaks<'a>(&'a [u8]);

impl<'a> TrackPeaks<'a> {
    /// Peaks stored as `bytes` (little-endian u32 codes, by frame).
    pub fn from_bytes(bytes: &'a [u8]) -> Self {
        TrackPeaks(&bytes[..bytes.len() / 4 * 4])
    }

    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, i: usize) -> PeakCode {
        PeakCode(u32::from_le_bytes(
            self.0[4 * i..4 * i + 4].try_into().expect("4 bytes"),
        ))
    }

    /// The index of the first peak at or after `frame`.
    pub fn first_at(&self, frame: u32) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.get(mid).frame() < frame {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    pub fn iter(&self) -> impl Iterator<Item = PeakCode> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// A read-only index: one segment, or several that `--append` added (docs/index-format.md).
/// Track ids are global: each segment's run on from the previous one's.
pub struct Index<D: AsRef<[u8]> = Mmap> {
    data: D,
    segments: Vec<Segment>,
    tracks: u32,
    postings: u64,
    /// Where the index ends in `data`: before the tail of an append that was killed, if any.
    end: usize,
    path: PathBuf,
}

/// One segment of an index: a whole index blob inside the file.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Its first byte in the file.
    at: usize,
    len: usize,
    header: Header,
    footer: Footer,
    /// The global id of its first track.
    first_track: u32,
}

impl Segment {
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Where it lies in the file.
    pub fn section(&self) -> Section {
        Section {
            offset: self.at as u64,
            len: self.len as u64,
        }
    }

    pub fn first_track(&self) -> TrackId {
        TrackId(self.first_track)
    }
}

impl Index<Mmap> {
    /// Memory-maps and opens the index at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: the map is read-only, and the bytes it covers never change while it is open:
        // a build replaces an index by rename, and an append only adds bytes past the end this
        // reader found (or cuts an unfinished tail past it), which it never reads.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let index = Index::from_bytes(map, path)?;
        // Postings are read at random; the kernel's read-ahead would only waste page cache.
        let _ = index.advise_postings(Advice::Random);
        Ok(index)
    }

    /// How the kernel should page the postings in: [`Advice::Random`] (set on open: no
    /// read-ahead, since lookups jump about) or, to compare, [`Advice::Normal`].
    pub fn advise_postings(&self, advice: Advice) -> Result<()> {
        for s in &self.segments {
            let list = s.header.posting_list;
            self.data
                .advise_range(advice, s.at + list.offset as usize, list.len as usize)
                .map_err(|e| Error::io(&self.path, e))?;
        }
        Ok(())
    }
}

impl<D: AsRef<[u8]>> Index<D> {
    /// Opens an index held in `data`; `path` is only used in messages.
    pub fn from_bytes(data: D, path: &Path) -> Result<Self> {
        let bytes = data.as_ref();
        // A file with no complete state is read whole, so that its header says what is wrong.
        let end = format::committed_end(bytes).unwrap_or(bytes.len());
        let sections = if bytes[..end].ends_with(&format::SEGMENTS_MAGIC) {
            format::SegmentTable::decode(bytes, end, path)?.segments
        } else {
            vec![Section {
                offset: 0,
                len: end as u64,
            }]
        };
        let mut segments = Vec::with_capacity(sections.len());
        let (mut tracks, mut postings) = (0u64, 0u64);
        for (i, s) in sections.iter().enumerate() {
            let blob = &bytes[s.range()];
            let segment = Segment::open(blob, s.offset as usize, tracks, path)?;
            if let Some(first) = segments.first() {
                let first: &Segment = first;
                if first.header.params != segment.header.params {
                    return Err(Error::IndexCorrupt {
                        path: path.to_path_buf(),
                        reason: format!(
                            "segment {i} was built with other fingerprint parameters than segment 0"
                        ),
                    });
                }
            }
            tracks += segment.header.tracks;
            postings += segment.header.postings;
            segments.push(segment);
        }
        let tracks = u32::try_from(tracks).map_err(|_| Error::IndexCorrupt {
            path: path.to_path_buf(),
            reason: format!("{tracks} tracks, more than track ids can name"),
        })?;
        Ok(Index {
            data,
            segments,
            tracks,
            postings,
            end,
            path: path.to_path_buf(),
        })
    }

    /// Checks the checksums of the sections a scan relies on to name what it finds: each
    /// segment's track table, strings and directory (the headers' were checked on open).
    /// O(tracks + directory), so cheap enough for every scan; the postings and peaks, the bulk
    /// of the file, are left to [`verify`](Self::verify).
    pub fn check_tables(&self) -> Result<()> {
        for s in &self.segments {
            let (h, f) = (&s.header, &s.footer);
            for (section, range, stored) in [
                ("track table", h.track_table, f.crc_tracks),
                ("strings", h.strings, f.crc_strings),
                ("directory", h.directory, f.crc_directory),
            ] {
                self.check_section(s, section, range, stored)?;
            }
        }
        Ok(())
    }

    fn check_section(
        &self,
        s: &Segment,
        section: &'static str,
        range: Section,
        stored: u32,
    ) -> Result<()> {
        let computed = crc32fast::hash(&self.blob(s)[range.range()]);
        if computed != stored {
            return Err(Error::ChecksumMismatch {
                path: self.path.clone(),
                section,
                stored,
                computed,
            });
        }
        Ok(())
    }

    /// Checks every section's checksum and each segment's directory and tables.
    pub fn verify(&self) -> Result<()> {
        self.check_tables()?;
        for s in &self.segments {
            self.verify_segment(s)?;
        }
        Ok(())
    }

    fn verify_segment(&self, s: &Segment) -> Result<()> {
        let h = &s.header;
        self.check_section(s, "posting list", h.posting_list, s.footer.crc_postings)?;
        self.check_section(s, "peaks", h.peak_list, h.crc_peaks)?;
        let corrupt = |reason: String| Error::IndexCorrupt {
            path: self.path.clone(),
            reason,
        };
        check_starts(
            h.layout.buckets() as u64 + 1,
            |b| self.dir(s, b as usize),
            h.postings,
            |b| format!("directory entry {b} is out of order"),
            "directory does not end at the last posting",
        )
        .map_err(corrupt)?;
        if h.version >= 4 {
            check_starts(
                h.tracks + 1,
                |t| self.peak_start(s, t),
                h.peaks,
                |t| format!("peak start of track {t} is out of order"),
                "peak starts do not end at the last peak",
            )
            .map_err(corrupt)?;
        }
        for t in 0..h.tracks as u32 {
            let r = self.record(s, t);
            let end = r.strings_offset + u64::from(r.id_len) + u64::from(r.external_id_len);
            if end > h.strings.len || self.string(s, r.strings_offset, r.id_len).is_none() {
                return Err(corrupt(format!(
                    "track {} names bytes outside the strings section",
                    s.first_track + t
                )));
            }
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The segments, in order: one unless tracks were appended since the index was last
    /// written whole.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The bytes that name the index's content whatever its size: each segment's header and
    /// footer, which hold the CRC32 of every section, and the segment table if there is one.
    pub fn identity_bytes(&self) -> Vec<&[u8]> {
        let bytes = self.data.as_ref();
        let mut parts = Vec::with_capacity(2 * self.segments.len() + 1);
        for s in &self.segments {
            let footer = s.at + s.header.footer_offset() as usize;
            parts.push(&bytes[s.at..s.at + HEADER_LEN]);
            parts.push(&bytes[footer..footer + FOOTER_LEN]);
        }
        let last = &self.segments[self.segments.len() - 1];
        parts.push(&bytes[last.at + last.len..self.end]);
        parts
    }

    /// Bytes after the index's end that an append killed before finishing left behind; the
    /// next append removes them.
    pub fn unfinished_bytes(&self) -> u64 {
        (self.data.as_ref().len() - self.end) as u64
    }

    pub fn params(&self) -> &FingerprintParams {
        &self.segments[0].header.params
    }

    /// The width of the hashes the postings are keyed by.
    pub fn hash_bits(&self) -> u32 {
        self.segments[0].header.layout.hash_bits
    }

    pub fn tracks(&self) -> u32 {
        self.tracks
    }

    pub fn postings(&self) -> u64 {
        self.postings
    }

    /// Sum of every track's length in frames.
    pub fn total_frames(&self) -> u64 {
        self.segments.iter().map(|s| s.header.total_frames).sum()
    }

    /// Peaks stored for every track.
    pub fn peaks(&self) -> u64 {
        self.segments.iter().map(|s| s.header.peaks).sum()
    }

    /// Size of the index in bytes.
    pub fn size(&self) -> u64 {
        self.end as u64
    }

    fn blob(&self, s: &Segment) -> &[u8] {
        &self.data.as_ref()[s.at..s.at + s.len]
    }

    fn dir(&self, s: &Segment, bucket: usize) -> u64 {
        let at = s.header.directory.offset as usize + bucket * 8;
        u64::from_le_bytes(self.blob(s)[at..at + 8].try_into().expect("8 bytes"))
    }

    fn posting_words(&self, s: &Segment) -> &[u8] {
        &self.blob(s)[s.header.posting_list.range()]
    }

    fn record(&self, s: &Segment, local: u32) -> TrackRecord {
        let at = s.header.track_table.offset as usize + local as usize * TRACK_RECORD_LEN;
        TrackRecord::decode(&self.blob(s)[at..at + TRACK_RECORD_LEN])
    }

    fn string(&self, s: &Segment, offset: u64, len: u32) -> Option<&str> {
        let strings = s.header.strings;
        let start = strings.offset.checked_add(offset)?;
        let end = start.checked_add(u64::from(len))?;
        if end > strings.offset + strings.len {
            return None;
        }
        std::str::from_utf8(&self.blob(s)[start as usize..end as usize]).ok()
    }

    /// The segment holding track `id`, and the track's row in it.
    fn locate(&self, id: TrackId) -> Option<(&Segment, u32)> {
        if id.0 >= self.tracks {
            return None;
        }
        let i = self.segments.partition_point(|s| s.first_track <= id.0) - 1;
        let s = &self.segments[i];
        Some((s, id.0 - s.first_track))
    }

    /// How evenly the postings spread over keys, for several kinds of key in one pass over
    /// every posting (`earmark info --hashes`). A key is a hash without its low `drop_bits`
    /// bits: 0 for the whole hash, the fourth peak's width for the triplet alone. Keys with more
    /// than `common_cap` postings are counted apart, as the ones a query skips.
    pub fn hash_spreads<const N: usize>(
        &self,
        drop_bits: [u32; N],
        common_cap: u64,
    ) -> [HashSpread; N] {
        let mut spreads = drop_bits.map(|drop| HashSpread {
            hash_bits: self.hash_bits().saturating_sub(drop),
            ..HashSpread::default()
        });
        let mut keys = [None; N];
        let mut tracks: [Vec<u32>; N] = std::array::from_fn(|_| Vec::new());
        // Postings come in hash order, so one key's postings come together.
        for (hash, p) in self.all_postings() {
            for i in 0..N {
                let k = hash.0.checked_shr(drop_bits[i]).unwrap_or(0);
                if keys[i] != Some(k) {
                    spreads[i].add_key(&mut tracks[i], common_cap);
                    keys[i] = Some(k);
                }
                tracks[i].push(p.track.0);
            }
        }
        for (s, t) in spreads.iter_mut().zip(&mut tracks) {
            s.add_key(t, common_cap);
        }
        spreads
    }

    /// A track's length in frames, without reading its names (the matcher asks for every track
    /// it weighs).
    pub fn track_frames(&self, id: TrackId) -> Option<u32> {
        self.locate(id).map(|(s, t)| self.record(s, t).frames)
    }

    /// Whether the index stores peaks (format version 4 or later, with at least one track's), so that
    /// candidate matches can be checked against them.
    pub fn has_peaks(&self) -> bool {
        self.segments
            .iter()
            .any(|s| s.header.version >= 4 && s.header.peaks > 0)
    }

    fn peak_start(&self, s: &Segment, local: u64) -> u64 {
        let at = s.header.peak_list.offset as usize + local as usize * 8;
        u64::from_le_bytes(self.blob(s)[at..at + 8].try_into().expect("8 bytes"))
    }

    /// The stored peaks of track `id`, by frame: empty for an index without peaks, a track
    /// added without them, an unknown id, or damaged peak starts (which `verify` reports).
    pub fn track_peaks(&self, id: TrackId) -> TrackPeaks<'_> {
        let Some((s, local)) = self.locate(id) else {
            return TrackPeaks(&[]);
        };
        let h = &s.header;
        let t = u64::from(local);
        if h.version < 4 {
            return TrackPeaks(&[]);
        }
        let (start, end) = (self.peak_start(s, t), self.peak_start(s, t + 1));
        if start > end || end > h.peaks {
            return TrackPeaks(&[]);
        }
        let codes = h.peak_list.offset as usize + (h.tracks as usize + 1) * 8;
        TrackPeaks(&self.blob(s)[codes + start as usize * 4..codes + end as usize * 4])
    }

    /// The track with id `id`; `None` past the end of the table (only a damaged posting names one).
    pub fn track(&self, id: TrackId) -> Option<Track<'_>> {
        let (s, local) = self.locate(id)?;
        let r = self.record(s, local);
        Some(Track {
            id: self
                .string(s, r.strings_offset, r.id_len)
                .unwrap_or("<damaged track name>"),
            external_id: self
                .string(s, r.strings_offset + u64::from(r.id_len), r.external_id_len)
                .unwrap_or(""),
            frames: r.frames,
            source: r.source,
        })
    }

    /// Starts loading the first postings of `hash`'s bucket into the CPU cache, so that the
    /// lookups of a landmark's probes wait for memory together rather than one after another
    /// (a lookup is otherwise one cache miss, and on a large index one page fault, in a row).
    pub fn prefetch(&self, hash: Hash) {
        for s in &self.segments {
            let start = self.dir(s, s.header.layout.bucket(hash.0));
            if start < s.header.postings {
                prefetch_read(&self.posting_words(s)[s.header.layout.byte_of(start)]);
            }
        }
    }

    /// Every posting of `hash`: a directory read, then a search inside one bucket.
    pub fn lookup(&self, hash: Hash) -> Postings<'_, D> {
        self.lookup_range(hash, hash)
    }

    /// Every posting whose hash lies in `first..=last` (one triplet's fourth peaks, say), in
    /// each segment: the postings are sorted by hash, so they lie together, from a search in
    /// `first`'s bucket to one in `last`'s.
    pub fn lookup_range(&self, first: Hash, last: Hash) -> Postings<'_, D> {
        let mut postings = Postings::empty(self);
        for (i, s) in self.segments.iter().enumerate() {
            let (start, end) = self.range_in(s, first, last);
            if start == end {
                continue;
            }
            postings.remaining += end - start;
            if postings.next == postings.end {
                postings.enter(i, start, end);
            } else {
                postings.later.push((i, start, end));
            }
        }
        postings.later.reverse();
        postings
    }

    /// The positions in `s`'s posting list of the postings whose hash lies in `first..=last`.
    fn range_in(&self, s: &Segment, first: Hash, last: Hash) -> (u64, u64) {
        let layout = s.header.layout;
        let (b0, b1) = (layout.bucket(first.0), layout.bucket(last.0));
        let (mut start, mut end) = (self.dir(s, b0), self.dir(s, b1 + 1));
        if b0 > b1 || end > s.header.postings || start > end {
            // Only a damaged directory (or an empty range) gets here; `verify` says which.
            return (0, 0);
        }
        if layout.low_bits() > 0 {
            let low = |h: Hash| h.0 & ((1 << layout.low_bits()) - 1);
            let (lo, _) = layout.low_range(low(first));
            let (_, hi) = layout.low_range(low(last));
            let postings = self.posting_words(s);
            let at = |i: u64| layout.read(postings, i);
            // Within a bucket the postings, whose top bits are the hash's low bits, are sorted.
            let first_bucket_end = self.dir(s, b0 + 1).clamp(start, end);
            start = seek(start, first_bucket_end, |i| at(i) < lo);
            let last_bucket_start = self.dir(s, b1).clamp(start, end);
            end = seek(last_bucket_start, end, |i| at(i) <= hi);
        }
        (start, end)
    }

    /// One segment's postings with their full hashes and global tracks, in sorted order.
    fn segment_postings<'a>(
        &'a self,
        s: &'a Segment,
    ) -> impl Iterator<Item = (Hash, Posting)> + 'a {
        let layout = s.header.layout;
        let low_bits = layout.low_bits();
        let words = self.posting_words(s);
        (0..layout.buckets()).flat_map(move |b| {
            (self.dir(s, b)..self.dir(s, b + 1).min(s.header.postings)).map(move |i| {
                let (low, track, frame, detail) = layout.unpack(layout.read(words, i));
                let hash = ((b as u64) << low_bits) as u32 | low;
                (
                    Hash(hash),
                    Posting {
                        track: TrackId(s.first_track + track),
                        frame,
                        detail,
                    },
                )
            })
        })
    }

    /// Every posting with its full hash, in sorted order (merging, `info`): the segments' own
    /// orders merged by hash; for one hash, a segment's tracks all come before the next's.
    pub fn all_postings(&self) -> impl Iterator<Item = (Hash, Posting)> + '_ {
        let mut sources: Vec<_> = self
            .segments
            .iter()
            .map(|s| self.segment_postings(s).peekable())
            .collect();
        std::iter::from_fn(move || {
            let (i, _) = sources
                .iter_mut()
                .enumerate()
                .filter_map(|(i, s)| s.peek().map(|(h, _)| (i, *h)))
                .min_by_key(|&(i, h)| (h, i))?;
            sources[i].next()
        })
    }
}

impl Segment {
    /// Checks one blob's header and footer; `first_track` is the global id of its first track.
    fn open(blob: &[u8], at: usize, first_track: u64, path: &Path) -> Result<Self> {
        // A tar's header is 512 bytes: enough is passed to name what a file is, if not an index.
        let head = &blob[..blob.len().min(HEADER_LEN.max(crate::content::SNIFF_BYTES))];
        let header = Header::decode(head, blob.len() as u64, path)?;
        let footer_at = header.footer_offset() as usize;
        let footer = Footer::decode(&blob[footer_at..footer_at + FOOTER_LEN], path)?;
        if footer.file_len != blob.len() as u64 {
            return Err(Error::IndexCorrupt {
                path: path.to_path_buf(),
                reason: format!(
                    "footer records {} bytes, file has {}",
                    footer.file_len,
                    blob.len()
                ),
            });
        }
        Ok(Segment {
            at,
            len: blob.len(),
            header,
            footer,
            first_track: u32::try_from(first_track).unwrap_or(u32::MAX),
        })
    }
}

/// Buckets up to this many postings are scanned rather than bisected.
const LINEAR_SCAN: u64 = 48;

/// The first index in `lo..hi` where `below` turns false (`below` must be monotone): a forward
/// scan in a typical bucket (two cache lines), a binary search in a larger one.
/// A table of `entries` cumulative starts (`start(i)`: the directory, or the peaks' track
/// starts) must never decrease, never pass `end`, and end at it.
fn check_starts(
    entries: u64,
    start: impl Fn(u64) -> u64,
    end: u64,
    out_of_order: impl Fn(u64) -> String,
    short: &str,
) -> std::result::Result<(), String> {
    let mut previous = 0;
    for i in 0..entries {
        let at = start(i);
        if at < previous || at > end {
            return Err(out_of_order(i));
        }
        previous = at;
    }
    if previous != end {
        return Err(short.to_string());
    }
    Ok(())
}

fn seek(lo: u64, hi: u64, below: impl Fn(u64) -> bool) -> u64 {
    if hi - lo <= LINEAR_SCAN {
        (lo..hi).find(|&i| !below(i)).unwrap_or(hi)
    } else {
        partition_point(lo, hi, below)
    }
}

/// Binary search for [`seek`].
fn partition_point(mut lo: u64, mut hi: u64, below: impl Fn(u64) -> bool) -> u64 {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Iterator over the postings of a hash range, segment by segment.
pub struct Postings<'a, D: AsRef<[u8]>> {
    index: &'a Index<D>,
    /// The segment being read: its posting list, how its postings pack, its first track, and
    /// the positions left in it.
    words: &'a [u8],
    layout: PostingLayout,
    first_track: u32,
    next: u64,
    end: u64,
    remaining: u64,
    /// The other segments' ranges, last first (empty, unallocated, for one segment).
    later: Vec<(usize, u64, u64)>,
}

impl<'a, D: AsRef<[u8]>> Postings<'a, D> {
    fn empty(index: &'a Index<D>) -> Self {
        Postings {
            index,
            words: &[],
            layout: index.segments[0].header.layout,
            first_track: 0,
            next: 0,
            end: 0,
            remaining: 0,
            later: Vec::new(),
        }
    }

    /// Reads positions `next..end` of segment `i` next.
    fn enter(&mut self, i: usize, next: u64, end: u64) {
        let s = &self.index.segments[i];
        self.words = self.index.posting_words(s);
        self.layout = s.header.layout;
        self.first_track = s.first_track;
        (self.next, self.end) = (next, end);
    }

    /// Number of postings left.
    pub fn remaining(&self) -> u64 {
        self.remaining
    }
}

impl<D: AsRef<[u8]>> Iterator for Postings<'_, D> {
    type Item = Posting;

    fn next(&mut self) -> Option<Posting> {
        if self.next >= self.end {
            let (i, next, end) = self.later.pop()?;
            self.enter(i, next, end);
        }
        let word = self.layout.read(self.words, self.next);
        let (_, track, frame, detail) = self.layout.unpack(word);
        self.next += 1;
        self.remaining -= 1;
        Some(Posting {
            track: TrackId(self.first_track.saturating_add(track)),
            frame,
            detail,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining as usize;
        (n, Some(n))
    }
}

/// A hint to the CPU to fetch the cache line holding `byte`.
#[inline]
fn prefetch_read(byte: &u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch only hints the cache; it reads nothing into the program and cannot
    // fault, and SSE is part of the x86-64 baseline.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(byte).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = byte;
}

/// How evenly an index's postings spread over keys, whole hashes or triplets
/// ([`Index::hash_spreads`]). A query meets, per key it reads, about as many chance postings as
/// a posting shares its key with, so this predicts query cost: uniform keys would share with
/// `postings / 2^hash_bits` others (`hash_bits` being the key's width).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HashSpread {
    pub hash_bits: u32,
    /// Hash values that hold at least one posting.
    pub hashes: u64,
    pub postings: f64,
    /// Sum over hashes of the square of their postings.
    pub postings_sq: f64,
    /// Distinct (hash, track) pairs, and the sum over hashes of the square of their tracks.
    pub pairs: f64,
    pub pairs_sq: f64,
    /// Postings (and their squares) of the hashes with more than the common cap.
    pub common_postings: f64,
    pub common_postings_sq: f64,
}

impl HashSpread {
    /// Counts one key's postings, given as their tracks (emptied).
    fn add_key(&mut self, tracks: &mut Vec<u32>, common_cap: u64) {
        if tracks.is_empty() {
            return;
        }
        let n = tracks.len() as f64;
        tracks.sort_unstable();
        tracks.dedup();
        let d = tracks.len() as f64;
        self.hashes += 1;
        self.postings += n;
        self.postings_sq += n * n;
        self.pairs += d;
        self.pairs_sq += d * d;
        if n > common_cap as f64 {
            self.common_postings += n;
            self.common_postings_sq += n * n;
        }
        tracks.clear();
    }

    /// Postings in the hash of the average posting (itself included).
    pub fn postings_per_hash_seen(&self) -> f64 {
        self.postings_sq / self.postings.max(1.0)
    }

    /// Tracks in the hash of the average (hash, track) pair (itself included).
    pub fn tracks_per_hash_seen(&self) -> f64 {
        self.pairs_sq / self.pairs.max(1.0)
    }

    /// The number of equally likely hashes over which the (hash, track) pairs would collide as
    /// often as they do, in bits (at most the hash width): the hash's usable entropy.
    pub fn effective_bits(&self) -> f64 {
        let excess = self.tracks_per_hash_seen() - 1.0;
        let full = f64::from(self.hash_bits);
        if excess <= 0.0 {
            return full;
        }
        (self.pairs / excess).log2().min(full)
    }

    /// Share of the chance postings a query meets that the common hashes hold.
    pub fn common_cost_share(&self) -> f64 {
        self.common_postings_sq / self.postings_sq.max(1.0)
    }
}
