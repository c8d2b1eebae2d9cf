//! The on-disk layout of an index, owned by this one module: magic, version, header fields,
//! section offsets, posting bit packing and checksums. docs/index-format.md draws the same
//! layout for people; keep the two in step.
//!
//! All integers are little-endian. Sections start on 8-byte boundaries.
//!
//! ```text
//! [header 256 B][tracks][strings][postings][directory][peaks][footer 32 B]
//! ```
//!
//! Version 3 had no peaks section; it is still read, and its tracks have no stored peaks.
//! Versions 3 and 4 kept every posting in 64 bits; they are still read as 64-bit layouts.
//!
//! An index grown by `--append` is several such blobs (segments) one after another, closed by a
//! [`SegmentTable`]; a one-segment index has no table, so it is exactly the file above.

use std::path::Path;

use crate::codec::PARAMS_BYTES;
use crate::codec::{DETAIL_BITS, KeyLayout, PostingLayout};
use crate::config::FingerprintParams;
use crate::error::{Error, Result};

/// First eight bytes of every index.
pub const MAGIC: [u8; 8] = *b"EARMARK\0";
/// Last eight bytes of every index: a file cut short lacks them.
pub const FOOTER_MAGIC: [u8; 8] = *b"EARMEND\0";
/// The format version this build writes. Bump it for any change of layout *or* of how hashes
/// are derived (src/fingerprint/hash.rs): old indexes must be refused, not misread.
pub const VERSION: u32 = 5;
/// The oldest version still read: version 4 is version 5 with every posting 64 bits wide, and
/// version 3 is version 4 without the peaks section.
pub const OLDEST_READ: u32 = 3;
pub const HEADER_LEN: usize = 256;
pub const FOOTER_LEN: usize = 32;
/// Bytes per track record.
pub const TRACK_RECORD_LEN: usize = 24;
/// Last eight bytes of an index of several segments, closing its [`SegmentTable`].
pub const SEGMENTS_MAGIC: [u8; 8] = *b"EARMSEGS";
/// Most segments an index may hold: every lookup searches each, so more would slow scans
/// (`earmark index --compact` merges them into one).
pub const MAX_SEGMENTS: usize = 64;
/// Bytes of a segment table before its entries, and after them.
const TABLE_HEAD: usize = 16;
const TABLE_TAIL: usize = 32;

/// A byte range of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Section {
    pub offset: u64,
    pub len: u64,
}

impl Section {
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset as usize..(self.offset + self.len) as usize
    }
}

/// The fixed-size header at offset 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub params: FingerprintParams,
    pub layout: PostingLayout,
    pub tracks: u64,
    pub postings: u64,
    /// Sum of every track's length in frames.
    pub total_frames: u64,
    pub track_table: Section,
    pub strings: Section,
    pub posting_list: Section,
    pub directory: Section,
    /// The version the file was written with ([`OLDEST_READ`]..=[`VERSION`]).
    pub version: u32,
    /// Per track, where its peaks start (`tracks + 1` u64s), then the peaks ([`PeakCode`], u32
    /// each, in track order and by frame within a track). Empty in version 3.
    pub peak_list: Section,
    pub peaks: u64,
    /// CRC32 of the peaks section (kept here because the footer's layout predates it).
    pub crc_peaks: u32,
}

/// The four section checksums and the file length, at the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    pub crc_tracks: u32,
    pub crc_strings: u32,
    pub crc_postings: u32,
    pub crc_directory: u32,
    pub file_len: u64,
}

