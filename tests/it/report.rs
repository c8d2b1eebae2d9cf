//! `earmark report` and `earmark explain` on a real scan of the shipped dump: the pages, their
//! plots and the claims CSV hold what the records hold; nothing is fetched from elsewhere;
//! lists are paged; explain gives the scan's records for one item.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::*;

/// The shipped dump scanned once into JSON Lines.
fn scanned(dir: &Path) -> (std::path::PathBuf, Vec<Value>) {
    let records = dir.join("matches.jsonl");
    let out = run(&[
        "scan",
        testdata("dump").to_str().unwrap(),
        "--index",
        catalogue_index().to_str().unwrap(),
        "-o",
        records.to_str().unwrap(),
    ]);
    assert!(out.status.code() == Some(0) || out.status.code() == Some(3));
    let text = std::fs::read_to_string(&records).unwrap();
    (records, json_lines(&text))
}

/// Runs earmark and asserts it exited 0.
fn succeeds(args: &[&str]) -> std::process::Output {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A claim is a track in an item: (item, member, track).
type Key = (String, String, String);

fn key(r: &Value) -> Key {
    let s = |f: &str| r[f].as_str().unwrap_or("").to_string();
    (s("item"), s("member"), s("track"))
}

/// Landmark pairs per claim, as the records carry them.
fn pairs_by_claim(records: &[Value]) -> BTreeMap<Key, usize> {
    let mut pairs = BTreeMap::new();
    for r in records.iter().filter(|r| r.get("track").is_some()) {
        let n = r["alignment"]["item_cs"].as_array().map_or(0, Vec::len);
        assert!(n > 0, "a match record without its pairs: {r}");
        *pairs.entry(key(r)).or_default() += n;
    }
    pairs
}

/// A claims CSV's header, and its rows by column name.
fn claims_csv(path: &Path) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header = csv_row(lines.next().unwrap());
    let rows = lines
        .map(|l| header.iter().cloned().zip(csv_row(l)).collect())
        .collect();
    (header, rows)
}

