//! `kill -9` at awkward moments: a killed `earmark index` leaves the previous index intact, and
//! a killed `earmark scan` resumed with `--resume` ends with exactly the lines of an
//! uninterrupted run.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{catalogue_index, earmark, run, testdata};

/// A scan output's item records, sorted, without the provenance record and the summary (whose
/// times differ run to run); the output must hold exactly one provenance record, its first.
fn sorted_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.starts_with("{\"provenance\":"), "{text}");
    assert_eq!(text.matches("{\"provenance\":").count(), 1);
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("{\"summary\":") && !l.starts_with("{\"provenance\":"))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

/// SIGKILL, then reap.
fn kill_9(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn kill_9_during_index_leaves_the_previous_index_intact() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("catalogue.earmark");
    let index = index.to_str().unwrap();
    let catalogue = testdata("catalogue");
    let catalogue = catalogue.to_str().unwrap();
    assert!(
        run(&["index", catalogue, "-o", index, "--force"])
            .status
            .success()
    );
    let before = std::fs::read(index).unwrap();

    // A bigger build over the same path, killed at several moments of its run: while
    // fingerprinting, while spilling runs (a tiny memory limit forces many), while writing.
    let dump = testdata("dump");
    for delay_ms in [50, 250, 600, 1000] {
        let child = earmark()
            .args([
                "index",
                catalogue,
                dump.to_str().unwrap(),
                "-o",
                index,
                "--force",
            ])
            .args(["--memory-mb", "1", "--jobs", "2"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        kill_9(child);
        // The old index, or (had the kill come after the rename) the new one, whole.
        assert!(
            run(&["verify", index]).status.success(),
            "after kill at {delay_ms} ms"
        );
    }
    // The next build runs despite the dead builders' lock and leftovers, and clears them.
    assert!(
        run(&["index", catalogue, "-o", index, "--force"])
            .status
            .success()
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.contains(".tmp-") && !n.contains(".runs-")),
        "leftovers of killed builds remain: {names:?}"
    );
    assert_eq!(
        std::fs::read(index).unwrap(),
        before,
        "builds are reproducible"
    );
}

#[test]
fn kill_9_during_scan_then_resume_loses_and_repeats_nothing() {
    let index = catalogue_index().to_str().unwrap().to_string();
    let dump = testdata("dump").to_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let scan = |out: &Path| {
        let mut c = earmark();
        c.args(["scan", &dump, "--index", &index, "--jobs", "2", "-o"])
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    let full = dir.path().join("full.jsonl");
    assert_eq!(scan(&full).status().unwrap().code(), Some(0));
    let expected = sorted_lines(&full);

    // A worker that hangs on one item holds the scan mid-way, with other items done and the
    // hung one in flight, when the kill comes.
    let cut = dir.path().join("cut.jsonl");
    let journal = dir.path().join("cut.jsonl.journal");
    let child = scan(&cut)
        .env("EARMARK_TEST_FAULT", "hang:medley.mp3")
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::read_to_string(&journal).map_or(0, |j| j.lines().count()) < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the scan made no progress"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    kill_9(child);
    let done_before = sorted_lines(&cut).len();
    assert!(done_before < expected.len(), "the kill came mid-scan");

    let resumed = scan(&cut).arg("--resume").status().unwrap();
    assert_eq!(resumed.code(), Some(0));
    assert_eq!(sorted_lines(&cut), expected);
}

#[test]
fn a_full_disk_stops_the_scan_clearly_and_resume_finishes_it() {
    let index = catalogue_index().to_str().unwrap().to_string();
    let dump = testdata("dump").to_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.jsonl");
    let out = earmark()
        .args(["scan", &dump, "--index", &index, "-o"])
        .arg(&full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));

    // The file-size limit makes writes past 2 KB fail as a full disk would (EFBIG rather than
    // ENOSPC, through the same error path), without needing a small file system.
    let cut = dir.path().join("cut.jsonl");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 4; exec "$@""#)
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_earmark"))
        .args(["scan", &dump, "--index", &index, "--jobs", "1", "-o"])
        .arg(&cut)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--resume"), "{stderr}");
    assert!(sorted_lines(&cut).len() < sorted_lines(&full).len());

    let resumed = earmark()
        .args(["scan", &dump, "--index", &index, "--resume", "-o"])
        .arg(&cut)
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(0));
    assert_eq!(sorted_lines(&cut), sorted_lines(&full));
    // The resumed output's summary counts the whole scan, both runs.
    let last = |p: &Path| {
        let text = std::fs::read_to_string(p).unwrap();
        let mut s = crate::common::summary(&text);
        s.as_object_mut().unwrap().remove("wall_seconds");
        s.as_object_mut().unwrap().remove("finished");
        s
    };
    assert_eq!(last(&cut), last(&full));
}
