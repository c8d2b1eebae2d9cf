use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn earmark() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_earmark"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

pub fn run(args: &[&str]) -> Output {
    earmark().args(args).output().expect("earmark runs")
}

/// [`run`], failing the test with earmark's stderr unless it succeeds.
pub fn run_ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(
        out.status.success(),
        "earmark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

/// The shipped catalogue, indexed once per test run.
pub fn catalogue_index() -> &'static Path {
    static INDEX: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = INDEX.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("catalogue.earmark");
        let out = run(&[
            "index",
            testdata("catalogue").to_str().unwrap(),
            "-o",
            path.to_str().unwrap(),
            "--ids",
            testdata("catalogue-ids.tsv").to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "index failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (dir, path)
    });
    path
}

/// One row of testdata/truth.tsv.
#[derive(Debug, Clone)]
pub struct Truth {
    pub item: String,
    pub member: Option<String>,
    /// Catalogue track, "" for none, "ERROR" for broken files.
    pub track: String,
    pub item_start: f64,
    pub track_start: f64,
    pub duration: f64,
    pub degradation: String,
}

pub fn truth() -> Vec<Truth> {
    let text = std::fs::read_to_string(testdata("truth.tsv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let num = |s: &str| s.parse::<f64>().unwrap_or(0.0);
            Truth {
                item: f[0].to_string(),
                member: Some(f[1].to_string()).filter(|m| !m.is_empty()),
                track: f[2].to_string(),
                item_start: num(f[3]),
                track_start: num(f[4]),
                duration: num(f[5]),
                degradation: f[6].to_string(),
            }
        })
        .collect()
}

/// The item records of a JSON Lines output (matches, errors, skipped and clean items), without
/// the provenance record that opens it and the summary that ends it.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    all_json_lines(text)
        .into_iter()
        .filter(|v| v.get("summary").is_none() && v.get("provenance").is_none())
        .collect()
}

pub fn all_json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The summary record that ends a JSON Lines output (it must be the last line).
pub fn summary(text: &str) -> serde_json::Value {
    let last = text.lines().last().expect("an output");
    let v: serde_json::Value = serde_json::from_str(last).unwrap();
    v.get("summary")
        .unwrap_or_else(|| panic!("the last line is no summary: {last}"))
        .clone()
}

/// The item path as the scanner prints it for an item of the shipped dump.
pub fn dump_item(rel: &str) -> String {
    format!("{}/{rel}", testdata("dump").display())
}
