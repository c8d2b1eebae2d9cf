use crate::common::*;

#[test]
fn resume_after_an_interruption_gives_exactly_the_uninterrupted_lines() {
    let index = catalogue_index();
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.jsonl");
    let dump = testdata("dump");
    let args = |out: &std::path::Path| {
        vec![
            "scan".to_string(),
            dump.to_str().unwrap().to_string(),
            "--index".into(),
            index.to_str().unwrap().into(),
            "-o".into(),
            out.to_str().unwrap().into(),
            "--jobs".into(),
            "1".into(),
        ]
    };
    let out = earmark().args(args(&full)).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let expected = std::fs::read_to_string(&full).unwrap();

    // Simulate a kill: keep the journal's settings and first entries, and leave half-written
    // lines of the next item behind in the output.
    let partial = dir.path().join("partial.jsonl");
    let journal = std::fs::read_to_string(dir.path().join("full.jsonl.journal")).unwrap();
    assert!(journal.starts_with("{\"settings\":"), "{journal}");
    let kept: Vec<&str> = journal.lines().take(1 + 9).collect();
    let last: serde_json::Value = serde_json::from_str(kept[kept.len() - 1]).unwrap();
    let offset = last["end"].as_u64().unwrap();
    let mut text = expected.as_bytes()[..offset as usize].to_vec();
    text.extend_from_slice(b"{\"item\":\"half a line");
    std::fs::write(&partial, text).unwrap();
    std::fs::write(
        dir.path().join("partial.jsonl.journal"),
        format!("{}\n{{\"end\":12,\"ke", kept.join("\n")),
    )
    .unwrap();

    let mut resume = args(&partial);
    resume.push("--resume".into());
    let out = earmark().args(resume).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resumed = std::fs::read_to_string(&partial).unwrap();
    let sorted = |s: &str| {
        let mut v: Vec<String> = json_lines(s).iter().map(|v| v.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&resumed), sorted(&expected));
    assert!(String::from_utf8_lossy(&out.stderr).contains("9 files were already done"));
    // One summary, last, for the whole scan.
    let without_time = |s: &str| {
        let mut v = summary(s);
        v.as_object_mut().unwrap().remove("wall_seconds");
        v.as_object_mut().unwrap().remove("finished");
        v
    };
    assert_eq!(without_time(&resumed), without_time(&expected));
    assert_eq!(resumed.matches("\"summary\"").count(), 1);
}

#[test]
fn resume_with_other_settings_is_refused_and_changes_nothing() {
    let index = catalogue_index();
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out.jsonl");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "scan".to_string(),
            testdata("dump/clip-mp3.mp3").to_str().unwrap().into(),
            "--index".into(),
            index.to_str().unwrap().into(),
            "-o".into(),
            out_path.to_str().unwrap().into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let out = earmark().args(args(&[])).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let before = std::fs::read(&out_path).unwrap();
    let journal = std::fs::read(dir.path().join("out.jsonl.journal")).unwrap();

    // Another key sample would give other answers for the items still to do.
    let out = earmark()
        .args(args(&["--resume", "--profile", "songs"]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--profile: \"clips\" in the journal, \"songs\" now"),
        "{stderr}"
    );
    // Every difference is named: the profile, and each setting it moves.
    assert!(
        stderr.contains("key_sample: 1 in the journal, 8 now")
            && stderr.contains("candidate_score: 3 in the journal, 4 now"),
        "{stderr}"
    );
    // So would another output format in the same file.
    let out = earmark()
        .args(args(&["--resume", "--format", "csv"]))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--format: \"jsonl\" in the journal, \"csv\" now"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&out_path).unwrap(), before);
    assert_eq!(
        std::fs::read(dir.path().join("out.jsonl.journal")).unwrap(),
        journal
    );

    // A journal written before a setting existed lacks it: a difference too, not a journal
    // without settings (whose resume would warn and start again from nothing).
    let journal_path = dir.path().join("out.jsonl.journal");
    let text = String::from_utf8(journal.clone()).unwrap();
    let (first, rest) = text.split_once('\n').unwrap();
    let mut older: serde_json::Value = serde_json::from_str(first).unwrap();
    older["settings"]["options"]
        .as_object_mut()
        .unwrap()
        .remove("dense_peaks_per_second");
    std::fs::write(&journal_path, format!("{older}\n{rest}")).unwrap();
    let out = earmark().args(args(&["--resume"])).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("dense_peaks_per_second: null in the journal, 30.0 now"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&out_path).unwrap(), before);

    // A journal of an earmark whose matcher gave other answers, under the same version.
    let mut older: serde_json::Value = serde_json::from_str(first).unwrap();
    let revision = earmark::matcher::REVISION;
    older["settings"]["matcher"] = (revision - 1).into();
    std::fs::write(&journal_path, format!("{older}\n{rest}")).unwrap();
    let out = earmark().args(args(&["--resume"])).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let named = format!("matcher: {} in the journal, {revision} now", revision - 1);
    assert!(stderr.contains(&named), "{stderr}");
    assert_eq!(std::fs::read(&out_path).unwrap(), before);
    std::fs::write(&journal_path, &journal).unwrap();

    // The same settings resume: the one item is done, nothing is added.
    let out = earmark().args(args(&["--resume"])).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records = |b: &[u8]| json_lines(&String::from_utf8_lossy(b));
    assert_eq!(
        records(&std::fs::read(&out_path).unwrap()),
        records(&before)
    );
}
