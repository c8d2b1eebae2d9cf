//! Worker-process isolation: a decoder that hangs, aborts or eats memory costs its item an
//! error record, and every other item's result is the same as in an undisturbed scan.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{catalogue_index, dump_item, earmark, json_lines, testdata};

/// Output lines per item key (item and member), sorted, so runs with different timing compare.
fn by_item(stdout: &[u8]) -> BTreeMap<String, Vec<String>> {
    let mut items: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in json_lines(&String::from_utf8_lossy(stdout)) {
        let key = format!("{}|{}", line["item"], line["member"]);
        items.entry(key).or_default().push(line.to_string());
    }
    items.values_mut().for_each(|v| v.sort());
    items
}

#[test]
fn hung_aborting_and_memory_hungry_decoders_cost_only_their_item() {
    let index = catalogue_index().to_str().unwrap();
    let dump = testdata("dump");
    let dump = dump.to_str().unwrap();
    let calm = earmark()
        .args(["scan", dump, "--index", index, "--isolation", "thread"])
        .output()
        .unwrap();
    assert_eq!(
        calm.status.code(),
        Some(0),
        "matches found, broken files or not"
    );

    let mut child = earmark()
        .args(["scan", dump, "--index", index, "--jobs", "2"])
        .args(["--item-timeout", "3", "--item-memory-mb", "256", "--strict"])
        .env(
            "EARMARK_TEST_FAULT",
            "hang:clip-mp3.mp3,abort:clip-flac.flac,hog:clip-wav.wav",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A watchdog: if isolation failed, the hung item would hold the scan forever.
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(120) {
            child.kill().unwrap();
            panic!("the scan did not finish: a stuck worker was not stopped");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let stormy = child.wait_with_output().unwrap();
    assert_eq!(stormy.status.code(), Some(3), "--strict: items failed");

    let (calm, stormy) = (by_item(&calm.stdout), by_item(&stormy.stdout));
    let faulty = [
        ("clip-mp3.mp3", "\"kind\":\"timeout\""),
        ("clip-flac.flac", "\"kind\":\"crashed\""),
        ("clip-wav.wav", "\"kind\":\"out_of_memory\""),
    ];
    for (file, message) in faulty {
        let key = format!("\"{}\"|null", dump_item(file));
        assert!(
            calm[&key].iter().all(|l| l.contains("\"track\"")),
            "{file} matches when undisturbed"
        );
        let lines = &stormy[&key];
        assert!(
            lines.len() == 1 && lines[0].contains(message),
            "{file}: {lines:?}"
        );
    }
    assert_eq!(calm.len(), stormy.len(), "every item has its record");
    for (key, lines) in &calm {
        if !faulty.iter().any(|(f, _)| key.contains(f)) {
            assert_eq!(
                lines, &stormy[key],
                "{key} is unaffected by other items' workers"
            );
        }
    }
}
