//! Index scale on synthetic postings: build time, size, peak memory, and the latency of looking
//! up and matching a 10 s query, at growing index sizes.
//!
//! `EARMARK_SCALE=1e7,1e8 cargo bench --bench scale` (sizes in postings; default 1e6, which is
//! also what `cargo test --all-targets` runs once). `EARMARK_SCALE_MEMORY_MB` caps the build's
//! in-memory run (default 2048), so large sizes exercise spilling. Synthetic postings come from
//! random landmarks (features uniform over their ranges) keyed like real ones, so hashes and
//! details agree as in a real index; real hashes are skewed, so real buckets are fuller.
//! Warm latencies come from `EARMARK_SCALE_ROUNDS` (default 20) passes over the 15 clips.
//! `EARMARK_SCALE_COLD=N` also times N queries each starting with the index evicted from the
//! page cache (as when it is far larger than memory), without and with the kernel's
//! read-ahead. `EARMARK_SCALE_TUNE` sets tuning settings (below).
//! The five real catalogue tracks are added, so queries (the shipped dump's clips) find matches.
//! `EARMARK_SCALE_KEEP=<dir>` keeps each index as `<dir>/scale-<postings>.earmark`, so that a
//! real catalogue can be added to it (`earmark index --append`) and ground truth scored against
//! it (`earmark eval`): recall and false answers among a large catalogue's chance postings.
//! `EARMARK_SCALE_REAL=0` leaves the five shipped tracks out (that catalogue holds them whole).
//! `EARMARK_SCALE_PER_TRACK` sets the postings of each synthetic four-minute track (default
//! 10,000, as real music at the default density): fewer spread the same postings over more
//! tracks, as a larger catalogue would spread a query's chance hits.
//!
//! Uniform features make every hash equally likely, which real music does not: with
//! `EARMARK_SCALE_SOURCE=<an index of real music>` the synthetic postings instead draw their
//! hash and detail from that index's distinct (hash, track) pairs (with random tracks and
//! frames), so buckets fill as a catalogue of such music would fill them.

use std::path::Path;
use std::time::Instant;

use earmark::audio;
use earmark::codec::{Hash, Keyed, PeakCode};
use earmark::fingerprint::{Density, HashLayout, Landmark, fingerprint};
use earmark::index::catalogue::fingerprint_track;
use earmark::index::{Index, IndexBuilder, TrackEntry};
use earmark::matcher::Matcher;
use earmark::{FingerprintParams, Limits, QueryParams};
use memmap2::Advice;

/// Postings per synthetic track: about four minutes at the default density.
const PER_TRACK: u64 = 10_000;
/// Frames of a synthetic track (16 ms each): four minutes.
const TRACK_FRAMES: u32 = 15_000;

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

/// A landmark with every feature uniform over its range.
fn synthetic_landmark(rng: &mut Rng, p: &FingerprintParams) -> Landmark {
    let mut unit = || (rng.next() >> 11) as f32 / (1u64 << 53) as f32;
    let octaves = (p.max_freq_hz / p.min_freq_hz).log2();
    Landmark {
        frame: (unit() * TRACK_FRAMES as f32) as u32,
        anchor: unit() * 12.0 * octaves,
        interval_b: (unit() * 2.0 - 1.0) * p.zone_semitones,
        interval_c: (unit() * 2.0 - 1.0) * p.zone_semitones,
        ratio: unit(),
        span: 2.0 + unit() * (p.zone_frames as f32 - 2.0),
        fourths: [(unit() * 2.0 - 1.0) * p.zone_semitones, 0.0, 0.0, 0.0],
        fourth_count: 1,
        dense: false,
        fine: false,
    }
}

/// The distinct (hash, track) pairs of a real index, as keys to draw synthetic postings from.
fn empirical_keys(path: &Path) -> Vec<Keyed> {
    let index = Index::open(path).unwrap();
    index
        .params()
        .ensure_same(&FingerprintParams::default())
        .expect("EARMARK_SCALE_SOURCE must be built with the default fingerprint parameters");
    let bits = HashLayout::new(index.params()).total_bits();
    let mut keys = Vec::new();
    let mut seen = Vec::new();
    for h in 0..(1u32 << bits) {
        seen.clear();
        for p in index.lookup(Hash(h)) {
            if !seen.contains(&p.track) {
                seen.push(p.track);
                keys.push(Keyed {
                    hash: Hash(h),
                    frame: 0,
                    detail: p.detail,
                });
            }
        }
    }
    keys
}

