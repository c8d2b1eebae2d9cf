use crate::common::*;

#[test]
fn eval_scores_a_ground_truth_file_per_degradation() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.tsv");
    let d = |f: &str| testdata(&format!("dump/{f}")).display().to_string();
    let rows = [
        format!("{}\twesnoth/battle.ogg\t3.0\tmp3", d("clip-mp3.mp3")),
        format!("{}\tufoai/basrah.mp3\t9.5\topus", d("clip-opus.opus")),
        // Deliberately wrong offset: must not count as right.
        format!("{}\tufoai/psymong.mp3\t1.0\taac", d("clip-aac.m4a")),
        format!("{}\t\t\tnone", d("not-in-catalogue.mp3")),
    ];
    std::fs::write(
        &truth,
        format!("query\ttrack\toffset\tdegradation\n{}\n", rows.join("\n")),
    )
    .unwrap();
    let json = dir.path().join("eval.json");
    let out = run(&[
        "eval",
        truth.to_str().unwrap(),
        "--index",
        catalogue_index().to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let deg = &report["degradations"];
    assert_eq!(deg["mp3"]["right"], 1);
    assert_eq!(deg["opus"]["right"], 1);
    assert_eq!(deg["aac"]["right"], 0);
    assert_eq!(deg["aac"]["in_catalogue"], 1);
    assert_eq!(deg["none"]["false_positives"], 0);
    assert_eq!(report["queries"], 4);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("mp3") && table.contains("100.0%"), "{table}");
}