struct Writer<'a>(&'a mut [u8], usize);

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        self.0[self.1..self.1 + bytes.len()].copy_from_slice(bytes);
        self.1 += bytes.len();
    }
    fn u32(&mut self, v: u32) {
        self.put(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.put(&v.to_le_bytes());
    }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let mut w = Writer(&mut out, 0);
        w.put(&MAGIC);
        w.u32(self.version);
        w.u32(HEADER_LEN as u32);
        w.put(&self.params.to_bytes());
        for v in [
            self.layout.hash_bits,
            self.layout.dir_bits,
            self.layout.track_bits,
            self.layout.time_bits,
        ] {
            w.u32(v);
        }
        for v in [self.tracks, self.postings, self.total_frames] {
            w.u64(v);
        }
        for s in [
            self.track_table,
            self.strings,
            self.posting_list,
            self.directory,
        ] {
            w.u64(s.offset);
            w.u64(s.len);
        }
        if self.version >= 4 {
            w.u64(self.peak_list.offset);
            w.u64(self.peak_list.len);
            w.u64(self.peaks);
            w.u32(self.crc_peaks);
        }
        let crc = crc32fast::hash(&out[..HEADER_LEN - 8]);
        out[HEADER_LEN - 8..HEADER_LEN - 4].copy_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parses and checks the header of a file `file_len` bytes long: magic, version, checksum,
    /// and that every section lies inside the file where the layout says it must.
    pub fn decode(bytes: &[u8], file_len: u64, path: &Path) -> Result<Self> {
        let corrupt = |reason: String| Error::IndexCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        if bytes.len() < 8 || bytes[..8] != MAGIC {
            return Err(Error::NotAnIndex {
                path: path.to_path_buf(),
                what: crate::content::Content::sniff(bytes).describe(),
            });
        }
        if bytes.len() < 12 {
            return Err(corrupt("file ends inside the header".into()));
        }
        let version = u32_at(bytes, 8);
        if !(OLDEST_READ..=VERSION).contains(&version) {
            return Err(Error::IndexVersion {
                path: path.to_path_buf(),
                oldest: OLDEST_READ,
                expected: VERSION,
                found: version,
            });
        }
        if bytes.len() < HEADER_LEN || file_len < (HEADER_LEN + FOOTER_LEN) as u64 {
            return Err(corrupt(format!(
                "file is {file_len} bytes, too short for a header and footer"
            )));
        }
        if u32_at(bytes, 12) != HEADER_LEN as u32 {
            return Err(corrupt(format!(
                "header length {} instead of {HEADER_LEN}",
                u32_at(bytes, 12)
            )));
        }
        let stored = u32_at(bytes, HEADER_LEN - 8);
        let computed = crc32fast::hash(&bytes[..HEADER_LEN - 8]);
        if stored != computed {
            return Err(Error::ChecksumMismatch {
                path: path.to_path_buf(),
                section: "header",
                stored,
                computed,
            });
        }
        let params = FingerprintParams::from_bytes(
            bytes[16..16 + PARAMS_BYTES]
                .try_into()
                .expect("params slice"),
        )
        .ok_or_else(|| {
            corrupt(format!(
                "fourth-peak rule {} is unknown to this earmark (written by a newer one?)",
                u32_at(bytes, 16 + PARAMS_BYTES - 4)
            ))
        })?;
        let at = 16 + PARAMS_BYTES;
        let layout = PostingLayout {
            hash_bits: u32_at(bytes, at),
            dir_bits: u32_at(bytes, at + 4),
            track_bits: u32_at(bytes, at + 8),
            time_bits: u32_at(bytes, at + 12),
        };
        let at = at + 16;
        let (tracks, postings, total_frames) = (
            u64_at(bytes, at),
            u64_at(bytes, at + 8),
            u64_at(bytes, at + 16),
        );
        let at = at + 24;
        let section = |i: usize| Section {
            offset: u64_at(bytes, at + 16 * i),
            len: u64_at(bytes, at + 16 * i + 8),
        };
        let directory = section(3);
        let (peak_list, peaks, crc_peaks) = if version >= 4 {
            (section(4), u64_at(bytes, at + 80), u32_at(bytes, at + 88))
        } else {
            let end = directory.offset.saturating_add(directory.len);
            let empty = Section {
                offset: end.next_multiple_of(8),
                len: 0,
            };
            (empty, 0, crc32fast::hash(&[]))
        };
        let header = Header {
            params,
            layout,
            tracks,
            postings,
            total_frames,
            track_table: section(0),
            strings: section(1),
            posting_list: section(2),
            directory,
            version,
            peak_list,
            peaks,
            crc_peaks,
        };
        header.check(file_len).map_err(corrupt)?;
        Ok(header)
    }

    fn check(&self, file_len: u64) -> std::result::Result<(), String> {
        self.params.validate().map_err(|e| e.to_string())?;
        let l = self.layout;
        // Each width is checked before the sum, which could otherwise wrap round to 64.
        let widths = [l.track_bits, l.time_bits, DETAIL_BITS];
        // Summed wide, and before `low_bits` is trusted: a hostile header must not overflow.
        let width = u64::from(l.hash_bits.saturating_sub(l.dir_bits))
            + widths.iter().map(|&w| u64::from(w)).sum::<u64>();
        // Version 5 packs postings as narrow as their fields; earlier versions wrote 64 bits.
        let packed = self.version >= 5 && width < 64;
        if l.hash_bits > 32
            || l.dir_bits > l.hash_bits
            || l.dir_bits > 40
            || widths.iter().any(|&w| w > 64)
            || !(width == 64 || packed)
        {
            return Err(format!("impossible posting layout {l:?}"));
        }
        // Lookups find a hash's bucket from its top bits: a hash wider than the layout's would
        // index past the directory.
        let hash_bits = KeyLayout::new(&self.params).total_bits();
        if l.hash_bits != hash_bits {
            return Err(format!(
                "postings keep {}-bit hashes but the parameters make {hash_bits}-bit ones",
                l.hash_bits
            ));
        }
        if self.tracks > 1u64 << l.track_bits.min(63) {
            return Err(format!(
                "{} tracks do not fit {} track bits",
                self.tracks, l.track_bits
            ));
        }
        let expect = [
            (
                "track table",
                self.track_table,
                self.tracks.checked_mul(TRACK_RECORD_LEN as u64),
            ),
            (
                "posting list",
                self.posting_list,
                l.list_bytes(self.postings),
            ),
            (
                "directory",
                self.directory,
                Some(((1u64 << l.dir_bits) + 1) * 8),
            ),
            ("peaks section", self.peak_list, self.peak_list_len()),
        ];
        for (name, s, len) in expect {
            if Some(s.len) != len {
                return Err(format!("{name} is {} bytes, expected {len:?}", s.len));
            }
        }
        let mut end = HEADER_LEN as u64;
        for (name, s) in [
            ("track table", self.track_table),
            ("strings", self.strings),
            ("posting list", self.posting_list),
            ("directory", self.directory),
            ("peaks section", self.peak_list),
        ] {
            if s.offset != end.next_multiple_of(8) {
                return Err(format!(
                    "{name} starts at {} instead of {}",
                    s.offset,
                    end.next_multiple_of(8)
                ));
            }
            end = s
                .offset
                .checked_add(s.len)
                .ok_or("section length overflows")?;
        }
        let expected_len = end.next_multiple_of(8) + FOOTER_LEN as u64;
        if expected_len != file_len {
            return Err(format!(
                "file is {file_len} bytes but its header describes {expected_len} (truncated or appended to?)"
            ));
        }
        Ok(())
    }

    /// Offset of the footer, right after the last section.
    pub fn footer_offset(&self) -> u64 {
        (self.peak_list.offset + self.peak_list.len).next_multiple_of(8)
    }

    /// What the peaks section's length must be: nothing in version 3.
    fn peak_list_len(&self) -> Option<u64> {
        if self.version < 4 {
            return (self.peaks == 0).then_some(0);
        }
        let starts = self.tracks.checked_add(1)?.checked_mul(8)?;
        starts.checked_add(self.peaks.checked_mul(4)?)
    }
}

