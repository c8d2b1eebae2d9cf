//! The catalogue index: postings `(track, frame)` grouped by [`Hash`](crate::fingerprint::Hash),
//! stored in one memory-mapped file.
//!
//! [`format`](mod@format) owns the byte layout (drawn in docs/index-format.md),
//! [`builder::IndexBuilder`] writes it, [`reader::Index`] reads it. A lookup is one directory read
//! and a binary search in a small bucket: O(1) in the size of the catalogue.

pub mod builder;
pub mod catalogue;
pub mod format;
pub mod reader;

pub use builder::{BuildLock, BuildStats, IndexBuilder, TrackEntry};
pub use reader::{HashSpread, Index, Postings, Track};

use crate::codec::Detail;

/// A track's position in the index's track table.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct TrackId(pub u32);

/// One occurrence of a hash in the catalogue: which track, at which anchor frame, and the
/// landmark's fine pitch and span for verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Posting {
    pub track: TrackId,
    pub frame: u32,
    pub detail: Detail,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::PeakCode;
    use crate::codec::{Detail, Hash, Keyed};
    use crate::config::FingerprintParams;
    use std::collections::BTreeSet;

    fn entry(id: &str, frames: u32) -> TrackEntry {
        TrackEntry {
            id: id.into(),
            external_id: format!("X-{id}"),
            frames,
            source: frames + 1,
        }
    }

    /// Deterministic pseudo-random hashes for a track.
    fn hashes(seed: u32, n: u32) -> Vec<Keyed> {
        (0..n)
            .map(|i| Keyed {
                hash: Hash((i.wrapping_mul(2654435761) ^ seed.wrapping_mul(40503)) & 0x7FFF_FFFF),
                frame: i * 3 % 5000,
                detail: Detail((i.wrapping_mul(40503) >> 7) as u16),
            })
            .collect()
    }

    /// Deterministic peaks for a track, out of order and with one repeated.
    fn peaks(seed: u32, n: u32) -> Vec<PeakCode> {
        let mut p: Vec<PeakCode> = (0..n)
            .map(|i| PeakCode::new((i * 7 + seed) % 900, (i * 131 + seed) % 1000).unwrap())
            .collect();
        if let Some(&first) = p.first() {
            p.push(first);
        }
        p
    }

    /// `peaks(seed, n)` as the index should return them: by frame (then pitch), once each.
    fn stored(seed: u32, n: u32) -> Vec<PeakCode> {
        let mut p = peaks(seed, n);
        p.sort_unstable();
        p.dedup();
        p
    }

    fn build(memory: u64, dir: &std::path::Path, tracks: &[(&str, u32)]) -> std::path::PathBuf {
        let path = dir.join("t.earmark");
        let mut b =
            IndexBuilder::new(FingerprintParams::default(), memory, dir.join("runs")).unwrap();
        for (i, (name, n)) in tracks.iter().enumerate() {
            b.add_track(
                entry(name, 5000),
                &hashes(i as u32, *n),
                &peaks(i as u32, n / 4),
            )
            .unwrap();
        }
        b.finish(&path).unwrap();
        path
    }

    /// A builder with the default parameters that never spills.
    fn in_memory_builder(dir: &std::path::Path) -> IndexBuilder<'static> {
        IndexBuilder::new(FingerprintParams::default(), 1 << 30, dir.join("runs")).unwrap()
    }

    /// The reference: a plain set of (hash, track, frame).
    fn expected(tracks: &[(&str, u32)]) -> BTreeSet<(u32, u32, u32, u16)> {
        let mut s = BTreeSet::new();
        for (i, (_, n)) in tracks.iter().enumerate() {
            for k in hashes(i as u32, *n) {
                s.insert((k.hash.0, i as u32, k.frame, k.detail.0));
            }
        }
        s
    }

    #[test]
    fn lookups_match_a_plain_set_with_and_without_spilling() {
        let tracks = [("a.mp3", 3000), ("dir/b.flac", 5000), ("c.ogg", 10)];
        let want = expected(&tracks);
        for memory in [1 << 30, 20_000] {
            let dir = tempfile::tempdir().unwrap();
            let path = build(memory, dir.path(), &tracks);
            let index = Index::open(&path).unwrap();
            index.verify().unwrap();
            assert_eq!(index.postings(), want.len() as u64);
            assert_eq!(index.track(TrackId(1)).unwrap().id, "dir/b.flac");
            assert_eq!(index.track(TrackId(1)).unwrap().external_id, "X-dir/b.flac");
            assert_eq!(index.track(TrackId(1)).unwrap().source, 5001);
            assert!(index.track(TrackId(3)).is_none());
            let all: BTreeSet<_> = index
                .all_postings()
                .map(|(h, p)| (h.0, p.track.0, p.frame, p.detail.0))
                .collect();
            assert_eq!(all, want);
            for &(h, t, f, d) in want.iter().step_by(97) {
                let got: Vec<_> = index.lookup(Hash(h)).collect();
                assert!(got.contains(&Posting {
                    track: TrackId(t),
                    frame: f,
                    detail: Detail(d),
                }));
                let n = want
                    .range((h, 0, 0, 0)..=(h, u32::MAX, u32::MAX, u16::MAX))
                    .count();
                assert_eq!(got.len(), n);
                // A range (one triplet's fourth peaks, or wide enough to cross buckets) holds
                // exactly the postings whose hash lies in it.
                for width in [63u32, (1 << 24) - 1, u32::MAX >> 1] {
                    let (lo, hi) = (h & !width, h | width);
                    let mut got: Vec<_> = index
                        .lookup_range(Hash(lo), Hash(hi))
                        .map(|p| (p.track.0, p.frame, p.detail.0))
                        .collect();
                    let mut n: Vec<_> = want
                        .range((lo, 0, 0, 0)..=(hi, u32::MAX, u32::MAX, u16::MAX))
                        .map(|&(_, t, f, d)| (t, f, d))
                        .collect();
                    got.sort_unstable();
                    n.sort_unstable();
                    assert_eq!(got, n, "{lo:#x}..={hi:#x}");
                    // A reversed range is empty.
                    if lo < hi {
                        assert_eq!(index.lookup_range(Hash(hi), Hash(lo)).count(), 0);
                    }
                }
            }
            assert!(
                !dir.path().join("runs").exists(),
                "spilled runs are removed"
            );
        }
    }

    #[test]
    fn hash_spread_counts_collisions_by_posting_and_by_track() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("spread.earmark");
        let mut b = in_memory_builder(dir.path());
        let key = |hash: u32, frame: u32| Keyed {
            hash: Hash(hash),
            frame,
            detail: Detail(0),
        };
        // Hash 1 holds three postings of two tracks; hashes 2, 3 and 4 one each.
        b.add_track(entry("a.mp3", 100), &[key(1, 0), key(2, 1), key(3, 2)], &[])
            .unwrap();
        b.add_track(entry("b.mp3", 100), &[key(1, 0), key(1, 5), key(4, 9)], &[])
            .unwrap();
        b.finish(&path).unwrap();
        let index = Index::open(&path).unwrap();
        let [s, coarse] = index.hash_spreads([0, 1], 2);
        assert_eq!((s.hashes, s.postings, s.postings_sq), (4, 6.0, 12.0));
        assert_eq!((s.pairs, s.pairs_sq), (5.0, 7.0));
        assert_eq!(s.postings_per_hash_seen(), 2.0);
        assert!((s.effective_bits() - 12.5f64.log2()).abs() < 1e-9);
        // Only hash 1 has more than 2 postings: 9 of the 12.
        assert_eq!(s.common_cost_share(), 0.75);
        // Without their lowest bit, hashes 2 and 3 are one key (of one track).
        assert_eq!(coarse.hash_bits, s.hash_bits - 1);
        assert_eq!((coarse.hashes, coarse.postings_sq), (3, 14.0));
        assert_eq!((coarse.pairs, coarse.pairs_sq), (4.0, 6.0));
    }

    #[test]
    fn crowded_buckets_are_bisected_correctly() {
        // 600 postings whose hashes share their top bits land in one bucket, past the linear scan.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crowded.earmark");
        let mut b = in_memory_builder(dir.path());
        let keyed: Vec<Keyed> = (0..600u32)
            .map(|i| Keyed {
                hash: Hash(0x1FF_0000 | (i % 300)),
                frame: i,
                detail: Detail(0),
            })
            .collect();
        b.add_track(entry("a.mp3", 1000), &keyed, &[]).unwrap();
        b.finish(&path).unwrap();
        let index = Index::open(&path).unwrap();
        // Written without peaks: format 4, but matched by hashes alone.
        assert_eq!(index.segments()[0].header().version, format::VERSION);
        assert!(!index.has_peaks() && index.track_peaks(TrackId(0)).is_empty());
        for h in [0u32, 1, 150, 299] {
            let frames: Vec<u32> = index
                .lookup(Hash(0x1FF_0000 | h))
                .map(|p| p.frame)
                .collect();
            assert_eq!(frames, vec![h, h + 300]);
        }
        assert_eq!(index.lookup(Hash(0x1FF_0000 | 300)).count(), 0);
    }

    #[test]
    fn adding_tracks_keeps_the_old_ones_without_refingerprinting() {
        let dir = tempfile::tempdir().unwrap();
        let first = [("a.mp3", 400), ("b.mp3", 300)];
        let path = build(1 << 30, dir.path(), &first);
        let base = Index::open(&path).unwrap();
        let mut b = IndexBuilder::new(
            FingerprintParams::default(),
            1 << 30,
            dir.path().join("runs"),
        )
        .unwrap()
        .with_base(&base)
        .unwrap();
        b.add_track(entry("c.mp3", 5000), &hashes(2, 200), &peaks(2, 50))
            .unwrap();
        b.add_track(entry("no-peaks.mp3", 5000), &hashes(3, 10), &[])
            .unwrap();
        let out = dir.path().join("u.earmark");
        b.finish(&out).unwrap();
        let merged = Index::open(&out).unwrap();
        merged.verify().unwrap();
        let all: BTreeSet<_> = merged
            .all_postings()
            .map(|(h, p)| (h.0, p.track.0, p.frame, p.detail.0))
            .collect();
        assert_eq!(
            all,
            expected(&[
                ("a.mp3", 400),
                ("b.mp3", 300),
                ("c.mp3", 200),
                ("no-peaks.mp3", 10)
            ])
        );
        assert_eq!(merged.track(TrackId(2)).unwrap().id, "c.mp3");
        // Every track keeps its own peaks, sorted by frame; the old ones are copied over.
        assert!(merged.has_peaks());
        for (t, want) in [stored(0, 100), stored(1, 75), stored(2, 50), Vec::new()]
            .iter()
            .enumerate()
        {
            let got: Vec<PeakCode> = merged.track_peaks(TrackId(t as u32)).iter().collect();
            assert_eq!(&got, want, "track {t}");
        }
        let c = merged.track_peaks(TrackId(2));
        let at = c.first_at(450);
        assert!(at == c.len() || c.get(at).frame() >= 450);
        assert!(at == 0 || c.get(at - 1).frame() < 450);
        assert!(merged.track_peaks(TrackId(9)).is_empty());
    }

    /// Adds `tracks` (numbered on from `seed`) to the index at `path` as a new segment.
    fn append(path: &std::path::Path, seed: u32, tracks: &[(&str, u32)]) {
        let base = Index::open(path).unwrap();
        let mut b = in_memory_builder(path.parent().unwrap());
        for (i, (name, n)) in tracks.iter().enumerate() {
            let i = seed + i as u32;
            b.add_track(entry(name, 5000), &hashes(i, *n), &peaks(i, n / 4))
                .unwrap();
        }
        b.finish_segment(path, &base).unwrap();
    }

    /// The postings of a hash, of its triplet and of a range across buckets: those of one hash
    /// in the order they come, those of a range sorted (a segmented index gives them segment by
    /// segment, not hash by hash).
    fn lookups<D: AsRef<[u8]>>(index: &Index<D>, hashes: &[u32]) -> Vec<(u64, Vec<Posting>)> {
        let mut out = Vec::new();
        for &h in hashes {
            for (lo, hi) in [(h, h), (h & !63, h | 63), (h & !0xFF_FFFF, h | 0xFF_FFFF)] {
                let p = index.lookup_range(Hash(lo), Hash(hi));
                let mut got = (p.remaining(), p.collect::<Vec<_>>());
                if lo != hi {
                    got.1.sort_unstable();
                }
                out.push(got);
            }
        }
        out
    }

    /// Tracks appended as segments are found as if the index had been built whole: the same
    /// postings under the same track ids, with their peaks; and compacting
    /// the segments gives the index that building it whole gives.
    #[test]
    fn appended_segments_answer_as_the_index_built_whole() {
        let all = [
            ("a.mp3", 3000),
            ("b.mp3", 300),
            ("c.mp3", 2000),
            ("d.mp3", 10),
            ("e.mp3", 700),
        ];
        let dir = tempfile::tempdir().unwrap();
        let whole = build(1 << 30, dir.path(), &all);
        let seg_dir = tempfile::tempdir().unwrap();
        let path = build(1 << 30, seg_dir.path(), &all[..2]);
        append(&path, 2, &all[2..4]);
        append(&path, 4, &all[4..]);
        let (whole, segmented) = (Index::open(&whole).unwrap(), Index::open(&path).unwrap());
        segmented.verify().unwrap();
        assert_eq!(segmented.segments().len(), 3);
        assert_eq!(segmented.segments()[2].first_track(), TrackId(4));
        assert_eq!(
            (segmented.tracks(), segmented.postings()),
            (5, whole.postings())
        );
        assert!(segmented.all_postings().eq(whole.all_postings()));
        let probes: Vec<u32> = whole.all_postings().step_by(53).map(|(h, _)| h.0).collect();
        assert_eq!(lookups(&segmented, &probes), lookups(&whole, &probes));
        for t in 0..6 {
            let t = TrackId(t);
            assert_eq!(segmented.track(t), whole.track(t));
            assert!(
                segmented
                    .track_peaks(t)
                    .iter()
                    .eq(whole.track_peaks(t).iter())
            );
        }
        // Compacted, the segments become the index built whole, byte for byte.
        let compacted = dir.path().join("compacted.earmark");
        in_memory_builder(dir.path())
            .with_base(&segmented)
            .unwrap()
            .finish(&compacted)
            .unwrap();
        assert_eq!(
            std::fs::read(&compacted).unwrap(),
            std::fs::read(whole.path()).unwrap()
        );
    }

    /// An append killed before its segment table was complete leaves the index as it was; the
    /// next append writes over the unfinished tail.
    #[test]
    fn an_unfinished_append_is_passed_over_and_then_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = build(1 << 30, dir.path(), &[("a.mp3", 400)]);
        append(&path, 1, &[("b.mp3", 300)]);
        let before = std::fs::read(&path).unwrap();
        // A third segment, written whole, then its table cut short.
        append(&path, 2, &[("c.mp3", 200)]);
        let mut cut = std::fs::read(&path).unwrap();
        cut.truncate(cut.len() - 20);
        std::fs::write(&path, &cut).unwrap();
        let index = Index::open(&path).unwrap();
        assert_eq!((index.tracks(), index.size()), (2, before.len() as u64));
        assert_eq!(index.unfinished_bytes(), (cut.len() - before.len()) as u64);
        index.verify().unwrap();
        assert!(
            index
                .all_postings()
                .eq(Index::from_bytes(before.clone(), &path)
                    .unwrap()
                    .all_postings())
        );
        drop(index);
        append(&path, 2, &[("c.mp3", 200)]);
        let index = Index::open(&path).unwrap();
        assert_eq!((index.tracks(), index.unfinished_bytes()), (3, 0));
        index.verify().unwrap();
        // Cut inside the second segment: the first alone remains.
        let first = Index::open(&path).unwrap().segments()[1].section().offset as usize;
        let index = Index::from_bytes(before[..first + 100].to_vec(), &path).unwrap();
        assert_eq!((index.tracks(), index.segments().len()), (1, 1));
    }

    /// A damaged segment table is refused, not taken for an unfinished append.
    #[test]
    fn a_damaged_segment_table_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = build(1 << 30, dir.path(), &[("a.mp3", 400)]);
        append(&path, 1, &[("b.mp3", 300)]);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 40;
        bytes[at] ^= 1;
        assert!(matches!(
            Index::from_bytes(bytes, &path),
            Err(crate::Error::IndexCorrupt { .. })
        ));
    }

    #[test]
    fn damage_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = build(1 << 30, dir.path(), &[("a.mp3", 2000)]);
        let bytes = std::fs::read(&path).unwrap();
        // A flipped bit in the postings: opens (cheap), but verify fails.
        let mut flipped = bytes.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x10;
        let index = Index::from_bytes(flipped, &path).unwrap();
        assert!(matches!(
            index.verify(),
            Err(crate::Error::ChecksumMismatch { .. })
        ));
        // A flipped bit in the peaks section.
        let mut flipped = bytes.clone();
        let peaks = Index::open(&path).unwrap().segments()[0].header().peak_list;
        flipped[(peaks.offset + peaks.len) as usize - 3] ^= 0x10;
        let index = Index::from_bytes(flipped, &path).unwrap();
        assert!(matches!(
            index.verify(),
            Err(crate::Error::ChecksumMismatch {
                section: "peaks",
                ..
            })
        ));
        // Truncated: refused at open.
        assert!(Index::from_bytes(bytes[..bytes.len() - 100].to_vec(), &path).is_err());
        assert!(Index::from_bytes(Vec::new(), &path).is_err());
        assert!(matches!(
            Index::from_bytes(b"ID3\x04garbage".to_vec(), &path),
            Err(crate::Error::NotAnIndex { .. })
        ));
    }

    #[test]
    fn a_second_writer_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.earmark");
        let lock = BuildLock::acquire(&path).unwrap();
        assert!(BuildLock::acquire(&path).is_err());
        drop(lock);
        BuildLock::acquire(&path).unwrap();
    }

    /// Every byte of an index of fixed content, pinned to the format version that writes it:
    /// a change to any section (header, tracks, strings, postings, directory, peaks, footer)
    /// fails here until `format::VERSION` is bumped and the new version's checksum added.
    /// (`fingerprint::hash`'s test pins how landmarks become hashes the same way.)
    #[test]
    fn the_layout_is_pinned_to_its_version() {
        // Per version: the checksum of the one-segment file, then of that file with a second
        // segment appended (the segment table's layout).
        const PINNED: &[(u32, u32, u32)] = &[(5, 0x6ab1_c29b, 0x0c61_f58e)];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pinned.earmark");
        let mut b = in_memory_builder(dir.path());
        for (i, (name, n)) in [("a.mp3", 3000), ("dir/b.flac", 500), ("c.ogg", 10)]
            .into_iter()
            .enumerate()
        {
            b.add_track(
                entry(name, 4000 + n),
                &hashes(i as u32, n),
                &peaks(i as u32, n / 4),
            )
            .unwrap();
        }
        b.finish(&path).unwrap();
        let crc = crc32fast::hash(&std::fs::read(&path).unwrap());
        append(&path, 3, &[("e.mp3", 700)]);
        let segmented = crc32fast::hash(&std::fs::read(&path).unwrap());
        let pinned = PINNED.iter().find(|(v, ..)| *v == format::VERSION);
        assert_eq!(
            pinned.map(|p| (p.1, p.2)),
            Some((crc, segmented)),
            "the index layout changed (checksums {crc:#010x}, {segmented:#010x}): bump \
             index::format::VERSION, keep the old version readable or refused by name, and pin \
             the new version's checksums"
        );
    }
}
