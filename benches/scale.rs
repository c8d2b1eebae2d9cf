//! Index scale on synthetic postings: build time, size, peak memory, and the latency of looking
//! up and matching a 10 s query, at growing index sizes.
//!
//! `EARMARK_SCALE=1e7,1e8 cargo bench --bench scale` (sizes in postings; default 1e6, which is
//! also what `cargo test --all-targets` runs once). `EARMARK_SCALE_MEMORY_MB` caps the build's
//! in-memory run (default 2048), so large sizes exercise spilling. Synthetic hashes are uniform
//! over the 25-bit space; real ones are skewed, so real buckets are fuller than these.
//! The five real catalogue tracks are added, so queries (the shipped dump's clips) find matches.

use std::path::Path;
use std::time::Instant;

use earmark::audio;
use earmark::config::{FingerprintParams, Limits, QueryParams};
use earmark::fingerprint::{Density, Detail, Hash, HashLayout, Keyed, Landmark, fingerprint};
use earmark::index::{Index, IndexBuilder, TrackEntry};
use earmark::matcher::Matcher;

/// Postings per synthetic track: about four minutes at the default density.
const PER_TRACK: u64 = 10_000;

/// xorshift64*: fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Peak resident memory since the last reset, in MB (Linux).
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn real_tracks(params: &FingerprintParams) -> Vec<(TrackEntry, Vec<Keyed>)> {
    let layout = HashLayout::new(params);
    [
        "wesnoth/battle.ogg",
        "wesnoth/deep-path.ogg",
        "wesnoth/siege.ogg",
        "ufoai/psymong.mp3",
        "ufoai/basrah.mp3",
    ]
    .iter()
    .map(|name| {
        let bytes = std::fs::read(Path::new("testdata/catalogue").join(name)).unwrap();
        let (samples, _) =
            audio::decode_to_vec(&bytes, None, params.sample_rate, &Limits::default()).unwrap();
        let keyed = fingerprint(&samples, params, Density::index(params))
            .iter()
            .map(|m| layout.keyed(m))
            .collect();
        let entry = TrackEntry {
            id: (*name).into(),
            external_id: String::new(),
            frames: (samples.len() / params.hop as usize) as u32,
        };
        (entry, keyed)
    })
    .collect()
}

fn queries(params: &FingerprintParams, q: &QueryParams) -> Vec<Vec<Landmark>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("testdata/dump").unwrap().flatten() {
        let path = entry.path();
        if path.is_file()
            && let Ok((samples, _)) = audio::decode_to_vec(
                &std::fs::read(&path).unwrap(),
                None,
                params.sample_rate,
                &Limits::default(),
            )
        {
            out.push(fingerprint(&samples, params, Density::query(q)));
        }
    }
    out
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let sizes: Vec<u64> = std::env::var("EARMARK_SCALE")
        .unwrap_or_else(|_| "1e6".into())
        .split(',')
        .map(|s| s.trim().parse::<f64>().expect("sizes like 1e7,1e8") as u64)
        .collect();
    let memory_mb: u64 = std::env::var("EARMARK_SCALE_MEMORY_MB")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(2048);
    let params = FingerprintParams::default();
    let query = QueryParams::default();
    let real = real_tracks(&params);
    let clips = queries(&params, &query);
    println!(
        "postings | tracks | build s | peak RSS MB | spilled runs | file MB | bytes/posting | lookup+match p50 ms | p99 ms"
    );
    for &n in &sizes {
        let dir = tempfile::tempdir_in(
            std::env::var("EARMARK_SCALE_DIR")
                .unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
        )
        .unwrap();
        let path = dir.path().join("scale.earmark");
        reset_peak_rss();
        let started = Instant::now();
        let mut builder =
            IndexBuilder::new(params, memory_mb << 20, dir.path().join("runs")).unwrap();
        for (entry, keyed) in &real {
            builder.add_track(entry.clone(), keyed).unwrap();
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n);
        let tracks = n.div_ceil(PER_TRACK);
        let mut keyed = Vec::with_capacity(PER_TRACK as usize);
        for t in 0..tracks {
            keyed.clear();
            for _ in 0..PER_TRACK.min(n - t * PER_TRACK) {
                let r = rng.next();
                keyed.push(Keyed {
                    hash: Hash((r >> 39) as u32),
                    frame: (r % 15_000) as u32,
                    detail: Detail((r >> 16) as u16),
                });
            }
            let entry = TrackEntry {
                id: format!("synthetic/{t:08}"),
                external_id: String::new(),
                frames: 15_000,
            };
            builder.add_track(entry, &keyed).unwrap();
        }
        let stats = builder.finish(&path).unwrap();
        let build = started.elapsed().as_secs_f64();
        let peak = peak_rss_mb();
        let index = Index::open(&path).unwrap();
        let rounds = if quick { 1 } else { 20 };
        let mut latencies = Vec::new();
        for _ in 0..rounds {
            for clip in &clips {
                let t = Instant::now();
                let mut m = Matcher::new(&index, query);
                m.add(clip.iter().copied());
                std::hint::black_box(m.finish());
                latencies.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        latencies.sort_by(f64::total_cmp);
        let pct = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
        println!(
            "{} | {} | {build:.1} | {peak:.0} | {} | {:.1} | {:.2} | {:.2} | {:.2}",
            stats.postings,
            stats.tracks,
            stats.runs,
            stats.bytes as f64 / 1e6,
            stats.bytes as f64 / stats.postings as f64,
            pct(0.5),
            pct(0.99)
        );
    }
}