fn real_tracks(params: &FingerprintParams) -> Vec<(TrackEntry, Vec<Keyed>, Vec<PeakCode>)> {
    [
        "wesnoth/battle.ogg",
        "wesnoth/deep-path.ogg",
        "wesnoth/siege.ogg",
        "ufoai/psymong.mp3",
        "ufoai/basrah.mp3",
    ]
    .iter()
    .map(|name| {
        let path = Path::new("testdata/catalogue").join(name);
        let bytes = std::fs::read(&path).unwrap();
        let ext = path.extension().and_then(|e| e.to_str());
        let track = fingerprint_track(bytes, ext, params, &Limits::default()).unwrap();
        let entry = TrackEntry {
            id: (*name).into(),
            external_id: String::new(),
            frames: track.frames,
            source: track.source,
        };
        (entry, track.hashes, track.peaks)
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

fn time_query(index: &Index, q: &QueryParams, clip: &[Landmark]) -> f64 {
    let t = Instant::now();
    let mut m = Matcher::new(index, *q);
    m.add(clip.iter().copied());
    std::hint::black_box(m.finish());
    t.elapsed().as_secs_f64() * 1e3
}

fn percentile(latencies: &[f64], p: f64) -> f64 {
    let mut l = latencies.to_vec();
    l.sort_by(f64::total_cmp);
    l[((l.len() - 1) as f64 * p).round() as usize]
}

fn cold_p50(latencies: Vec<f64>) -> String {
    if latencies.is_empty() {
        "-".into()
    } else {
        format!("{:.1}", percentile(&latencies, 0.5))
    }
}

/// Drops the file's pages from the page cache (it must not be mapped at the time).
fn evict(path: &Path) {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path).unwrap();
    // SAFETY: advice on an open descriptor; no memory is touched.
    let rc = unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_DONTNEED) };
    assert_eq!(rc, 0, "posix_fadvise");
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
    // EARMARK_SCALE_TUNE="key=value,key=value;key=value" times the query with tuning
    // settings (as `earmark scan --tune` takes them: `earmark scan --help-tuning`); each
    // ';'-separated set is timed on the same build, a row each.
    let specs: Vec<(String, QueryParams)> = match std::env::var("EARMARK_SCALE_TUNE") {
        Ok(list) => list
            .split(';')
            .map(|spec| {
                let mut q = QueryParams::default();
                for setting in spec.split(',').filter(|s| !s.trim().is_empty()) {
                    let (key, value) = setting.split_once('=').expect("key=value");
                    q.set(key.trim(), value.trim().parse().expect("a number"))
                        .unwrap();
                }
                (spec.trim().to_string(), q)
            })
            .collect(),
        Err(_) => vec![("default".into(), QueryParams::default())],
    };
    let layout = HashLayout::new(&params);
    let source = std::env::var("EARMARK_SCALE_SOURCE")
        .ok()
        .filter(|p| !p.is_empty())
        .map(|p| empirical_keys(Path::new(&p)));
    let real = if std::env::var("EARMARK_SCALE_REAL").is_ok_and(|v| v == "0") {
        Vec::new()
    } else {
        real_tracks(&params)
    };
    let clip_sets: Vec<_> = specs.iter().map(|(_, q)| queries(&params, q)).collect();
    let warm_rounds: usize = std::env::var("EARMARK_SCALE_ROUNDS")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(20);
    let per_track: u64 = std::env::var("EARMARK_SCALE_PER_TRACK")
        .ok()
        .and_then(|m| m.parse().ok())
        .filter(|&m| m > 0)
        .unwrap_or(PER_TRACK);
    let cold_queries: usize = std::env::var("EARMARK_SCALE_COLD")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    println!(
        "query | postings | tracks | build s | peak RSS MB | spilled runs | file MB | bytes/posting | \
         warm p50 ms | warm p99 ms | cold p50 | cold p50, read-ahead"
    );
    for &n in &sizes {
        let dir = tempfile::tempdir_in(
            std::env::var("EARMARK_SCALE_DIR")
                .unwrap_or_else(|_| std::env::temp_dir().display().to_string()),
        )
        .unwrap();
        let path = match std::env::var("EARMARK_SCALE_KEEP") {
            Ok(keep) => Path::new(&keep).join(format!("scale-{n}.earmark")),
            Err(_) => dir.path().join("scale.earmark"),
        };
        reset_peak_rss();
        let started = Instant::now();
        let mut builder =
            IndexBuilder::new(params, memory_mb << 20, dir.path().join("runs")).unwrap();
        for (entry, keyed, peaks) in &real {
            builder.add_track(entry.clone(), keyed, peaks).unwrap();
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n);
        let tracks = n.div_ceil(per_track);
        let mut keyed = Vec::with_capacity(per_track as usize);
        for t in 0..tracks {
            keyed.clear();
            for _ in 0..per_track.min(n - t * per_track) {
                keyed.push(match &source {
                    Some(keys) => Keyed {
                        frame: (rng.next() % u64::from(TRACK_FRAMES)) as u32,
                        ..keys[(rng.next() % keys.len() as u64) as usize]
                    },
                    None => layout.keyed(&synthetic_landmark(&mut rng, &params)),
                });
            }
            let entry = TrackEntry {
                id: format!("synthetic/{t:08}"),
                external_id: String::new(),
                frames: TRACK_FRAMES,
                source: 0,
            };
            // Synthetic tracks have no audio, so no peaks: they are matched by hashes alone.
            builder.add_track(entry, &keyed, &[]).unwrap();
        }
        let stats = builder.finish(&path).unwrap();
        let build = started.elapsed().as_secs_f64();
        let peak = peak_rss_mb();
        let rounds = if quick { 1 } else { warm_rounds };
        for ((name, query), clips) in specs.iter().zip(&clip_sets) {
            let index = Index::open(&path).unwrap();
            let mut warm = Vec::new();
            for _ in 0..rounds {
                for clip in clips {
                    warm.push(time_query(&index, query, clip));
                }
            }
            drop(index);
            // Cold: each query starts with none of the index in the page cache, as when the index
            // is far larger than memory.
            let cold = |q: &QueryParams, advice: Advice| {
                let mut latencies = Vec::new();
                for clip in clips.iter().cycle().take(cold_queries) {
                    evict(&path);
                    let index = Index::open(&path).unwrap();
                    index.advise_postings(advice).unwrap();
                    latencies.push(time_query(&index, q, clip));
                }
                latencies
            };
            println!(
                "{name} | {} | {} | {build:.1} | {peak:.0} | {} | {:.1} | {:.2} | {:.2} | {:.2} | {} | {}",
                stats.postings,
                stats.tracks,
                stats.runs,
                stats.bytes as f64 / 1e6,
                stats.bytes as f64 / stats.postings as f64,
                percentile(&warm, 0.5),
                percentile(&warm, 0.99),
                cold_p50(cold(query, Advice::Random)),
                cold_p50(cold(query, Advice::Normal)),
            );
        }
    }
}