impl Footer {
    pub fn encode(&self) -> [u8; FOOTER_LEN] {
        let mut out = [0u8; FOOTER_LEN];
        let mut w = Writer(&mut out, 0);
        for v in [
            self.crc_tracks,
            self.crc_strings,
            self.crc_postings,
            self.crc_directory,
        ] {
            w.u32(v);
        }
        w.u64(self.file_len);
        w.put(&FOOTER_MAGIC);
        out
    }

    pub fn decode(bytes: &[u8], path: &Path) -> Result<Self> {
        if bytes.len() != FOOTER_LEN || bytes[24..] != FOOTER_MAGIC {
            return Err(Error::IndexCorrupt {
                path: path.to_path_buf(),
                reason: "the footer is missing: the file was not completely written".into(),
            });
        }
        Ok(Footer {
            crc_tracks: u32_at(bytes, 0),
            crc_strings: u32_at(bytes, 4),
            crc_postings: u32_at(bytes, 8),
            crc_directory: u32_at(bytes, 12),
            file_len: u64_at(bytes, 16),
        })
    }
}

/// Where each segment of an index lies: the table that closes an index of two segments or more.
/// A segment is a complete index blob (header to footer) whose offsets count from its own first
/// byte; segment 0 starts the file, the others follow it in order, each on an 8-byte boundary,
/// with the tables that earlier appends wrote between them (read no more). Track ids
/// run on from segment to segment: a segment's first track is the one after the previous
/// segment's last.
///
/// ```text
///  0     8  "EARMSEGS"
///  8     4  u32 segment count n (2..=MAX_SEGMENTS)
/// 12     4  reserved, 0
/// 16   16n  per segment: u64 offset, u64 length
/// 16+16n 4  CRC32 of the bytes above
///  +4    4  reserved, 0
///  +8    8  u64 the table's length, 48 + 16n
/// +16    8  u64 the file's length when the table was written: where the table ends
/// +24    8  "EARMSEGS"
/// ```
///
/// An append writes its segment and then a new table after the old one, whose bytes stay as
/// they were; a reader finds the newest table at the file's end, so an append killed before its
/// table was complete leaves the index as it was, with a tail that [`committed_end`] skips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentTable {
    pub segments: Vec<Section>,
}

