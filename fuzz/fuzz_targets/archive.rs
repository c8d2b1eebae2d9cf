//! Bytes as an archive (tar, tar.gz or zip, sniffed by content) through the scanner's member
//! reading (`scan::source::walk_archive`), with a 1 MiB item limit so that a member allowed
//! through is small and a large allocation means a bug.
#![no_main]

use std::io::Cursor;

use earmark::Limits;
use earmark::scan::ItemData;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_item_bytes: 1 << 20,
        ..Limits::default()
    };
    let mut items = 0usize;
    earmark::scan::source::walk_archive(Cursor::new(data), "fuzz.bin", &limits, &mut |item| {
        if let ItemData::Bytes(b) = &item.data {
            assert!(b.len() as u64 <= limits.max_item_bytes);
        }
        items += 1;
        true
    });
});
