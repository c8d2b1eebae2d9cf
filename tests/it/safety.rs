//! What earmark does around the matching: it never destroys a file, counts every file it saw,
//! says what went wrong once and plainly, and exits with a code a script can trust.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use crate::common::*;

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn no_output_overwrites_the_index_an_input_or_a_file_earmark_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let index = dir.path().join("cat.earmark");
    fs::copy(catalogue_index(), &index).unwrap();
    let before = fs::read(&index).unwrap();
    let clip = testdata("dump/clip-mp3.mp3");

    // -o naming the index the scan reads.
    let out = run(&[
        "scan",
        arg(&clip),
        "--index",
        arg(&index),
        "-o",
        arg(&index),
    ]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("it is the index it reads"), "{err}");
    assert_eq!(fs::read(&index).unwrap(), before);
    // ... not even with --force.
    let out = run(&[
        "scan",
        arg(&clip),
        "--index",
        arg(&index),
        "-o",
        arg(&index),
        "--force",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(fs::read(&index).unwrap(), before);

    // -o naming an input of the scan.
    let song = dir.path().join("song.m4a");
    fs::copy(testdata("dump/clip-aac.m4a"), &song).unwrap();
    let song_bytes = fs::read(&song).unwrap();
    let out = run(&[
        "scan",
        arg(&song),
        "--index",
        arg(&index),
        "-o",
        arg(&song),
        "--force",
    ]);
    assert!(
        text(&out).1.contains("one of its inputs"),
        "{}",
        text(&out).1
    );
    assert_eq!(fs::read(&song).unwrap(), song_bytes);

    // index -o an audio file: refused, naming what the file is and --force.
    let catalogue = testdata("catalogue/wesnoth");
    let out = run(&["index", arg(&catalogue), "-o", arg(&song)]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("is an MP4/M4A file, which earmark did not write") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(fs::read(&song).unwrap(), song_bytes);
    assert!(!dir.path().join("song.m4a.lock").exists(), "no lock left");

    // index -o an existing index: --append or --force, nothing else.
    let out = run(&["index", arg(&catalogue), "-o", arg(&index)]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--append") && err.contains("--force"), "{err}");
    assert_eq!(fs::read(&index).unwrap(), before);
    let out = run(&["index", arg(&catalogue), "-o", arg(&index), "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    assert_ne!(fs::read(&index).unwrap(), before, "replaced, as asked");
}

#[test]
fn a_scan_with_a_journal_is_continued_or_replaced_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let scan = |extra: &[&str]| {
        let mut a = vec![
            "scan",
            testdata("dump/clip-mp3.mp3")
                .to_str()
                .unwrap()
                .to_owned()
                .leak() as &str,
            "--index",
            catalogue_index().to_str().unwrap(),
            "-o",
            out_path.to_str().unwrap(),
        ];
        a.extend_from_slice(extra);
        run(&a)
    };
    assert_eq!(scan(&[]).status.code(), Some(0));
    let first = fs::read(&out_path).unwrap();
    // Run again as if nothing were there: refused, and both ways out are named.
    let again = scan(&[]);
    let (_, err) = text(&again);
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(
        err.contains("holds an unfinished or earlier scan")
            && err.contains("--resume")
            && err.contains("--force"),
        "{err}"
    );
    assert_eq!(fs::read(&out_path).unwrap(), first);
    assert_eq!(scan(&["--resume"]).status.code(), Some(0));
    assert_eq!(scan(&["--force"]).status.code(), Some(0));
    assert_eq!(json_lines(&fs::read_to_string(&out_path).unwrap()).len(), 1);
    // A file someone else wrote is not replaced without --force.
    let notes = dir.path().join("notes.txt");
    fs::write(&notes, "my notes\n").unwrap();
    let out = run(&[
        "scan",
        testdata("dump/clip-mp3.mp3").to_str().unwrap(),
        "--index",
        catalogue_index().to_str().unwrap(),
        "-o",
        notes.to_str().unwrap(),
    ]);
    assert!(
        text(&out)
            .1
            .contains("is a text file, which earmark did not write")
    );
    assert_eq!(fs::read_to_string(&notes).unwrap(), "my notes\n");
}

#[test]
fn nothing_to_scan_or_index_is_an_error_that_says_what_was_there() {
    let dir = tempfile::tempdir().unwrap();
    let side = dir.path().join("side");
    fs::create_dir(&side).unwrap();
    fs::write(side.join("000001.json"), "{\"key\": \"000001\"}\n").unwrap();
    fs::write(side.join("notes.txt"), "notes\n").unwrap();
    fs::write(side.join("changelog.gz"), gzip(b"earmark (0.1) unstable\n")).unwrap();
    let out_path = dir.path().join("out.jsonl");
    let out = run(&[
        "scan",
        arg(&side),
        "--index",
        catalogue_index().to_str().unwrap(),
        "-o",
        arg(&out_path),
    ]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no audio found: 3 files skipped, 3 not audio (.gz 1, .json 1, .txt 1)"),
        "{err}"
    );
    assert!(!out_path.exists(), "no output left to be refused next time");

    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let index = dir.path().join("empty.earmark");
    let out = run(&["index", arg(&empty), "-o", arg(&index)]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no audio found: the inputs hold no files"),
        "{err}"
    );
    assert!(!index.exists());
}

/// A folder of everything a real dump holds beside audio, and audio in odd names.
fn mixed_dump(dir: &Path) -> PathBuf {
    let dump = dir.join("dump");
    fs::create_dir(&dump).unwrap();
    let copy = |from: &str, to: &str| fs::copy(testdata(from), dump.join(to)).unwrap();
    copy("dump/clip-mp3.mp3", "by-video-id");
    copy("dump/clip-opus.webm", "downloaded.weba");
    copy("dump/clip-flac.flac", "flac.flac");
    fs::write(dump.join("000001.json"), "{}\n").unwrap();
    fs::write(
        dump.join("changelog.gz"),
        gzip(&b"* New upstream release.\n".repeat(40)),
    )
    .unwrap();
    fs::write(
        dump.join("train-00000-of-00001.parquet"),
        b"PAR1\x15\x04 not really",
    )
    .unwrap();
    // A 0.4 s sound effect, cut from real audio.
    fs::write(dump.join("click.wav"), short_wav(0.4)).unwrap();
    for i in 0..23 {
        fs::write(
            dump.join(format!("broken-{i:02}.mp3")),
            b"\xff\xfb\x90 nonsense",
        )
        .unwrap();
    }
    dump
}

#[test]
fn every_file_seen_is_counted_and_failures_are_listed_with_their_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let dump = mixed_dump(dir.path());
    let out = run(&[
        "scan",
        arg(&dump),
        "--index",
        catalogue_index().to_str().unwrap(),
    ]);
    let (stdout, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "matches were found: {err}");
    // Audio found by its bytes, whatever its name.
    let lines = json_lines(&stdout);
    let tracks = |name: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["item"].as_str().unwrap().ends_with(name) && l.get("track").is_some())
            .map(|l| l["track"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(tracks("by-video-id"), ["wesnoth/battle.ogg"]);
    assert_eq!(tracks("downloaded.weba"), ["wesnoth/battle.ogg"]);
    // The sound effect is skipped, with a record saying why; the gzipped text is no tar.
    let click: Vec<_> = lines
        .iter()
        .filter(|l| l["item"].as_str().unwrap().ends_with("click.wav"))
        .collect();
    assert_eq!(click.len(), 1);
    assert_eq!(click[0]["skipped"], "too_short");
    assert!(!stdout.contains("changelog"), "{stdout}");
    // The summary, last in the output and on stderr, counts all 30 files.
    let s = summary(&stdout);
    assert_eq!(s["items"], 3);
    assert_eq!(s["failed"]["unsupported"], 23);
    assert_eq!(
        s["failed"]["archive_damaged"], 1,
        "the Parquet shard without a footer"
    );
    assert_eq!(s["skipped"]["not_audio"], 2);
    assert_eq!(s["skipped"]["too_short"], 1);
    assert!(
        err.contains("3 items scanned")
            && err.contains("24 items failed (23 unsupported, 1 archive_damaged)"),
        "{err}"
    );
    assert!(
        err.contains("skipped: 2 not audio (.gz 1, .json 1), 1 too short to fingerprint"),
        "{err}"
    );
    // The failed items are named with their reasons: the first 20, then a count.
    assert!(
        err.contains("broken-00.mp3: unsupported or unrecognised audio"),
        "{err}"
    );
    assert_eq!(err.matches("broken-").count(), 20, "{err}");
    assert!(err.contains("… and 4 more"), "{err}");
    // A failure is fatal only when asked.
    let strict = run(&[
        "scan",
        arg(&dump),
        "--index",
        catalogue_index().to_str().unwrap(),
        "--strict",
    ]);
    assert_eq!(strict.status.code(), Some(3));
}

#[test]
fn error_records_carry_a_kind_and_a_partial_decode_is_a_warning() {
    let index = catalogue_index().to_str().unwrap();
    let kind_of = |file: &str, extra: &[&str]| {
        let mut a = vec![
            "scan",
            testdata(file).to_str().unwrap().to_owned().leak() as &str,
        ];
        a.extend(["--index", index]);
        a.extend_from_slice(extra);
        let out = run(&a);
        let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
        let e = lines
            .iter()
            .find(|l| l.get("error").is_some())
            .unwrap_or_else(|| panic!("{file}: no error record"))
            .clone();
        (e, lines.iter().any(|l| l.get("track").is_some()), out)
    };
    let (e, matched, _) = kind_of("dump/clip-mp3.mp3", &["--max-item-bytes", "1000"]);
    assert_eq!(
        (e["kind"].as_str(), matched),
        (Some("too_large"), false),
        "{e}"
    );
    assert!(e["error"].as_str().unwrap().contains("--max-item-bytes"));
    // The start of a long item is scanned: found, with a warning, not a failure.
    let (e, matched, out) = kind_of("dump/medley.mp3", &["--max-seconds", "8"]);
    assert_eq!(
        (e["kind"].as_str(), e["partial"].as_bool(), matched),
        (Some("too_long"), Some(true), true)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1 item scanned in part (1 too_long)") && !err.contains("failed"),
        "{err}"
    );
    let (e, _, _) = kind_of("dump/broken/truncated.mp3", &[]);
    assert_eq!(
        (e["kind"].as_str(), e["partial"].as_bool()),
        (Some("truncated"), Some(true))
    );
    let (e, _, _) = kind_of("dump/broken/empty.mp3", &[]);
    assert_eq!(e["kind"], "empty");
    assert_eq!(e["error"], "empty file (0 bytes)");
}

#[test]
fn track_ids_are_unique_and_ids_lines_that_match_nothing_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    for (pkg, song) in [("a", "siege.ogg"), ("b", "battle.ogg")] {
        let music = dir.path().join(pkg).join("music");
        fs::create_dir_all(&music).unwrap();
        fs::copy(
            testdata(&format!("catalogue/wesnoth/{song}")),
            music.join("mus1.ogg"),
        )
        .unwrap();
    }
    let (a, b) = (dir.path().join("a/music"), dir.path().join("b/music"));
    let index = dir.path().join("c.earmark");
    // Two files of one id in one run: an error naming both, and no index.
    let out = run(&["index", arg(&a), arg(&b), "-o", arg(&index)]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("two catalogue files have the track id `mus1.ogg`")
            && err.contains("a/music/mus1.ogg")
            && err.contains("b/music/mus1.ogg"),
        "{err}"
    );
    assert!(!index.exists());
    // Appending another recording under an id the index holds: an error, not "nothing new".
    let ids = dir.path().join("ids.tsv");
    fs::write(&ids, "mus1.ogg\tXX-1\nmus2.ogg\tXX-2\n").unwrap();
    let out = run(&["index", arg(&a), "-o", arg(&index), "--ids", arg(&ids)]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("1 line of") && err.contains("match no track: mus2.ogg"),
        "{err}"
    );
    let out = run(&["index", arg(&b), "-o", arg(&index), "--append"]);
    let (_, err) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("has the track id `mus1.ogg` of another recording"),
        "{err}"
    );
    // The same file again is already indexed.
    let out = run(&["index", arg(&a), "-o", arg(&index), "--append"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out).1.contains("nothing new to add"),
        "{}",
        text(&out).1
    );
    // Indexed from their common parent, the two have ids of their own.
    let parent = dir.path().join("both.earmark");
    let out = run(&["index", arg(dir.path()), "-o", arg(&parent)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let info = String::from_utf8(run(&["info", arg(&parent), "--tracks"]).stdout).unwrap();
    assert!(
        info.contains("a/music/mus1.ogg") && info.contains("b/music/mus1.ogg"),
        "{info}"
    );
}

#[test]
fn scans_refuse_an_index_whose_tables_are_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = fs::read(catalogue_index()).unwrap();
    // A byte of the first track record (the track table starts after the 256-byte header).
    bytes[256 + 17] ^= 0x40;
    let damaged = dir.path().join("damaged.earmark");
    fs::write(&damaged, &bytes).unwrap();
    for command in ["scan", "query"] {
        let out = run(&[
            command,
            testdata("dump/clip-mp3.mp3").to_str().unwrap(),
            "--index",
            arg(&damaged),
        ]);
        let (_, err) = text(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains("checksum mismatch in the track table section")
                && err.contains("earmark verify"),
            "{err}"
        );
    }
}

#[test]
fn files_can_be_listed_on_standard_input_or_in_a_file_one_per_line_or_nul_separated() {
    let dir = tempfile::tempdir().unwrap();
    let clips = [
        "dump/clip-mp3.mp3",
        "dump/clip-flac.flac",
        "dump/not-in-catalogue.mp3",
    ];
    let paths: Vec<String> = clips
        .iter()
        .map(|c| testdata(c).display().to_string())
        .collect();
    let index = catalogue_index().to_str().unwrap();
    let items = |out: &Output| -> Vec<String> {
        let mut v: Vec<String> = json_lines(&String::from_utf8_lossy(&out.stdout))
            .iter()
            .filter(|l| l.get("track").is_some())
            .map(|l| format!("{} {}", l["item"].as_str().unwrap(), l["track"]))
            .collect();
        v.sort();
        v
    };
    let direct = run(&["scan", &paths[0], &paths[1], &paths[2], "--index", index]);
    assert_eq!(items(&direct).len(), 2);

    let list = dir.path().join("list.txt");
    fs::write(
        &list,
        format!("{}\r\n\n{}\n{}", paths[0], paths[1], paths[2]),
    )
    .unwrap();
    let from_file = run(&["scan", "--files-from", arg(&list), "--index", index]);
    assert_eq!(items(&from_file), items(&direct), "{}", text(&from_file).1);

    let mut child = earmark()
        .args(["scan", "--files-from", "-", "-0", "--index", index])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{}\0{}\0{}\0", paths[0], paths[1], paths[2]).as_bytes())
        .unwrap();
    let from_stdin = child.wait_with_output().unwrap();
    assert_eq!(items(&from_stdin), items(&direct));

    // index too: a listed path is its own track id.
    let song = testdata("catalogue/wesnoth/siege.ogg")
        .display()
        .to_string();
    fs::write(&list, format!("{song}\n")).unwrap();
    let listed = dir.path().join("listed.earmark");
    let out = run(&["index", "--files-from", arg(&list), "-o", arg(&listed)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
    let info = String::from_utf8(run(&["info", arg(&listed), "--tracks"]).stdout).unwrap();
    assert!(info.contains(&song), "{info}");
}

#[test]
fn messages_say_each_thing_once_name_what_a_file_is_and_count_right() {
    let dir = tempfile::tempdir().unwrap();
    let index = catalogue_index().to_str().unwrap();
    // An OS error, once.
    let out = run(&["scan", "missing.mp3", "--index", "missing.earmark"]);
    let err = text(&out).1;
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
    assert!(err.contains("missing.mp3: No such file"), "{err}");
    // An audio file given as the index is named for what it is.
    let clip = testdata("dump/clip-mp3.mp3");
    let out = run(&["scan", arg(&clip), "--index", arg(&clip)]);
    assert!(
        text(&out)
            .1
            .contains("is an MP3 file, not an earmark index"),
        "{}",
        text(&out).1
    );
    // One item, one match: singular.
    let out = run(&["scan", arg(&clip), "--index", index]);
    let err = text(&out).1;
    assert!(
        err.contains("1 item scanned") && err.contains("1 match in 1 item"),
        "{err}"
    );
    // An empty MP3 says it is empty.
    let empty = dir.path().join("empty.mp3");
    fs::write(&empty, b"").unwrap();
    let out = run(&["query", arg(&empty), "--index", index]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("empty file (0 bytes)"));
}

#[test]
fn the_demo_runs_from_any_folder_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report");
    // Twice: the second run replaces the first's report.
    for _ in 0..2 {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_earmark"))
            .args(["demo", "--report", arg(&report)])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let (stdout, err) = text(&out);
        assert_eq!(out.status.code(), Some(0), "{err}");
        assert!(stdout.contains("wesnoth/battle.ogg"), "{stdout}");
        assert!(
            err.contains(&format!("open {}", report.join("index.html").display())),
            "{err}"
        );
    }
    for written in ["index.html", "claims.csv", "demo-matches.jsonl"] {
        assert!(report.join(written).is_file(), "{written}");
    }
    assert!(!report.join("demo-matches.jsonl.journal").exists());
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// `seconds` of a real recording as a WAV (the first samples of a shipped 8 kHz clip).
fn short_wav(seconds: f64) -> Vec<u8> {
    let wav = fs::read(testdata("tolerant/wav-list-past-end.wav")).unwrap();
    let samples = (seconds * 8000.0) as usize;
    let data = &wav[44..44 + 2 * samples];
    let mut b = wav[..44].to_vec();
    b[4..8].copy_from_slice(&(36 + data.len() as u32).to_le_bytes());
    b[40..44].copy_from_slice(&(data.len() as u32).to_le_bytes());
    b.extend_from_slice(data);
    b
}