impl SegmentTable {
    /// Bytes of a table of `n` segments.
    pub fn len_for(n: usize) -> u64 {
        (TABLE_HEAD + 16 * n + TABLE_TAIL) as u64
    }

    /// The table as it is written at offset `at` of the file.
    pub fn encode(&self, at: u64) -> Vec<u8> {
        let n = self.segments.len();
        let len = Self::len_for(n);
        let mut out = vec![0u8; len as usize];
        let mut w = Writer(&mut out, 0);
        w.put(&SEGMENTS_MAGIC);
        w.u32(n as u32);
        w.u32(0);
        for s in &self.segments {
            w.u64(s.offset);
            w.u64(s.len);
        }
        let crc = crc32fast::hash(&w.0[..w.1]);
        w.u32(crc);
        w.u32(0);
        w.u64(len);
        w.u64(at + len);
        w.put(&SEGMENTS_MAGIC);
        out
    }

    /// Reads the table that ends at `end` in `bytes`, checking its checksum and that its
    /// segments lie in order, apart, on 8-byte boundaries, inside the file before it.
    pub fn decode(bytes: &[u8], end: usize, path: &Path) -> Result<Self> {
        let corrupt = |reason: String| Error::IndexCorrupt {
            path: path.to_path_buf(),
            reason,
        };
        let table = Self::table_at(bytes, end)
            .ok_or_else(|| corrupt("the segment table is damaged".into()))?;
        let start = end - table.len();
        let n = u32_at(table, 8) as usize;
        let segments: Vec<Section> = (0..n)
            .map(|i| Section {
                offset: u64_at(table, TABLE_HEAD + 16 * i),
                len: u64_at(table, TABLE_HEAD + 16 * i + 8),
            })
            .collect();
        let mut next = 0u64;
        for (i, s) in segments.iter().enumerate() {
            let end_of = s.offset.saturating_add(s.len);
            let in_order = if i == 0 {
                s.offset == 0
            } else {
                s.offset >= next && s.offset % 8 == 0
            };
            if !in_order || end_of > start as u64 {
                return Err(corrupt(format!(
                    "segment {i} lies at {}..{end_of}, out of place",
                    s.offset
                )));
            }
            next = end_of;
        }
        Ok(SegmentTable { segments })
    }

    /// The bytes of a whole, self-consistent table ending at `end`, if there is one: its magic
    /// at both ends, a count in range, its own length and end, and its checksum.
    fn table_at(bytes: &[u8], end: usize) -> Option<&[u8]> {
        if end > bytes.len()
            || end < TABLE_HEAD + TABLE_TAIL
            || bytes[end - 8..end] != SEGMENTS_MAGIC
        {
            return None;
        }
        let len = usize::try_from(u64_at(bytes, end - 24)).ok()?;
        if u64_at(bytes, end - 16) != end as u64 || len > end || len < TABLE_HEAD + TABLE_TAIL {
            return None;
        }
        let table = &bytes[end - len..end];
        let n = u32_at(table, 8) as usize;
        let body = TABLE_HEAD + 16 * n;
        let ok = table[..8] == SEGMENTS_MAGIC
            && (2..=MAX_SEGMENTS).contains(&n)
            && Self::len_for(n) == len as u64
            && u32_at(table, body) == crc32fast::hash(&table[..body]);
        ok.then_some(table)
    }
}

