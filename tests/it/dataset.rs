//! Manifests joined onto the records, one test per real layout (testdata/manifests/), and
//! `earmark manifest-check`.

use std::fs;
use std::path::Path;

use crate::common::*;

fn scan(args: &[&str]) -> (std::process::Output, String) {
    let mut all = vec!["scan", "--index", catalogue_index().to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run(&all);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (out, text)
}

fn by_member<'a>(lines: &'a [serde_json::Value], member: &str) -> &'a serde_json::Value {
    lines
        .iter()
        .find(|l| l["member"] == member || l["item"].as_str().is_some_and(|i| i.ends_with(member)))
        .unwrap_or_else(|| panic!("no record of {member}: {lines:#?}"))
}

/// A tar of catalogue clips under the given member names.
fn tar_of(path: &Path, members: &[(&str, &str)]) {
    let mut tar = tar::Builder::new(fs::File::create(path).unwrap());
    for (name, source) in members {
        tar.append_path_with_name(testdata(source), name).unwrap();
    }
    tar.finish().unwrap();
}

#[test]
fn fma_tracks_csv_names_the_zips_members_by_their_padded_ids() {
    let manifest = testdata("manifests/fma/tracks.csv");
    let (out, text) = scan(&[
        testdata("dump/fma-000.zip").to_str().unwrap(),
        "--manifest",
        manifest.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&text);
    let battle = by_member(&lines, "000/000123.mp3");
    assert_eq!(battle["track"], "wesnoth/battle.ogg");
    let d = &battle["dataset"];
    assert_eq!(
        (&d["id"], &d["title"], &d["artist"], &d["album"]),
        (
            &"123".into(),
            &"Battle Music".into(),
            &"Aleksi Aubry-Carlson".into(),
            &"The Battle for Wesnoth".into()
        ),
        "{d}"
    );
    assert_eq!(d["track.license"], "GPL-2+");
    // The bio of two lines with a comma and a quote survived the CSV.
    assert!(
        d["artist.bio"].as_str().unwrap().contains("two lines,"),
        "{d}"
    );
    // A member with nothing found still carries its dataset entry: "not found" is provable.
    let mountain = by_member(&lines, "000/000789.mp3");
    assert_eq!(mountain["clean"], true);
    assert_eq!(mountain["dataset"]["title"], "hr-domina-mountain");
    let s = summary(&text);
    assert_eq!(
        s["dataset"],
        serde_json::json!({"joined": 3, "not_in_manifest": 0})
    );
}

#[test]
fn mtg_jamendo_tsv_joins_by_track_id_and_keeps_its_tags() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("jamendo.tar");
    tar_of(
        &dump,
        &[
            ("48/948.mp3", "dump/clip-mp3.mp3"),
            ("99/999.mp3", "dump/not-in-catalogue.mp3"),
        ],
    );
    let manifest = testdata("manifests/mtg-jamendo/raw_30s_cleantags.tsv");
    let (_, text) = scan(&[
        dump.to_str().unwrap(),
        "--manifest",
        manifest.to_str().unwrap(),
    ]);
    let lines = json_lines(&text);
    let d = &by_member(&lines, "48/948.mp3")["dataset"];
    assert_eq!(d["id"], "track_0000948", "{d}");
    assert_eq!(d["artist"], "artist_000087");
    assert_eq!(d["PATH"], "48/948.mp3");
    assert_eq!(
        d["TAGS"],
        serde_json::json!([
            "genre---soundtrack",
            "instrument---orchestra",
            "mood/theme---epic"
        ])
    );
    // No CR left on the last column by the CRLF lines.
    assert!(!d.to_string().contains("\\r"), "{d}");
    assert!(by_member(&lines, "99/999.mp3").get("dataset").is_none());
    let s = summary(&text);
    assert_eq!(
        s["dataset"],
        serde_json::json!({"joined": 1, "not_in_manifest": 1})
    );
}

