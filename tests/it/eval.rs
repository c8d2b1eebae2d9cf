use crate::common::*;

/// One ground-truth row for a file of the shipped dump.
fn row(file: &str, track: &str, offset: &str, degradation: &str) -> String {
    let query = testdata(&format!("dump/{file}"));
    format!("{}\t{track}\t{offset}\t{degradation}", query.display())
}

/// Runs `earmark eval` on `truth` against the shipped catalogue, with `--json` and `extra`;
/// returns the process output and the JSON report.
fn eval(truth: &std::path::Path, extra: &[&str]) -> (std::process::Output, serde_json::Value) {
    let json = truth.with_extension("json");
    let mut args = vec![
        "eval",
        truth.to_str().unwrap(),
        "--index",
        catalogue_index().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert!(json.exists(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    (out, report)
}

/// Writes a ground-truth file with its header row.
fn write_truth(path: &std::path::Path, rows: &[String]) {
    let text = format!("query\ttrack\toffset\tdegradation\n{}\n", rows.join("\n"));
    std::fs::write(path, text).unwrap();
}

#[test]
fn eval_scores_a_ground_truth_file_per_degradation() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.tsv");
    let rows = [
        row("clip-mp3.mp3", "wesnoth/battle.ogg", "3.0", "mp3"),
        row("clip-opus.opus", "ufoai/basrah.mp3", "9.5", "opus"),
        // Deliberately wrong offset: must not count as right.
        row("clip-aac.m4a", "ufoai/psymong.mp3", "1.0", "aac"),
        row("not-in-catalogue.mp3", "", "", "none"),
    ];
    write_truth(&truth, &rows);
    let (out, report) = eval(&truth, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deg = &report["degradations"];
    assert_eq!(deg["mp3"]["right"], 1);
    assert_eq!(deg["opus"]["right"], 1);
    assert_eq!(deg["aac"]["right"], 0);
    assert_eq!(deg["aac"]["in_catalogue"], 1);
    assert_eq!(deg["none"]["false_positives"], 0);
    assert_eq!(report["queries"], 4);
    assert_eq!(deg["mp3"]["recall"], 1.0);
    assert_eq!(deg["none"]["recall"], serde_json::Value::Null);
    assert_eq!(deg["none"]["not_in_catalogue"], 1);
    assert_eq!(deg["aac"]["wrong"], 0);
    assert_eq!(deg["aac"]["mean_offset_error_s"], serde_json::Value::Null);
    assert!(deg["mp3"]["mean_offset_error_s"].as_f64().unwrap() < 1.5);
    for name in ["mp3", "opus", "aac", "none"] {
        let x = deg[name]["x_real_time_per_core"].as_f64().unwrap();
        assert!(x > 0.0, "{name}: {x}");
    }
    assert_eq!(report["totals"]["right"], 2);
    assert_eq!(report["totals"]["in_catalogue"], 3);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("mp3") && table.contains("100.0%"), "{table}");
    assert!(
        table.lines().next().unwrap().ends_with("xRT/core"),
        "{table}"
    );
    assert!(table.contains("(all)"), "{table}");
}

/// Wrong answers and false positives count once per query; `--misses` and `--answers` list
/// what went wrong, and the exit status says so.
#[test]
fn eval_counts_wrong_answers_per_query_and_lists_misses_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.tsv");
    let rows = [
        // The clip is wesnoth/battle.ogg: claiming another track makes its answer wrong.
        row("clip-mp3.mp3", "ufoai/psymong.mp3", "3.0", "lie"),
        // The medley holds two catalogue tracks; claiming a third makes both answers wrong,
        // yet the query counts once.
        row("medley.mp3", "wesnoth/siege.ogg", "0.0", "lie"),
        // A catalogue clip claimed absent: a false positive.
        row("clip-opus.opus", "", "", "absent"),
        row("not-in-catalogue.mp3", "", "", "absent"),
        row("broken/garbage.mp3", "wesnoth/siege.ogg", "1.0", "broken"),
    ];
    write_truth(&truth, &rows);
    let (misses, answers) = (
        dir.path().join("misses.tsv"),
        dir.path().join("answers.tsv"),
    );
    let (out, report) = eval(
        &truth,
        &[
            "--misses",
            misses.to_str().unwrap(),
            "--answers",
            answers.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deg = &report["degradations"];
    assert_eq!(deg["lie"]["wrong"], 2, "{deg}");
    assert_eq!(deg["lie"]["right"], 0);
    assert_eq!(deg["lie"]["recall"], 0.0);
    assert!(deg["lie"]["wrong_track"].as_u64().unwrap() >= 3, "{deg}");
    assert_eq!(deg["absent"]["false_positives"], 1);
    assert_eq!(deg["absent"]["not_in_catalogue"], 2);
    assert_eq!(deg["broken"]["errors"], 1);
    assert_eq!(report["totals"]["wrong"], 2);
    assert_eq!(report["totals"]["false_positives"], 1);

    let misses = std::fs::read_to_string(&misses).unwrap();
    let lines: Vec<Vec<&str>> = misses.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines[0][0], "query");
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{misses}");
    // Every query but the empty not-in-catalogue one missed.
    assert_eq!(lines.len(), 1 + 4, "{misses}");
    let clip = lines
        .iter()
        .find(|l| l[0].ends_with("clip-mp3.mp3"))
        .unwrap();
    assert_eq!(
        clip[1..5],
        ["lie", "ufoai/psymong.mp3", "3.000", "wesnoth/battle.ogg"]
    );
    let broken = lines
        .iter()
        .find(|l| l[0].ends_with("garbage.mp3"))
        .unwrap();
    assert_eq!(broken[4], "none");
    assert!(!broken.last().unwrap().is_empty(), "{misses}");
    assert!(!lines.iter().any(|l| l[0].ends_with("not-in-catalogue.mp3")));

    let answers = std::fs::read_to_string(&answers).unwrap();
    let lines: Vec<Vec<&str>> = answers.lines().map(|l| l.split('\t').collect()).collect();
    let column = |name: &str| lines[0].iter().position(|c| *c == name).unwrap();
    let (verdict, speed, pitch) = (column("verdict"), column("speed"), column("pitch"));
    assert!(lines.iter().all(|l| l.len() == lines[0].len()), "{answers}");
    let verdicts: Vec<&str> = lines[1..].iter().map(|l| l[verdict]).collect();
    assert!(
        lines[1..]
            .iter()
            .all(|l| l[speed].parse::<f64>().is_ok() && l[pitch].parse::<f64>().is_ok()),
        "{answers}"
    );
    assert_eq!(
        verdicts.iter().filter(|v| **v == "fp").count(),
        1,
        "{answers}"
    );
    assert!(
        verdicts.iter().all(|v| ["wrong", "fp"].contains(v)),
        "{answers}"
    );
    for l in &lines[1..] {
        assert!(l[5].parse::<u32>().unwrap() > 0, "score: {answers}");
    }
}