/// Where the last complete state of the index file `bytes` ends: the file's length when it
/// ends as an index ends (a footer's or a segment table's magic; whether the rest is sound is
/// for the decoders to say), else, after an append killed before its table was complete, the
/// end of the newest whole segment table, or of the first segment's footer, before the
/// unfinished tail. `None` when neither is found (not an index, or cut short).
pub fn committed_end(bytes: &[u8]) -> Option<usize> {
    if bytes.ends_with(&FOOTER_MAGIC) || bytes.ends_with(&SEGMENTS_MAGIC) {
        return Some(bytes.len());
    }
    if !bytes.starts_with(&MAGIC) {
        return None;
    }
    let whole = |end: usize| {
        SegmentTable::table_at(bytes, end).is_some()
            || (end >= HEADER_LEN + FOOTER_LEN
                && bytes[end - 8..end] == FOOTER_MAGIC
                && u64_at(bytes, end - 16) == end as u64)
    };
    // Tables and footers end on 8-byte boundaries; an unfinished segment's own footer records
    // its length within that segment, never its end in the file, so it is not taken for one.
    let mut end = bytes.len() / 8 * 8;
    while end >= HEADER_LEN + FOOTER_LEN {
        if whole(end) {
            return Some(end);
        }
        end -= 8;
    }
    None
}

/// One row of the track table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackRecord {
    /// Where the id, then the external id, start in the strings section.
    pub strings_offset: u64,
    pub id_len: u32,
    pub external_id_len: u32,
    /// Length of the track in frames.
    pub frames: u32,
    /// [`source_check`] of the file the track was indexed from; 0 where unknown (indexes
    /// written before it, where these bytes were reserved and zero).
    pub source: u32,
}

/// What tells two catalogue files of the same track id apart without decoding them: CRC32 of
/// the length (u64, little-endian) and the first and last 64 KiB of the bytes. `--append`
/// compares it to decide whether a file already indexed under its id is the same recording.
/// Never 0 (0 means unknown).
pub fn source_check(len: u64, head: &[u8], tail: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len.to_le_bytes());
    h.update(&head[..head.len().min(SOURCE_CHECK_BYTES)]);
    h.update(&tail[tail.len().saturating_sub(SOURCE_CHECK_BYTES)..]);
    h.finalize().max(1)
}

/// Bytes at each end of a file that [`source_check`] reads.
pub const SOURCE_CHECK_BYTES: usize = 64 << 10;

impl TrackRecord {
    pub fn encode(&self) -> [u8; TRACK_RECORD_LEN] {
        let mut out = [0u8; TRACK_RECORD_LEN];
        let mut w = Writer(&mut out, 0);
        w.u64(self.strings_offset);
        w.u32(self.id_len);
        w.u32(self.external_id_len);
        w.u32(self.frames);
        w.u32(self.source);
        out
    }