#[test]
fn laion_disco_parquet_and_sleeping_disco_jsonl_join_downloads_named_by_video_id() {
    let dir = tempfile::tempdir().unwrap();
    for (name, source) in [
        ("UfoBasrah05.m4a", "dump/clip-opus.opus"),
        ("Wes-nothBa1.webm", "dump/clip-opus.webm"),
        ("ufoaiPsym05.mp3", "dump/clip-vorbis.mkv"),
    ] {
        fs::copy(testdata(source), dir.path().join(name)).unwrap();
    }
    let laion = testdata("manifests/laion-disco/train-00000-of-00001.parquet");
    let sleeping = testdata("manifests/sleeping-disco/a.jsonl");
    let (out, text) = scan(&[
        dir.path().to_str().unwrap(),
        "--manifest",
        laion.to_str().unwrap(),
        "--manifest",
        sleeping.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&text);
    let basrah = by_member(&lines, "UfoBasrah05.m4a");
    assert_eq!(basrah["track"], "ufoai/basrah.mp3");
    let d = &basrah["dataset"];
    assert_eq!(d["id"], "UfoBasrah05");
    assert_eq!(d["title"], "alBasrahM");
    assert_eq!(d["artist"], "Independent.nu, Golgotha");
    assert_eq!(d["views"], "1.2K");
    assert_eq!(d["duration"], 30);
    let battle = &by_member(&lines, "Wes-nothBa1.webm")["dataset"];
    assert_eq!(battle["artist"], "Aleksi Aubry-Carlson", "{battle}");
    assert_eq!(battle["id"], 5012345);
    // An entry with two videos knows both.
    let psymong = &by_member(&lines, "ufoaiPsym05.mp3")["dataset"];
    assert_eq!(psymong["title"], "PsymongO4", "{psymong}");
    let prov = &all_json_lines(&text)[0]["provenance"]["manifests"];
    assert_eq!(prov[0]["layout"], "laion-disco");
    assert_eq!(prov[1]["layout"], "sleeping-disco");
    assert_eq!(prov[1]["entries"], 3);
}

#[test]
fn a_pattern_finds_the_key_inside_a_name() {
    let dir = tempfile::tempdir().unwrap();
    fs::copy(
        testdata("dump/clip-opus.opus"),
        dir.path().join("alBasrahM [UfoBasrah05].opus"),
    )
    .unwrap();
    let laion = testdata("manifests/laion-disco/train-00000-of-00001.parquet");
    let (_, text) = scan(&[
        dir.path().to_str().unwrap(),
        "--manifest",
        laion.to_str().unwrap(),
        "--manifest-key",
        r"\[([\w-]{11})\]",
    ]);
    let lines = json_lines(&text);
    assert_eq!(lines[0]["dataset"]["id"], "UfoBasrah05", "{lines:?}");
}

#[test]
fn manifest_check_lists_entries_without_audio_and_audio_without_entries() {
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("fma.tar");
    tar_of(
        &dump,
        &[
            ("000/000123.mp3", "dump/clip-mp3.mp3"),
            ("000/000456.mp3", "dump/clip-noisy.mp3"),
            ("000/000789.mp3", "dump/not-in-catalogue.mp3"),
            ("001/001000.mp3", "dump/medley.mp3"),
        ],
    );
    let out = run(&[
        "manifest-check",
        testdata("manifests/fma/tracks.csv").to_str().unwrap(),
        dump.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines = all_json_lines(&text);
    let missing: Vec<_> = lines.iter().filter_map(|l| l.get("missing")).collect();
    assert_eq!(missing.len(), 1);
    assert_eq!(missing[0]["title"], "Food");
    let unmatched: Vec<_> = lines.iter().filter_map(|l| l.get("unmatched")).collect();
    assert_eq!(unmatched.len(), 1);
    assert_eq!(unmatched[0]["member"], "001/001000.mp3");
    assert_eq!(unmatched[0]["key"], "001000");
    let last = &lines.last().unwrap()["manifest_check"];
    assert_eq!(
        (&last["entries"], &last["with_audio"], &last["items"]),
        (&4.into(), &3.into(), &4.into())
    );
}
