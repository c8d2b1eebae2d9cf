//! Bytes → `Index::from_bytes`, then what a scan and `earmark verify` do with an open index:
//! verify, read the track table and the tracks' peaks, look hashes up, list every posting, and
//! match a real clip's landmarks, checking candidates against the stored peaks.
//!
//! Checksums would stop the fuzzer at the door, so the target rewrites them: the header CRC
//! always, and the footer's section CRCs and the header's peaks CRC once the header parses,
//! opening the index a second time. Every check behind the checksums is thus reachable.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use earmark::codec::Hash;
use earmark::fingerprint::{Density, Fingerprinter, Landmark, Peak};
use earmark::index::format::{FOOTER_LEN, HEADER_LEN};
use earmark::index::{Index, TrackId};
use earmark::matcher::Matcher;
use earmark::{FingerprintParams, Limits, QueryParams};
use libfuzzer_sys::fuzz_target;

static CLIP: &[u8] = include_bytes!("../../testdata/dump/clip-vorbis.ogg");

/// The clip's first 4 s as a query: landmarks and peaks.
fn query() -> &'static (Vec<Landmark>, Vec<Peak>) {
    static Q: OnceLock<(Vec<Landmark>, Vec<Peak>)> = OnceLock::new();
    Q.get_or_init(|| {
        let params = FingerprintParams::default();
        let (samples, _) =
            earmark::audio::decode_to_vec(CLIP, None, params.sample_rate, &Limits::default())
                .unwrap();
        let query = QueryParams::default();
        let mut f = Fingerprinter::new(&params, Density::query(&query)).keeping_peaks();
        f.push(&samples[..samples.len().min(4 * 8000)]);
        let (landmarks, peaks, _) = f.finish_with_peaks();
        (landmarks, peaks)
    })
}

fn exercise(index: &Index<&[u8]>) {
    let _ = index.verify();
    for t in 0..index.tracks().min(256) {
        let _ = index.track(TrackId(t));
    }
    let _ = index.track(TrackId(index.tracks()));
    for t in 0..=index.tracks().min(256) {
        let peaks = index.track_peaks(TrackId(t));
        let _ = peaks.first_at(1000);
        let _ = peaks.iter().take(4096).count();
    }
    // Hashes as wide as the index's layout says its hashes are (the header checks that the
    // parameters agree), as the matcher makes them.
    let bits = index.hash_bits();
    let mask = if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    };
    let probes = [0u32, 1, 0x1FF_FFFF, 0xFFFF_FFFF, 0x0123_4567];
    for h in probes {
        let _ = index.lookup(Hash(h & mask)).take(4096).count();
    }
    // Ranges: one triplet's fourth peaks, ranges across buckets, and reversed ones.
    for (a, b) in probes.iter().zip(probes.iter().rev()) {
        let (a, b) = (Hash(a & mask), Hash(b & mask));
        let _ = index.lookup_range(a, b).take(4096).count();
        let _ = index
            .lookup_range(Hash(a.0 & !63), Hash((a.0 | 63) & mask))
            .take(4096)
            .count();
    }
    let _ = index.all_postings().take(1 << 16).count();
    if *index.params() == FingerprintParams::default() {
        let mut m = Matcher::new(index, QueryParams::default());
        let (landmarks, peaks) = query();
        m.add(landmarks.iter().copied());
        m.add_peaks(peaks.iter().copied());
        let _ = m.finish();
    }
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if bytes.len() >= HEADER_LEN {
        let crc = crc32fast::hash(&bytes[..HEADER_LEN - 8]);
        bytes[HEADER_LEN - 8..HEADER_LEN - 4].copy_from_slice(&crc.to_le_bytes());
    }
    let header = match Index::from_bytes(&bytes[..], Path::new("fuzz.earmark")) {
        Ok(index) => {
            exercise(&index);
            index.segments()[0].header().clone()
        }
        Err(_) => return,
    };
    // Again with the first segment's footer checksums rewritten, so `verify` looks past them.
    let footer = header.footer_offset() as usize;
    assert!(footer + FOOTER_LEN <= bytes.len());
    for (i, s) in [
        header.track_table,
        header.strings,
        header.posting_list,
        header.directory,
    ]
    .iter()
    .enumerate()
    {
        let crc = crc32fast::hash(&bytes[s.range()]);
        bytes[footer + 4 * i..footer + 4 * i + 4].copy_from_slice(&crc.to_le_bytes());
    }
    if header.version >= 4 {
        // The peaks' CRC lives in the header (offset 212), under the header's own.
        let crc = crc32fast::hash(&bytes[header.peak_list.range()]);
        bytes[212..216].copy_from_slice(&crc.to_le_bytes());
        let crc = crc32fast::hash(&bytes[..HEADER_LEN - 8]);
        bytes[HEADER_LEN - 8..HEADER_LEN - 4].copy_from_slice(&crc.to_le_bytes());
    }
    if let Ok(index) = Index::from_bytes(&bytes[..], Path::new("fuzz.earmark")) {
        exercise(&index);
    }
});
