//! Every output says what produced it, every item has a record, and a catalogue's metadata
//! file travels into the index and every match.

use std::io::{Read, Seek, SeekFrom};

use crate::common::*;

#[test]
fn the_first_record_names_the_earmark_index_options_and_inputs() {
    let index = catalogue_index();
    let clip = testdata("dump/not-in-catalogue.mp3");
    let out = run(&[
        "scan",
        clip.to_str().unwrap(),
        "--index",
        index.to_str().unwrap(),
        "--profile",
        "fast",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = all_json_lines(&text);
    assert_eq!(lines.len(), 3, "{text}");
    let p = &lines[0]["provenance"];
    assert_eq!(p["earmark"], env!("CARGO_PKG_VERSION"));
    if let Ok(git) = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        && git.status.success()
    {
        let head = String::from_utf8_lossy(&git.stdout).trim().to_string();
        assert!(p["commit"].as_str().unwrap().starts_with(&head), "{p}");
    }
    // The checksum is BLAKE3 over the header and footer (one segment, no table), which hold
    // every section's CRC.
    let mut f = std::fs::File::open(index).unwrap();
    let (mut head, mut foot) = (vec![0u8; 256], vec![0u8; 32]);
    f.read_exact(&mut head).unwrap();
    f.seek(SeekFrom::End(-32)).unwrap();
    f.read_exact(&mut foot).unwrap();
    let mut h = blake3::Hasher::new();
    h.update(&head);
    h.update(&foot);
    let i = &p["index"];
    assert_eq!(i["checksum"], format!("blake3:{}", h.finalize().to_hex()));
    assert_eq!(
        (i["tracks"].as_u64(), i["segments"].as_u64()),
        (Some(5), Some(1))
    );
    assert_eq!(i["bytes"], std::fs::metadata(index).unwrap().len());
    assert_eq!(i["params"]["sample_rate_hz"], "8000");
    assert_eq!(p["options"]["--profile"], "fast");
    assert_eq!(p["options"]["fine_peaks_per_second"], 0.0);
    assert_eq!(p["inputs"], serde_json::json!([clip.to_str().unwrap()]));
    // Started before it finished, both UTC to the millisecond.
    let started = p["started"].as_str().unwrap();
    let finished = lines[2]["summary"]["finished"].as_str().unwrap();
    assert!(started.ends_with('Z') && started.len() == 24, "{started}");
    assert!(started <= finished, "{started} {finished}");

    // The item with nothing found has its record, with its size and content hash.
    let clean = &lines[1];
    let bytes = std::fs::read(&clip).unwrap();
    assert_eq!(clean["clean"], true);
    assert!(clean["seconds"].as_f64().unwrap() > 14.0, "{clean}");
    assert_eq!(clean["bytes"], bytes.len());
    assert_eq!(clean["blake3"], blake3::hash(&bytes).to_hex().as_str());
}

#[test]
fn a_metadata_file_for_ids_travels_into_every_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("meta.earmark");
    let out = run(&[
        "index",
        testdata("catalogue").to_str().unwrap(),
        "-o",
        path.to_str().unwrap(),
        "--ids",
        testdata("catalogue-metadata.csv").to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "scan",
        testdata("dump/medley.mp3").to_str().unwrap(),
        "--index",
        path.to_str().unwrap(),
    ]);
    let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
    let battle = lines
        .iter()
        .find(|l| l["track"] == "wesnoth/battle.ogg")
        .expect("the medley opens with the battle music");
    assert_eq!(battle["external_id"], "XX-EAR-26-00001");
    let c = &battle["catalogue"];
    assert_eq!(c["title"], "Battle Music");
    assert_eq!(c["artist"], "Aleksi Aubry-Carlson");
    assert_eq!(c["licence"], "GPL-2+");
    let info =
        String::from_utf8(run(&["info", path.to_str().unwrap(), "--tracks"]).stdout).unwrap();
    assert!(
        info.contains("wesnoth/battle.ogg  [XX-EAR-26-00001]  Aleksi Aubry-Carlson – Battle Music"),
        "{info}"
    );
}
