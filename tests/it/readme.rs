//! README.md's output example is what earmark prints: the command it names is run here and
//! its lines compared (the items may finish in any order; the wall time differs run to run).

use crate::common::*;

#[test]
fn the_readme_output_example_is_what_earmark_prints() {
    let readme = std::fs::read_to_string(testdata("../README.md")).unwrap();
    let marker = readme
        .find("<!-- the output example")
        .expect("README.md marks its output example");
    let before = &readme[..marker];
    let command = before[before
        .rfind("`earmark scan ")
        .expect("the example's command")
        + 1..]
        .split('`')
        .next()
        .unwrap();
    let block = &readme[marker..];
    let block = &block[block.find("```json\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    let args: Vec<&str> = command.split_whitespace().skip(1).collect();
    let out = run(&args);
    assert_eq!(out.status.code(), Some(0), "{command}");
    let normal = |text: &str| {
        let mut lines: Vec<serde_json::Value> = all_json_lines(text);
        // What differs run to run: the times, and the commit of the binary that ran.
        for l in &mut lines {
            if let Some(s) = l.get_mut("summary") {
                s["wall_seconds"] = 0.into();
                s["finished"] = "".into();
            }
            if let Some(p) = l.get_mut("provenance") {
                p["started"] = "".into();
                p["commit"] = "".into();
            }
        }
        let mut lines: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        lines.sort();
        lines
    };
    assert_eq!(
        normal(block),
        normal(&String::from_utf8_lossy(&out.stdout)),
        "README.md's output example is out of date: run `{command}` and paste its output"
    );
}