/// Splits one CSV row (fields quoted where they hold a comma or a quote).
fn csv_row(line: &str) -> Vec<String> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn html_attr(section: &str, name: &str) -> String {
    let start = section.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
    let end = start + section[start..].find('"').unwrap();
    section[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn the_site_draws_every_claim_with_its_pairs_and_fetches_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (records, items) = scanned(dir.path());
    let expected = pairs_by_claim(&items);
    assert!(expected.len() > 10, "the dump holds many claims");
    let site = dir.path().join("site");
    succeeds(&[
        "report",
        records.to_str().unwrap(),
        "--index",
        catalogue_index().to_str().unwrap(),
        "-o",
        site.to_str().unwrap(),
    ]);
    let mut drawn = BTreeMap::new();
    let mut pages = 0;
    for entry in std::fs::read_dir(&site).unwrap() {
        let path = entry.unwrap().path();
        let html = std::fs::read_to_string(&path).unwrap();
        pages += 1;
        assert!(html.starts_with("<!DOCTYPE html>"), "{}", path.display());
        for outside in [
            "<script",
            "<link",
            "src=\"http",
            "href=\"http",
            "@import",
            "url(",
        ] {
            assert!(
                !html.contains(outside),
                "{} holds {outside}",
                path.display()
            );
        }
        for section in html.split("<section class=\"claim\"").skip(1) {
            let section = &section[..section.find("</section>").unwrap()];
            let claim = (
                html_attr(section, "data-item"),
                html_attr(section, "data-member"),
                html_attr(section, "data-track"),
            );
            let figure = &section[section.find("<figure class=\"alignment\"").unwrap()..];
            let figure = &figure[..figure.find("</figure>").unwrap()];
            let stated: usize = html_attr(figure, "data-points").parse().unwrap();
            assert_eq!(figure.matches("<circle").count(), stated, "{claim:?}");
            assert_eq!(section.matches("<svg").count(), 2, "{claim:?}: two plots");
            assert!(
                section.contains("Evidence"),
                "{claim:?}: its evidence in words"
            );
            assert!(drawn.insert(claim, stated).is_none(), "a claim drawn twice");
        }
    }
    assert_eq!(
        drawn, expected,
        "every claim drawn once, one point per pair"
    );
    let tracks: std::collections::BTreeSet<&str> = expected.keys().map(|k| k.2.as_str()).collect();
    // The overview, the track list, the clean and failed lists, and a page per track.
    assert_eq!(pages, 4 + tracks.len());
    let overview = std::fs::read_to_string(site.join("index.html")).unwrap();
    assert!(
        overview.contains("blake3:"),
        "the index checksum from the provenance record"
    );
    let clean = std::fs::read_to_string(site.join("clean.html")).unwrap();
    for r in items.iter().filter(|r| r["clean"] == true) {
        let name = Path::new(r["item"].as_str().unwrap()).file_name().unwrap();
        assert!(clean.contains(name.to_str().unwrap()), "{r}");
    }
    let failed = std::fs::read_to_string(site.join("failed.html")).unwrap();
    assert!(failed.contains("empty.mp3") && failed.contains("garbage.flac"));
}

#[test]
fn the_claims_csv_has_a_row_per_claim_with_the_records_figures() {
    let dir = tempfile::tempdir().unwrap();
    let (records, items) = scanned(dir.path());
    let claims = dir.path().join("claims.csv");
    succeeds(&[
        "report",
        records.to_str().unwrap(),
        "--claims",
        claims.to_str().unwrap(),
    ]);
    let (header, rows) = claims_csv(&claims);
    assert_eq!(
        header,
        [
            "claim",
            "track",
            "external_id",
            "title",
            "item",
            "member",
            "dataset_id",
            "dataset_title",
            "item_start",
            "item_end",
            "track_start",
            "track_end",
            "matching_seconds",
            "longest_match_seconds",
            "speed",
            "pitch",
            "evidence",
            "blake3"
        ]
    );
    let expected = pairs_by_claim(&items);
    assert_eq!(rows.len(), expected.len());
    let ids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["claim"].as_str()).collect();
    assert_eq!(ids.len(), rows.len(), "claim ids are unique");
    // A claim of one match carries that match's figures.
    let medley = items
        .iter()
        .find(|r| {
            r["item"].as_str().unwrap().ends_with("medley.mp3")
                && r["track"] == "wesnoth/battle.ogg"
        })
        .expect("the medley holds Battle Music");
    let row = rows
        .iter()
        .find(|r| r["item"].ends_with("medley.mp3") && r["track"] == "wesnoth/battle.ogg")
        .unwrap();
    let num = |f: &str| row[f].parse::<f64>().unwrap();
    assert!((num("item_start") - medley["item_start"].as_f64().unwrap()).abs() < 1e-3);
    assert!((num("track_end") - medley["track_end"].as_f64().unwrap()).abs() < 1e-3);
    assert!((num("evidence") - medley["evidence"].as_f64().unwrap()).abs() < 0.01);
    let seconds = medley["item_end"].as_f64().unwrap() - medley["item_start"].as_f64().unwrap();
    assert!((num("matching_seconds") - seconds).abs() < 0.01);
    assert_eq!(row["external_id"], medley["external_id"].as_str().unwrap());
    assert_eq!(row["blake3"], medley["blake3"].as_str().unwrap());
}

#[test]
fn a_track_in_many_items_is_paged() {
    // 60 items holding one track: its claims go onto pages of bounded size.
    let dir = tempfile::tempdir().unwrap();
    let (_, items) = scanned(dir.path());
    let one = items
        .iter()
        .find(|r| r.get("track").is_some() && r.get("member").is_none())
        .unwrap();
    let many = dir.path().join("many.jsonl");
    let lines: Vec<String> = (0..60)
        .map(|n| {
            let mut r = one.clone();
            r["item"] = format!("dump/copy-{n:02}.mp3").into();
            r.to_string()
        })
        .collect();
    std::fs::write(&many, lines.join("\n") + "\n").unwrap();
    let site = dir.path().join("site");
    succeeds(&[
        "report",
        many.to_str().unwrap(),
        "-o",
        site.to_str().unwrap(),
    ]);
    let sections = |name: &str| {
        std::fs::read_to_string(site.join(name))
            .unwrap()
            .matches("<section class=\"claim\"")
            .count()
    };
    assert_eq!(
        [
            sections("track-1.html"),
            sections("track-1-2.html"),
            sections("track-1-3.html")
        ],
        [25, 25, 10]
    );
    assert!(!site.join("track-1-4.html").exists());
}

