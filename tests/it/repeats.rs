//! A catalogue track that plays a passage twice: a query cut from that passage fits both
//! places, and earmark reports one match that names both.

use crate::common::{json_lines, run, testdata};
use earmark::Limits;

const RATE: u32 = 8000;

/// 16-bit mono PCM WAV.
fn wav(samples: &[f32]) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for &s in samples {
        out.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes());
    }
    out
}

fn seconds(samples: &[f32], from: f64, to: f64) -> &[f32] {
    &samples[(from * f64::from(RATE)) as usize..(to * f64::from(RATE)) as usize]
}

#[test]
fn a_passage_the_track_repeats_is_one_match_placed_at_every_repeat() {
    let bytes = std::fs::read(testdata("catalogue/wesnoth/battle.ogg")).unwrap();
    let (music, _) =
        earmark::audio::decode_to_vec(&bytes, Some("ogg"), RATE, &Limits::default()).unwrap();
    // The track: 0–12 s of the recording, then 15–27 s, then 0–12 s again (a loop).
    let looped: Vec<f32> = [(0.0, 12.0), (15.0, 27.0), (0.0, 12.0)]
        .iter()
        .flat_map(|&(a, b)| seconds(&music, a, b).iter().copied())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let catalogue = dir.path().join("catalogue");
    std::fs::create_dir(&catalogue).unwrap();
    std::fs::write(catalogue.join("loop.wav"), wav(&looped)).unwrap();
    // The query: 2–10 s of the recording, which the track holds at 2 s and at 26 s.
    let query = dir.path().join("query.wav");
    std::fs::write(&query, wav(seconds(&music, 2.0, 10.0))).unwrap();
    let index = dir.path().join("loop.earmark");
    let built = run(&[
        "index",
        catalogue.to_str().unwrap(),
        "-o",
        index.to_str().unwrap(),
    ]);
    assert!(built.status.success(), "{built:?}");

    let out = run(&[
        "query",
        query.to_str().unwrap(),
        "--index",
        index.to_str().unwrap(),
        "--format",
        "jsonl",
    ]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines.len(), 1, "one match, not one per repeat: {lines:?}");
    let m = &lines[0];
    // Every place the match gives, moved back to the query's start, must be 2 s or 26 s.
    let item_start = m["item_start"].as_f64().unwrap();
    let mut places: Vec<f64> = std::iter::once(&m["track_start"])
        .chain(m["also_at"].as_array().expect("also_at is listed"))
        .map(|t| t.as_f64().unwrap() - item_start)
        .collect();
    places.sort_by(f64::total_cmp);
    assert_eq!(places.len(), 2, "{m}");
    assert!((places[0] - 2.0).abs() < 0.1, "{m}");
    assert!((places[1] - 26.0).abs() < 0.1, "{m}");
}