    pub fn decode(b: &[u8]) -> Self {
        TrackRecord {
            strings_offset: u64_at(b, 0),
            id_len: u32_at(b, 8),
            external_id_len: u32_at(b, 12),
            frames: u32_at(b, 16),
            source: u32_at(b, 20),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fingerprint::HashLayout;

    /// Seen while writing the `index_open` fuzz target: bit widths whose u32 sum wraps round
    /// to 64 overflowed the layout check (a panic with overflow checks, a bogus layout without).
    #[test]
    fn bit_widths_that_wrap_are_refused() {
        let layout = PostingLayout::choose(25, 100, 2, 100).unwrap();
        let wrapping = PostingLayout {
            track_bits: u32::MAX - 7,
            time_bits: 56 - layout.low_bits(),
            ..layout
        };
        assert_eq!(
            wrapping
                .low_bits()
                .wrapping_add(wrapping.track_bits)
                .wrapping_add(wrapping.time_bits)
                .wrapping_add(DETAIL_BITS),
            64
        );
        let h = Header {
            params: FingerprintParams::default(),
            layout: wrapping,
            tracks: 0,
            postings: 0,
            total_frames: 0,
            track_table: Section::default(),
            strings: Section::default(),
            posting_list: Section::default(),
            directory: Section::default(),
            version: VERSION,
            peak_list: Section::default(),
            peaks: 0,
            crc_peaks: 0,
        };
        let err = h.check(1 << 20).unwrap_err();
        assert!(err.contains("impossible posting layout"), "{err}");
    }

    /// Found with the `index_open` fuzz target: a layout narrower than the parameters' hashes
    /// passed the open, and every lookup of a wider hash then read past the directory (a panic
    /// per scanned item).
    #[test]
    fn layout_hash_width_must_match_the_parameters() {
        let params = FingerprintParams::default();
        let bits = HashLayout::new(&params).total_bits();
        let narrow = PostingLayout::choose(bits - 4, 100, 2, 100).unwrap();
        let h = Header {
            params,
            ..header(VERSION, narrow)
        };
        let file_len = h.footer_offset() + FOOTER_LEN as u64;
        let err = h.check(file_len).unwrap_err();
        assert!(err.contains("-bit hashes"), "{err}");
        let right = header(VERSION, PostingLayout::choose(bits, 100, 2, 100).unwrap());
        let file_len = right.footer_offset() + FOOTER_LEN as u64;
        assert_eq!(right.check(file_len), Ok(()));
    }

    /// A header of `version` for 2 tracks, 5 peaks (none before version 4) and 100 postings
    /// laid out by `layout`, its sections where the layout puts them.
    fn header(version: u32, layout: PostingLayout) -> Header {
        let dir_len = ((1u64 << layout.dir_bits) + 1) * 8;
        let list = layout.list_bytes(100).unwrap();
        let directory = (312 + list).next_multiple_of(8);
        let peaks = if version >= 4 { 5 } else { 0 };
        let peak_list = Section {
            offset: (directory + dir_len).next_multiple_of(8),
            len: if version >= 4 { 3 * 8 + 5 * 4 } else { 0 },
        };
        Header {
            params: FingerprintParams::default(),
            layout,
            tracks: 2,
            postings: 100,
            total_frames: 150,
            track_table: Section {
                offset: 256,
                len: 48,
            },
            strings: Section {
                offset: 304,
                len: 5,
            },
            posting_list: Section {
                offset: 312,
                len: list,
            },
            directory: Section {
                offset: directory,
                len: dir_len,
            },
            version,
            peak_list,
            peaks,
            crc_peaks: if version >= 4 {
                0xDEAD_BEEF
            } else {
                crc32fast::hash(&[])
            },
        }
    }

    #[test]
    fn header_round_trips_and_rejects_damage() {
        let params = FingerprintParams::default();
        let bits = HashLayout::new(&params).total_bits();
        let layout = PostingLayout::choose(bits, 100, 2, 100).unwrap();
        assert!(layout.width() < 64, "{layout:?}");
        let h = header(VERSION, layout);
        let file_len = h.footer_offset() + FOOTER_LEN as u64;
        let bytes = h.encode();
        let path = Path::new("x");
        assert_eq!(Header::decode(&bytes, file_len, path).unwrap(), h);
        // Versions 3 and 4 kept 64-bit postings: a narrower layout under their number is
        // damage, and their own layouts still read.
        for old in [3, 4] {
            let mut narrow = h.encode();
            narrow[8] = old;
            let crc = crc32fast::hash(&narrow[..HEADER_LEN - 8]);
            narrow[HEADER_LEN - 8..HEADER_LEN - 4].copy_from_slice(&crc.to_le_bytes());
            let err = Header::decode(&narrow, file_len, path).unwrap_err();
            assert!(
                err.to_string().contains("impossible posting layout"),
                "{err}"
            );
            let wide = PostingLayout {
                time_bits: 64 - layout.width() + layout.time_bits,
                ..layout
            };
            let o = header(u32::from(old), wide);
            let decoded =
                Header::decode(&o.encode(), o.footer_offset() + FOOTER_LEN as u64, path).unwrap();
            assert_eq!(decoded, o);
            // A version 3 file ends at the directory: it has no peaks section.
            assert_eq!(decoded.peak_list.len == 0, old == 3);
        }
        assert!(matches!(
            Header::decode(&bytes, file_len - 1, path),
            Err(Error::IndexCorrupt { .. })
        ));
        let mut bad = bytes;
        bad[100] ^= 1;
        assert!(matches!(
            Header::decode(&bad, file_len, path),
            Err(Error::ChecksumMismatch { .. })
        ));
        for version in [2, 6] {
            let mut other = bytes;
            other[8] = version;
            assert!(matches!(
                Header::decode(&other, file_len, path),
                Err(Error::IndexVersion { found, .. }) if found == u32::from(version)
            ));
        }
        assert!(matches!(
            Header::decode(b"RIFF....", file_len, path),
            Err(Error::NotAnIndex { .. })
        ));
    }
}