#[test]
fn a_report_never_writes_over_its_input_or_a_folder_of_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let (records, _) = scanned(dir.path());
    let before = std::fs::read(&records).unwrap();
    let out = run(&[
        "report",
        records.to_str().unwrap(),
        "--claims",
        records.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    // A folder holding files that no report wrote (the records themselves here).
    let out = run(&[
        "report",
        records.to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(std::fs::read(&records).unwrap(), before);
    // An earlier report in the folder is replaced.
    let site = dir.path().join("site");
    for _ in 0..2 {
        succeeds(&[
            "report",
            records.to_str().unwrap(),
            "-o",
            site.to_str().unwrap(),
        ]);
    }
}

#[test]
fn explain_gives_the_scans_records_for_one_item_and_says_why_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let (_, items) = scanned(dir.path());
    let index = catalogue_index().to_str().unwrap();
    let medley = testdata("dump/medley.mp3");
    let out = succeeds(&[
        "explain",
        medley.to_str().unwrap(),
        "--index",
        index,
        "--format",
        "jsonl",
    ]);
    let explained = json_lines(&String::from_utf8_lossy(&out.stdout));
    let scanned: Vec<&Value> = items
        .iter()
        .filter(|r| r["item"].as_str() == medley.to_str())
        .collect();
    assert!(scanned.len() >= 2, "the medley holds several tracks");
    let mut explained: Vec<&Value> = explained.iter().collect();
    let order = |a: &&Value, b: &&Value| key(a).cmp(&key(b));
    explained.sort_by(order);
    let mut scanned = scanned;
    scanned.sort_by(order);
    assert_eq!(explained, scanned);
    // In words, for one track, from an archive member.
    let shard = testdata("dump/shard-000001.tar.gz");
    let member = items
        .iter()
        .find(|r| r["item"].as_str() == shard.to_str() && r.get("track").is_some())
        .unwrap();
    let out = succeeds(&[
        "explain",
        shard.to_str().unwrap(),
        "--member",
        member["member"].as_str().unwrap(),
        "--index",
        index,
        "--track",
        member["track"].as_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("landmark pairs on it"), "{text}");
    assert_eq!(
        text.matches("would match this well less than once in 10^")
            .count(),
        1,
        "one track, one match: {text}"
    );
}

#[test]
fn a_manifests_dataset_id_and_title_reach_the_claims_and_the_track_page() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("fma.jsonl");
    let out = run(&[
        "scan",
        testdata("dump/fma-000.zip").to_str().unwrap(),
        "--index",
        catalogue_index().to_str().unwrap(),
        "--manifest",
        testdata("manifests/fma/tracks.csv").to_str().unwrap(),
        "-o",
        records.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let site = dir.path().join("site");
    let claims = dir.path().join("claims.csv");
    succeeds(&[
        "report",
        records.to_str().unwrap(),
        "-o",
        site.to_str().unwrap(),
        "--claims",
        claims.to_str().unwrap(),
    ]);
    let battle = claims_csv(&claims)
        .1
        .into_iter()
        .find(|r| r["member"] == "000/000123.mp3")
        .expect("the FMA zip's member 123 holds Battle Music");
    assert_eq!(battle["track"], "wesnoth/battle.ogg");
    assert_eq!(
        (
            battle["dataset_id"].as_str(),
            battle["dataset_title"].as_str()
        ),
        ("123", "Battle Music")
    );
    let pages: String = std::fs::read_dir(&site)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .filter(|html| html.contains("data-member=\"000/000123.mp3\""))
        .collect();
    // The track table names the dataset entry: id and title.
    assert!(pages.contains(">123: Battle Music<"), "{pages}");
}
