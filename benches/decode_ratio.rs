//! The whole pipeline's cost relative to decoding alone, measured interleaved: decode, then
//! identify, 60 times, so both see the same machine state. On a noisy machine this ratio is
//! steadier than two separate criterion runs. The content hash that every item record carries
//! (BLAKE3 of the item's bytes) is timed in the same rounds, as a share of the pipeline.
//! `cargo bench --bench decode_ratio`.

mod common;

use std::time::Instant;

use common::{CLIP, catalogue_index, decode_only, identify};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo test --all-targets` runs benches once as a smoke test: keep that quick.
    let rounds = if std::env::args().any(|a| a == "--bench") {
        60
    } else {
        2
    };
    let bytes = std::fs::read(CLIP).unwrap();
    // Today's format, so the pipeline includes the peak check.
    let dir = tempfile::tempdir().unwrap();
    let index = catalogue_index(dir.path());
    let (mut decode, mut pipeline, mut hash) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        std::hint::black_box(blake3::hash(std::hint::black_box(&bytes)));
        hash.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(decode_only(&bytes));
        decode.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let found = identify(&index, &bytes);
        pipeline.push(t.elapsed().as_secs_f64());
        assert_eq!(found, 1);
    }
    let (d, p, h) = (median(decode), median(pipeline), median(hash));
    println!(
        "decode alone {:.2} ms ({:.0}x real time), whole pipeline {:.2} ms ({:.0}x), ratio {:.2}",
        d * 1e3,
        10.0 / d,
        p * 1e3,
        10.0 / p,
        p / d
    );
    println!(
        "content hash (BLAKE3 of the {} bytes) {:.3} ms, {:.2} % of the pipeline",
        bytes.len(),
        h * 1e3,
        100.0 * h / p
    );
}
