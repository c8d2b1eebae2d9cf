//! A dump of a few hundred items, a third of them broken in different ways, scanned on all
//! cores: every good item's match is reported, every broken item gets its record, nothing
//! panics, and the exit code says the scan completed with errors.

use std::fs;
use std::path::Path;

use crate::common::*;

/// Deterministic pseudo-random bytes.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn a_dump_with_a_third_broken_items_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump");
    fs::create_dir(&dump).unwrap();
    let good = [
        ("clip-mp3.mp3", "wesnoth/battle.ogg"),
        ("clip-opus.opus", "ufoai/basrah.mp3"),
        ("clip-vorbis.ogg", "wesnoth/siege.ogg"),
        ("clip-aac.m4a", "ufoai/psymong.mp3"),
        ("clip-flac.flac", "ufoai/basrah.mp3"),
    ];
    let mut expected_good = Vec::new();
    let mut expected_broken = Vec::new();
    for i in 0..210u64 {
        let (src, track) = good[i as usize % good.len()];
        let bytes = fs::read(testdata(&format!("dump/{src}"))).unwrap();
        let ext = Path::new(src).extension().unwrap().to_str().unwrap();
        let name = format!("{i:04}.{ext}");
        let path = dump.join(&name);
        match i % 3 {
            0 | 1 => {
                fs::write(&path, &bytes).unwrap();
                expected_good.push((path, track));
            }
            _ => {
                // Seven kinds of damage, in turn.
                let broken: Vec<u8> = match (i / 3) % 7 {
                    0 => Vec::new(),
                    1 => bytes[..bytes.len().min(200)].to_vec(),
                    2 => noise(i, 20_000),
                    3 => {
                        let mut b = bytes.clone();
                        let mid = b.len() / 3;
                        let tail = noise(i, b.len() - mid);
                        b[mid..].copy_from_slice(&tail);
                        b
                    }
                    4 => b"<html><body>404 Not Found</body></html>".to_vec(),
                    5 => {
                        // Valid container start, then a header that lies about its size.
                        let mut b = b"RIFF\xff\xff\xff\x7fWAVEfmt ".to_vec();
                        b.extend_from_slice(&noise(i, 64));
                        b
                    }
                    _ => bytes.iter().step_by(2).copied().collect(),
                };
                fs::write(&path, broken).unwrap();
                expected_broken.push(path);
            }
        }
    }
    let index = catalogue_index();
    let out = run(&[
        "scan",
        dump.to_str().unwrap(),
        "--index",
        index.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
    for (path, track) in &expected_good {
        let item = path.to_str().unwrap();
        let found: Vec<_> = lines.iter().filter(|l| l["item"] == item).collect();
        assert_eq!(found.len(), 1, "{item}: {found:?}");
        assert_eq!(found[0]["track"], *track, "{item}");
    }
    for path in &expected_broken {
        let item = path.to_str().unwrap();
        let records: Vec<_> = lines.iter().filter(|l| l["item"] == item).collect();
        // A broken item gets an error record (one whose start survived may also be matched),
        // or one saying it was too short to fingerprint.
        assert!(!records.is_empty(), "{item} vanished from the output");
        assert!(
            records
                .iter()
                .any(|l| l.get("error").is_some() || l["skipped"] == "too_short"),
            "{item}: no error record in {records:?}"
        );
    }
    // Every file is counted once in the summary: scanned, failed or skipped.
    let s = summary(&String::from_utf8_lossy(&out.stdout));
    let sum = |v: &serde_json::Value| -> u64 {
        v.as_object()
            .unwrap()
            .values()
            .map(|n| n.as_u64().unwrap())
            .sum()
    };
    assert_eq!(
        s["items"].as_u64().unwrap() + sum(&s["failed"]) + sum(&s["skipped"]),
        210,
        "{s}"
    );
}
