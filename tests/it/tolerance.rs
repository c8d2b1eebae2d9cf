//! Files whose structure is off though their audio is intact (testdata/tolerant, built by
//! scripts/make-tolerance-fixtures.sh): earmark reads them as ffmpeg does.

use crate::common::*;

#[test]
fn odd_riff_lengths_junk_and_misplaced_tags_still_give_the_recording() {
    let dir = testdata("tolerant");
    let out = run(&[
        "scan",
        dir.to_str().unwrap(),
        "--index",
        catalogue_index().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".md"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 9);
    let lines = json_lines(&stdout);
    for name in &names {
        let records: Vec<_> = lines
            .iter()
            .filter(|l| l["item"].as_str().unwrap().ends_with(name.as_str()))
            .collect();
        assert_eq!(records.len(), 1, "{name}: {records:?}");
        let m = records[0];
        assert_eq!(m["track"], "wesnoth/siege.ogg", "{name}: {m}");
        // Seconds 5-10 of the track: the item's start is the track's fifth second.
        let offset = m["track_start"].as_f64().unwrap() - m["item_start"].as_f64().unwrap();
        assert!((offset - 5.0).abs() < 0.1, "{name}: {m}");
        assert!(
            m["item_end"].as_f64().unwrap() > 4.0,
            "{name}: all of it is read: {m}"
        );
        assert!(m.get("error").is_none());
    }
    assert_eq!(summary(&stdout)["failed"], serde_json::json!({}));
}
