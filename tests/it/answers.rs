//! The matcher's answers on the shipped dump are pinned: `testdata/dump-answers.jsonl` holds the
//! item records a scan of `testdata/dump` against the committed format-4 index gave before
//! records carried anything for plots, and every scan since must give the same records, field
//! for field, whatever fields were added beside them.

use crate::common::*;

/// What identifies a record among an output's: its item, member, track and place.
fn key(v: &serde_json::Value) -> String {
    let s = |k: &str| v.get(k).map_or_else(String::new, |x| x.to_string());
    [
        s("item"),
        s("member"),
        s("track"),
        s("item_start"),
        s("kind"),
    ]
    .join("|")
}

#[test]
fn the_shipped_dump_gives_the_pinned_answers_field_for_field() {
    let pinned = std::fs::read_to_string(testdata("dump-answers.jsonl")).unwrap();
    let mut pinned = json_lines(&pinned);
    let out = run(&[
        "scan",
        "testdata/dump",
        "--index",
        "testdata/index-v4.earmark",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let mut now = json_lines(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(now.len(), pinned.len());
    pinned.sort_by_key(key);
    now.sort_by_key(key);
    for (was, is) in pinned.iter().zip(&now) {
        let fields = was.as_object().unwrap();
        for (field, value) in fields {
            assert_eq!(is.get(field), Some(value), "{field} of {was} is now {is}");
        }
    }
}
