//! The peak check's chance model against unrelated music: random alignments of music that is
//! not in the catalogue reach evidence t at most 10^-t of the time if the bound holds.
//!
//! `cargo bench --bench calibration` runs it on the shipped catalogue (a not-in-catalogue clip
//! and noise); `EARMARK_CORPUS=<dir> cargo bench --bench calibration` on a corpus built by
//! scripts/bench-corpus.sh (its catalogue and every query of music not in it), 20 alignments
//! an item and track, as BENCHMARKS.md reports it.

use std::path::{Path, PathBuf};

use earmark::index::Index;
use earmark::matcher::verify::null_evidence;
use earmark::{FingerprintParams, Limits};

#[allow(dead_code)]
mod common;

fn decode(path: &Path) -> Option<Vec<f32>> {
    let bytes = std::fs::read(path).ok()?;
    let ext = path.extension().and_then(|e| e.to_str());
    let rate = FingerprintParams::default().sample_rate;
    earmark::audio::decode_to_vec(&bytes, ext, rate, &Limits::default())
        .ok()
        .map(|(samples, _)| samples)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let (index, items, per) = match std::env::var("EARMARK_CORPUS") {
        Ok(corpus) => {
            let corpus = PathBuf::from(corpus);
            let index = Index::open(&corpus.join("catalogue.earmark")).unwrap();
            let truth = std::fs::read_to_string(corpus.join("truth.tsv")).unwrap();
            // The queries of music not in the catalogue, each degradation.
            let items: Vec<Vec<f32>> = truth
                .lines()
                .skip(1)
                .filter_map(|line| {
                    let fields: Vec<&str> = line.split('\t').collect();
                    fields[1]
                        .is_empty()
                        .then(|| decode(&corpus.join(fields[0])))
                        .flatten()
                })
                .collect();
            (index, items, 20)
        }
        Err(_) => {
            let index = common::catalogue_index(dir.path());
            let song = decode(Path::new("testdata/dump/not-in-catalogue.mp3")).unwrap();
            (index, vec![song], 400)
        }
    };
    let evidence = null_evidence(&index, &items, per);
    let n = evidence.len();
    let max = evidence.iter().copied().fold(0.0, f64::max);
    println!(
        "{n} alignments of {} items, highest evidence {max:.2}",
        items.len()
    );
    println!("evidence t | reached | share | bound 10^-t");
    for t in 1..=8 {
        let reached = evidence.iter().filter(|&&e| e >= f64::from(t)).count();
        println!(
            "{t} | {reached} | {:.1e} | {:.0e}",
            reached as f64 / n.max(1) as f64,
            10f64.powi(-t)
        );
    }
}
