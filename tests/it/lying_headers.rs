//! Inputs that lie: headers claiming gigabytes (a WAV's RIFF and data sizes, an ID3v2 tag's
//! size, MP4 box sizes) in front of a few seconds of real audio. Each file gets its record, an
//! error or a correct partial result, quickly and in bounded memory: the scan runs under a 3 GiB
//! address-space limit, so an allocation of the claimed size would abort it.

use std::fs;
use std::time::{Duration, Instant};

use crate::common::*;

fn patched(src: &str, patch: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut bytes = fs::read(testdata(src)).unwrap();
    patch(&mut bytes);
    bytes
}

fn put_u32_le(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u32_be(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_be_bytes());
}

/// Offset of the first top-level MP4 box of type `kind`.
fn mp4_box(b: &[u8], kind: &[u8; 4]) -> usize {
    let mut at = 0;
    while at + 8 <= b.len() {
        let size = u32::from_be_bytes(b[at..at + 4].try_into().unwrap()) as usize;
        if &b[at + 4..at + 8] == kind {
            return at;
        }
        assert!(size >= 8, "unexpected box layout");
        at += size;
    }
    panic!("no {kind:?} box");
}

/// Offset of the first box of type `kind` anywhere (a plain byte search; fine for fixtures).
fn find(b: &[u8], kind: &[u8; 4]) -> usize {
    b.windows(4).position(|w| w == kind).expect("box present") - 4
}

#[test]
fn headers_claiming_gigabytes_get_records_quickly_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(&str, Vec<u8>)> = vec![
        // RIFF and data sizes of almost 4 GiB over 6 s of PCM.
        (
            "wav-4gb.wav",
            patched("dump/clip-wav.wav", |b| {
                put_u32_le(b, 4, 0xFFFF_FFF0);
                put_u32_le(b, 40, 0xFFFF_FFC8);
            }),
        ),
        // An ID3v2 tag whose (syncsafe) size claims 256 MiB, in front of real MP3 frames.
        (
            "id3-256mb.mp3",
            patched("dump/clip-mp3.mp3", |b| {
                b[6..10].copy_from_slice(&[0x7F; 4]);
            }),
        ),
        // mdat claims almost 4 GiB, swallowing the moov box that follows it.
        (
            "mdat-4gb.m4a",
            patched("dump/clip-aac.m4a", |b| {
                let at = mp4_box(b, b"mdat");
                put_u32_be(b, at, 0xFFFF_FFF0);
            }),
        ),
        // mdat as a 64-bit box claiming 2^62 bytes (size 1, then a largesize).
        (
            "mdat-64bit.m4a",
            patched("dump/clip-aac.m4a", |b| {
                // `free` (8 bytes) right before mdat becomes the start of a 16-byte mdat header.
                let free = mp4_box(b, b"free");
                let mdat = mp4_box(b, b"mdat");
                assert_eq!(free + 8, mdat);
                put_u32_be(b, free, 1);
                b[free + 4..free + 8].copy_from_slice(b"mdat");
                b[free + 8..free + 16].copy_from_slice(&(1u64 << 62).to_be_bytes());
            }),
        ),
        // moov claims 2 GiB at the end of the file.
        (
            "moov-2gb.m4a",
            patched("dump/clip-aac.m4a", |b| {
                let at = mp4_box(b, b"moov");
                put_u32_be(b, at, 0x7FFF_FFFF);
            }),
        ),
        // The sample size table claims a billion entries.
        (
            "stsz-1g.m4a",
            patched("dump/clip-aac.m4a", |b| {
                let at = find(b, b"stsz");
                // [size][stsz][version+flags][sample_size][sample_count]
                put_u32_be(b, at + 16, 1 << 30);
            }),
        ),
        // The chunk offset table claims a billion entries.
        (
            "stco-1g.m4a",
            patched("dump/clip-aac.m4a", |b| {
                let at = find(b, b"stco");
                put_u32_be(b, at + 12, 1 << 30);
            }),
        ),
    ];
    for (name, bytes) in &files {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    let index = catalogue_index();
    let earmark = env!("CARGO_BIN_EXE_earmark");
    let started = Instant::now();
    // 3 GiB of address space: room for threads and the mapped index, far from any claimed size.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -v 3145728 && exec "$0" scan "$1" --index "$2" --jobs 2"#)
        .arg(earmark)
        .arg(dir.path())
        .arg(index)
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "scan failed ({:?}): {stderr}",
        out.status
    );
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
    for (name, _) in &files {
        let path = dir.path().join(name).display().to_string();
        let records: Vec<_> = lines
            .iter()
            .filter(|l| l["item"] == path.as_str())
            .collect();
        assert!(!records.is_empty(), "{name}: no record in {lines:?}");
        for r in &records {
            eprintln!("{name}: {r}");
        }
        // A match is only ever the right one, at the right place.
        let truth = truth();
        let src = if name.ends_with(".wav") {
            "clip-wav.wav"
        } else if name.ends_with(".mp3") {
            "clip-mp3.mp3"
        } else {
            "clip-aac.m4a"
        };
        let expected = truth.iter().find(|t| t.item == src).unwrap();
        let matches: Vec<_> = records
            .iter()
            .filter(|r| r.get("track").is_some())
            .collect();
        if name.ends_with(".wav") {
            // The PCM is all there: the 4 GiB claim only makes the end look early.
            assert_eq!(matches.len(), 1, "{name}: {records:?}");
            assert!(records.iter().any(|r| r["partial"] == true), "{name}");
        }
        for r in matches {
            assert_eq!(r["track"], expected.track.as_str(), "{name}: {r}");
            let offset = r["track_start"].as_f64().unwrap() - r["item_start"].as_f64().unwrap();
            assert!((offset - expected.track_start).abs() <= 0.5, "{name}: {r}");
        }
    }
}
