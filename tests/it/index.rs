use crate::common::*;

#[test]
fn info_and_verify_describe_a_sound_index() {
    let index = catalogue_index();
    let info = run(&["info", index.to_str().unwrap(), "--tracks"]);
    assert!(info.status.success());
    let text = String::from_utf8(info.stdout).unwrap();
    assert!(text.contains("tracks       5"), "{text}");
    assert!(text.contains("param        sample_rate_hz = 8000"));
    assert!(text.contains("wesnoth/battle.ogg  [XX-EAR-26-00001]"));
    let verify = run(&["verify", index.to_str().unwrap()]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn a_damaged_index_is_refused_or_fails_verification() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(catalogue_index()).unwrap();
    let flipped = dir.path().join("flipped.earmark");
    let mut b = bytes.clone();
    let mid = b.len() / 2;
    b[mid] ^= 0xff;
    std::fs::write(&flipped, &b).unwrap();
    let out = run(&["verify", flipped.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"));
    let cut = dir.path().join("cut.earmark");
    std::fs::write(&cut, &bytes[..bytes.len() - 7]).unwrap();
    let out = run(&["info", cut.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("damaged"));
}

#[test]
fn appending_adds_tracks_without_fingerprinting_the_old_ones_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.earmark");
    let p = path.to_str().unwrap();
    let wesnoth = testdata("catalogue/wesnoth");
    let ufoai = testdata("catalogue/ufoai");
    assert!(
        run(&["index", wesnoth.to_str().unwrap(), "-o", p])
            .status
            .success()
    );
    let out = run_ok(&[
        "index",
        ufoai.to_str().unwrap(),
        wesnoth.to_str().unwrap(),
        "-o",
        p,
        "--append",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("indexed 2 tracks") && stderr.contains("3 already indexed"),
        "{stderr}"
    );
    let info = String::from_utf8(run(&["info", p]).stdout).unwrap();
    assert!(info.contains("tracks       5"));
    // The new tracks are a segment of their own: the old one was not rewritten.
    assert!(info.contains("segments     2"), "{info}");
    // The grown index finds tracks from both runs.
    let q = run(&[
        "query",
        testdata("dump/medley.mp3").to_str().unwrap(),
        "--index",
        p,
    ]);
    let text = String::from_utf8(q.stdout).unwrap();
    assert!(
        text.contains("battle.ogg") && text.contains("basrah.mp3"),
        "{text}"
    );
}

/// Every match record of a scan of the shipped dump, sorted (workers finish in any order).
fn dump_matches(index: &str) -> Vec<String> {
    let out = run(&[
        "scan",
        testdata("dump").to_str().unwrap(),
        "--index",
        index,
        "--format",
        "jsonl",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<String> = json_lines(&String::from_utf8_lossy(&out.stdout))
        .iter()
        .filter(|r| r.get("track").is_some())
        .map(|r| r.to_string())
        .collect();
    lines.sort();
    lines
}

#[test]
fn an_appended_segment_scans_as_the_compacted_index_and_survives_an_unfinished_append() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.earmark");
    let p = path.to_str().unwrap();
    let index = |inputs: &[&str], extra: &[&str]| {
        let mut args = vec!["index"];
        args.extend_from_slice(inputs);
        args.extend_from_slice(&["-o", p]);
        args.extend_from_slice(extra);
        let out = run_ok(&args);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let ufoai = testdata("catalogue/ufoai");
    let wesnoth = testdata("catalogue/wesnoth");
    index(&[ufoai.to_str().unwrap()], &[]);
    let first = std::fs::read(&path).unwrap();
    let said = index(&[wesnoth.to_str().unwrap()], &["--append"]);
    assert!(said.contains("holds 2 segments"), "{said}");
    let segmented = dump_matches(p);
    assert!(segmented.len() >= 10, "{segmented:?}");
    // The first segment's bytes are as they were.
    let mut bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes[..first.len()], first[..]);
    // An append killed before its segment table was complete: the tail is passed over.
    let whole_len = bytes.len();
    bytes.extend_from_within(..4096);
    std::fs::write(&path, &bytes).unwrap();
    let info = String::from_utf8(run(&["info", p]).stdout).unwrap();
    assert!(info.contains("unfinished   4096 bytes"), "{info}");
    assert_eq!(dump_matches(p), segmented);
    // Compacted: one segment, the same answers, and the tail gone.
    let said = index(&[], &["--compact"]);
    assert!(said.contains("merged 2 segments into one"), "{said}");
    let info = String::from_utf8(run(&["info", p]).stdout).unwrap();
    assert!(
        !info.contains("segments") && !info.contains("unfinished"),
        "{info}"
    );
    assert!(std::fs::metadata(&path).unwrap().len() < whole_len as u64);
    assert!(run(&["verify", p]).status.success());
    assert_eq!(dump_matches(p), segmented);
}

#[test]
fn an_index_of_an_older_format_is_refused_by_name() {
    // Version 2 hashed triplets alone; version 3 adds the fourth peak. Misreading an old index
    // would find nothing, silently: it must be refused with the versions named.
    let out = run(&["verify", testdata("index-v2.earmark").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("index format version 2 is not supported")
            && err.contains("reads versions 3 to 5"),
        "{err}"
    );
}

#[test]
fn the_committed_version_4_index_opens_verifies_and_matches() {
    // testdata/index-v4.earmark: the shipped catalogue as format 4 writes it. The bytes today's
    // builds write are pinned in the unit tests (`index::tests`, `fingerprint::hash::tests`);
    // this holds that what was written then is still read, checked and matched now.
    let fixture = testdata("index-v4.earmark");
    let f = fixture.to_str().unwrap();
    assert!(run(&["verify", f]).status.success());
    let info = String::from_utf8(run(&["info", f, "--tracks"]).stdout).unwrap();
    assert!(info.contains("format       version 4"), "{info}");
    assert!(
        info.contains("wesnoth/battle.ogg  [XX-EAR-26-00001]"),
        "{info}"
    );
    let out = run(&[
        "query",
        testdata("dump/clip-mp3.mp3").to_str().unwrap(),
        "--index",
        f,
        "--format",
        "jsonl",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["track"], "wesnoth/battle.ogg");
    assert!(
        lines[0].get("peak_check").is_some(),
        "format 4 stores peaks: {}",
        lines[0]
    );
    // Its source checks tell a different file of the same id from the one indexed.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("c.earmark");
    std::fs::copy(&fixture, &copy).unwrap();
    let other = dir.path().join("catalogue/wesnoth");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(
        testdata("catalogue/wesnoth/siege.ogg"),
        other.join("battle.ogg"),
    )
    .unwrap();
    let out = run(&[
        "index",
        dir.path().join("catalogue").to_str().unwrap(),
        "-o",
        copy.to_str().unwrap(),
        "--append",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("of another recording"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn postings_packed_narrow_answer_as_the_committed_64_bit_ones() {
    // Format 5 packs each posting in the bits its fields need; format 4 spent 64 on every
    // one. The same catalogue built today must answer the dump exactly as the fixture does.
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("c.earmark");
    run_ok(&[
        "index",
        "--ids",
        testdata("catalogue-ids.tsv").to_str().unwrap(),
        testdata("catalogue").to_str().unwrap(),
        "-o",
        fresh.to_str().unwrap(),
    ]);
    let info = String::from_utf8(run(&["info", fresh.to_str().unwrap()]).stdout).unwrap();
    let width: u32 = info
        .split("frame bits; ")
        .nth(1)
        .and_then(|rest| rest.split("-bit postings").next())
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("no posting width in {info}"));
    assert!(width < 64, "{info}");
    let fixture = testdata("index-v4.earmark");
    // Both hold the same 3,328 postings: the fresh list is their bits and its padding.
    let saved =
        std::fs::metadata(&fixture).unwrap().len() - std::fs::metadata(&fresh).unwrap().len();
    assert_eq!(
        saved,
        3328 * 8 - (3328 * u64::from(width)).div_ceil(8) - earmark::codec::PACKED_PADDING,
        "{info}"
    );
    let old = dump_matches(fixture.to_str().unwrap());
    assert!(!old.is_empty());
    assert_eq!(dump_matches(fresh.to_str().unwrap()), old);
}

#[test]
fn a_format_4_index_takes_a_packed_segment_and_compacts_to_format_5() {
    // Upgrading needs no rebuild: an append to a format-4 index writes a format-5 segment
    // beside its 64-bit one, and the two answer as their compaction does.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.earmark");
    let p = path.to_str().unwrap();
    std::fs::copy(testdata("index-v4.earmark"), &path).unwrap();
    let extra = dir.path().join("extra");
    std::fs::create_dir(&extra).unwrap();
    std::fs::copy(testdata("dump/not-in-catalogue.mp3"), extra.join("new.mp3")).unwrap();
    run_ok(&["index", extra.to_str().unwrap(), "-o", p, "--append"]);
    run_ok(&["verify", p]);
    let info = String::from_utf8(run(&["info", p]).stdout).unwrap();
    assert!(info.contains("segment 0: 31 hash bits"), "{info}");
    let widths: Vec<&str> = info
        .lines()
        .filter(|l| l.starts_with("layout"))
        .filter_map(|l| l.split("frame bits; ").nth(1))
        .collect();
    assert_eq!(widths.len(), 2, "{info}");
    assert_eq!(widths[0], "64-bit postings", "{info}");
    assert_ne!(widths[1], "64-bit postings", "{info}");
    let segmented = dump_matches(p);
    assert!(
        segmented.iter().any(|m| m.contains("not-in-catalogue.mp3")),
        "the appended recording is found: {segmented:?}"
    );
    run_ok(&["index", "-o", p, "--compact"]);
    let info = String::from_utf8(run(&["info", p]).stdout).unwrap();
    assert!(info.contains("format       version 5"), "{info}");
    assert!(!info.contains("segments"), "{info}");
    assert_eq!(dump_matches(p), segmented);
}

#[test]
fn the_committed_version_3_index_still_opens_verifies_and_matches() {
    // testdata/index-v3.earmark was written by format version 3, with the first zone peak
    // after C as the fourth peak (today's builds keep the strongest), so queries must rank
    // their candidates by the index's rule. If this fails after a change to the layout or to
    // how hashes are derived, bump index::format::VERSION (and keep this fixture, now expected
    // to be refused).
    let fixture = testdata("index-v3.earmark");
    let f = fixture.to_str().unwrap();
    assert!(run(&["verify", f]).status.success());
    let info = String::from_utf8(run(&["info", f]).stdout).unwrap();
    assert!(info.contains("fourth_peak = first"), "{info}");
    assert!(
        info.contains("differ from this earmark's defaults: fourth_peak (default strongest)"),
        "{info}"
    );
    let out = run(&[
        "query",
        testdata("dump/clip-mp3.mp3").to_str().unwrap(),
        "--index",
        f,
        "--format",
        "jsonl",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["track"], "wesnoth/battle.ogg");
    assert!(
        (lines[0]["track_start"].as_f64().unwrap()
            - lines[0]["item_start"].as_f64().unwrap()
            - 3.0)
            .abs()
            < 0.5
    );
}

#[test]
fn info_measures_how_evenly_hashes_spread() {
    let out = run(&["info", catalogue_index().to_str().unwrap(), "--hashes"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("fourth_peak = strongest"), "{text}");
    assert!(
        text.contains("params       this earmark's defaults"),
        "{text}"
    );
    let line = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no {key} line in {text}"))
            .to_string()
    };
    // The number that follows `marker` in `line`.
    let number_after = |line: &str, marker: &str| -> f64 {
        line.split(marker)
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no number after {marker:?} in {line}"))
    };
    // Real music repeats hashes: more sharing than uniform hashes, fewer usable bits than 31.
    let hashes = line("hashes");
    assert!(number_after(&hashes, "with ") > 1.0, "{hashes}");
    let spread = line("spread");
    let bits = number_after(&spread, "2^");
    assert!(bits > 8.0 && bits < 31.0, "{spread}");
    // The fourth peak tells apart postings that share a triplet.
    let triplets = line("triplets");
    let triplet_bits = number_after(&triplets, "2^");
    assert!(
        triplet_bits > 8.0 && triplet_bits < bits,
        "{triplets} / {spread}"
    );
    assert!(line("common").contains("skipped by queries"));
}
