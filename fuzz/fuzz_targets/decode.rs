//! Bytes → the scanner's pipeline for one item: probe, decode, resample, fingerprint and match
//! against the shipped test index (`scan::identify`).
//!
//! The scanner catches a panic inside an item (`scan::process_item`) and reports it; this
//! target does the same for panics raised in dependencies (symphonia, the Opus decoder), logging
//! each new location once, so that the fuzzer keeps going and only earmark's own panics, hangs
//! and huge allocations stop it. Set `EARMARK_FUZZ_STRICT=1` to stop on every panic.
#![no_main]

use std::io::Cursor;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Mutex, Once, OnceLock};

use earmark::index::Index;
use earmark::{Limits, QueryParams};
use libfuzzer_sys::fuzz_target;

static INDEX: &[u8] = include_bytes!("../../testdata/index-v3.earmark");

/// Whether a panic at `file` is a dependency's (caught in production) rather than earmark's.
fn in_dependency(file: &str) -> bool {
    file.contains("/.cargo/registry/") || file.contains("vendor/") || file.starts_with("/rustc/")
}

fn install_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        if std::env::var_os("EARMARK_FUZZ_STRICT").is_some() {
            return; // libfuzzer-sys's hook: every panic aborts.
        }
        let seen = Mutex::new(std::collections::HashSet::new());
        std::panic::set_hook(Box::new(move |info| {
            let (file, line) = info.location().map_or(("?", 0), |l| (l.file(), l.line()));
            if in_dependency(file) {
                if seen.lock().unwrap().insert(format!("{file}:{line}")) {
                    eprintln!("dependency panic (caught by the scanner): {info}");
                }
                return;
            }
            eprintln!("earmark panic: {info}");
            std::process::abort();
        }));
    });
}

fuzz_target!(|data: &[u8]| {
    install_hook();
    static OPEN: OnceLock<Index<&'static [u8]>> = OnceLock::new();
    let index =
        OPEN.get_or_init(|| Index::from_bytes(INDEX, Path::new("index-v3.earmark")).unwrap());
    let limits = Limits {
        max_audio_seconds: 120.0,
        ..Limits::default()
    };
    let _ = catch_unwind(AssertUnwindSafe(|| {
        earmark::scan::identify(
            index,
            Box::new(Cursor::new(data)),
            None,
            &QueryParams::default(),
            &limits,
        )
    }));
});
