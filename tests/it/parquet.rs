//! Hugging Face parquet shards, written here with the `parquet` crate as the `datasets` library
//! lays them out: encoded audio (`{bytes, path}`), decoded samples (`{array, sampling_rate,
//! path}`), scalar columns that travel into the records, broken rows and broken files.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, FloatType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;

use crate::common::*;

/// One row of an encoded shard: the audio's bytes (`None`: a null cell), its path, an id.
struct Row<'a> {
    bytes: Option<Vec<u8>>,
    path: &'a str,
    id: &'a str,
}

fn hf_metadata() -> Option<Vec<KeyValue>> {
    let features = r#"{"info": {"features": {"audio": {"sampling_rate": null, "decode": true, "_type": "Audio"}, "id": {"dtype": "string", "_type": "Value"}}}}"#;
    Some(vec![KeyValue::new(
        "huggingface".into(),
        features.to_string(),
    )])
}

/// Writes rows as a shard of `per_group` rows per row group, snappy-compressed.
fn write_encoded(path: &Path, rows: &[Row], per_group: usize) {
    let schema = Arc::new(
        parse_message_type(
            "message schema {
                optional group audio { optional binary bytes; optional binary path (STRING); }
                optional binary id (STRING);
            }",
        )
        .unwrap(),
    );
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(hf_metadata())
        .build();
    let mut writer =
        SerializedFileWriter::new(fs::File::create(path).unwrap(), schema, Arc::new(props))
            .unwrap();
    for group in rows.chunks(per_group) {
        let mut rg = writer.next_row_group().unwrap();
        let mut n = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            let (values, defs): (Vec<ByteArray>, Vec<i16>) = match n {
                // audio.bytes: defined at level 2, null bytes at level 1.
                0 => group.iter().fold((vec![], vec![]), |(mut v, mut d), r| {
                    match &r.bytes {
                        Some(b) => {
                            v.push(ByteArray::from(b.clone()));
                            d.push(2);
                        }
                        None => d.push(1),
                    }
                    (v, d)
                }),
                1 => (
                    group.iter().map(|r| ByteArray::from(r.path)).collect(),
                    vec![2; group.len()],
                ),
                _ => (
                    group.iter().map(|r| ByteArray::from(r.id)).collect(),
                    vec![1; group.len()],
                ),
            };
            col.typed::<ByteArrayType>()
                .write_batch(&values, Some(&defs), None)
                .unwrap();
            col.close().unwrap();
            n += 1;
        }
        rg.close().unwrap();
    }
    writer.close().unwrap();
}

/// Writes one row of decoded samples, `{array: list<float>, sampling_rate, path}`.
fn write_decoded(path: &Path, samples: &[f32], rate: i64, name: &str) {
    let schema = Arc::new(
        parse_message_type(
            "message schema {
                optional group audio {
                    optional group array (LIST) { repeated group list { optional float element; } }
                    optional int64 sampling_rate;
                    optional binary path (STRING);
                }
            }",
        )
        .unwrap(),
    );
    // The other codecs Hub shards use: zstd for the samples, gzip for the rest.
    let props = WriterProperties::builder()
        .set_compression(Compression::GZIP(Default::default()))
        .set_column_compression(
            ColumnPath::from(vec![
                "audio".into(),
                "array".into(),
                "list".into(),
                "element".into(),
            ]),
            Compression::ZSTD(Default::default()),
        )
        .build();
    let mut writer =
        SerializedFileWriter::new(fs::File::create(path).unwrap(), schema, Arc::new(props))
            .unwrap();
    let mut rg = writer.next_row_group().unwrap();
    let mut n = 0;
    while let Some(mut col) = rg.next_column().unwrap() {
        match n {
            0 => {
                let defs = vec![4i16; samples.len()];
                let mut reps = vec![1i16; samples.len()];
                reps[0] = 0;
                col.typed::<FloatType>()
                    .write_batch(samples, Some(&defs), Some(&reps))
                    .unwrap();
            }
            1 => {
                col.typed::<Int64Type>()
                    .write_batch(&[rate], Some(&[2]), None)
                    .unwrap();
            }
            _ => {
                col.typed::<ByteArrayType>()
                    .write_batch(&[ByteArray::from(name)], Some(&[2]), None)
                    .unwrap();
            }
        }
        col.close().unwrap();
        n += 1;
    }
    rg.close().unwrap();
    writer.close().unwrap();
}

/// The mono 16-bit samples of a plain PCM WAV, as floats, and its rate.
fn wav_samples(path: &Path) -> (Vec<f32>, i64) {
    let b = fs::read(path).unwrap();
    let mut at = 12;
    let mut rate = 0;
    while at + 8 <= b.len() {
        let len = u32::from_le_bytes(b[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &b[at + 8..(at + 8 + len).min(b.len())];
        match &b[at..at + 4] {
            b"fmt " => rate = i64::from(u32::from_le_bytes(body[4..8].try_into().unwrap())),
            b"data" => {
                let s = body
                    .chunks_exact(2)
                    .map(|c| f32::from(i16::from_le_bytes([c[0], c[1]])) / 32768.0)
                    .collect();
                return (s, rate);
            }
            _ => {}
        }
        at += 8 + len + len % 2;
    }
    panic!("no data chunk in {}", path.display());
}

/// A folder with an encoded shard (an MP3 row, a FLAC row, a row of garbage, a null row, in
/// row groups of 2; snappy) and a decoded shard (a WAV's samples; zstd and gzip).
fn shards(dir: &Path) {
    let read = |rel: &str| Some(fs::read(testdata(rel)).unwrap());
    write_encoded(
        &dir.join("train-00000-of-00002.parquet"),
        &[
            Row {
                bytes: read("dump/clip-mp3.mp3"),
                path: "clip-mp3.mp3",
                id: "a1",
            },
            Row {
                bytes: read("dump/clip-flac.flac"),
                path: "clip-flac.flac",
                id: "b2",
            },
            Row {
                bytes: Some(b"this row's audio is no audio at all".to_vec()),
                path: "broken.mp3",
                id: "c3",
            },
            Row {
                bytes: None,
                path: "",
                id: "d4",
            },
            Row {
                bytes: read("dump/not-in-catalogue.mp3"),
                path: "not-in-catalogue.mp3",
                id: "e5",
            },
        ],
        2,
    );
    let (samples, rate) = wav_samples(&testdata("dump/clip-wav.wav"));
    write_decoded(
        &dir.join("train-00001-of-00002.parquet"),
        &samples,
        rate,
        "clip-wav.wav",
    );
}

fn scan(args: &[&str]) -> (std::process::Output, Vec<serde_json::Value>) {
    let mut all = vec!["scan", "--index", catalogue_index().to_str().unwrap()];
    all.extend_from_slice(args);
    let out = run(&all);
    let lines = json_lines(&String::from_utf8_lossy(&out.stdout));
    (out, lines)
}

fn record<'a>(lines: &'a [serde_json::Value], member: &str) -> &'a serde_json::Value {
    let found: Vec<_> = lines.iter().filter(|l| l["member"] == member).collect();
    assert_eq!(found.len(), 1, "{member}: {lines:#?}");
    found[0]
}

#[test]
fn rows_of_a_shard_are_scanned_like_the_files_they_hold() {
    let dir = tempfile::tempdir().unwrap();
    shards(dir.path());
    let (out, lines) = scan(&[dir.path().to_str().unwrap(), "--jobs", "2"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The rows holding catalogue audio match as the same audio does as files.
    for (member, file) in [
        ("clip-mp3.mp3", "dump/clip-mp3.mp3"),
        ("clip-flac.flac", "dump/clip-flac.flac"),
        ("clip-wav.wav", "dump/clip-wav.wav"),
    ] {
        let row = record(&lines, member);
        let (_, as_file) = scan(&[testdata(file).to_str().unwrap()]);
        let as_file = &as_file[0];
        for k in ["track", "item_start", "item_end", "track_start", "score"] {
            assert_eq!(row[k], as_file[k], "{member}: {k}: {row} vs {as_file}");
        }
    }
    let mp3 = record(&lines, "clip-mp3.mp3");
    assert_eq!(mp3["track"], "wesnoth/battle.ogg");
    assert_eq!(mp3["row"], 0);
    assert_eq!(mp3["columns"], serde_json::json!({"id": "a1"}));
    let bytes = fs::read(testdata("dump/clip-mp3.mp3")).unwrap();
    assert_eq!(mp3["bytes"], bytes.len());
    assert_eq!(mp3["blake3"], blake3::hash(&bytes).to_hex().as_str());
    assert_eq!(
        record(&lines, "clip-flac.flac")["track"],
        "ufoai/basrah.mp3"
    );
    // Decoded samples: a 32-bit float WAV made of them, of the deep path's 18.75 s.
    let wav = record(&lines, "clip-wav.wav");
    assert_eq!(wav["track"], "wesnoth/deep-path.ogg");
    assert!(
        (wav["track_start"].as_f64().unwrap() - 18.75).abs() < 0.5,
        "{wav}"
    );
    // The broken row and the null row get error records; the row after them goes on.
    let broken = record(&lines, "broken.mp3");
    assert_eq!(broken["kind"], "unsupported", "{broken}");
    assert_eq!(broken["columns"]["id"], "c3");
    let null = record(&lines, "row 3");
    assert_eq!(null["kind"], "empty", "{null}");
    assert_eq!(null["row"], 3);
    let clean = record(&lines, "not-in-catalogue.mp3");
    assert_eq!(clean["clean"], true, "{clean}");
    assert_eq!(clean["row"], 4);
    let summary = summary(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(summary["items"], 4, "{summary}");
    assert_eq!(
        summary["failed"],
        serde_json::json!({"empty": 1, "unsupported": 1})
    );
}

#[test]
fn a_damaged_shard_and_a_row_group_over_the_limit_get_error_records() {
    let dir = tempfile::tempdir().unwrap();
    shards(dir.path());
    let whole = fs::read(dir.path().join("train-00000-of-00002.parquet")).unwrap();
    let cut = dir.path().join("cut.parquet");
    fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    // A footer that claims far more than the file holds.
    let mut liar = whole.clone();
    let n = liar.len();
    liar[n - 8..n - 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fs::write(dir.path().join("liar.parquet"), liar).unwrap();
    let (out, lines) = scan(&[dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    for name in ["cut.parquet", "liar.parquet"] {
        let item = dir.path().join(name).display().to_string();
        let errors: Vec<_> = lines.iter().filter(|l| l["item"] == item).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0]["kind"], "archive_damaged", "{}", errors[0]);
    }
    assert!(
        lines
            .iter()
            .any(|l| l["member"] == "clip-mp3.mp3" && l.get("track").is_some())
    );

    // A row group whose audio is over the limit is refused unread: one record per row, under
    // the label each row would have had.
    let (out, lines) = scan(&[
        dir.path()
            .join("train-00000-of-00002.parquet")
            .to_str()
            .unwrap(),
        "--max-row-group-bytes",
        "100000",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let members: Vec<_> = lines
        .iter()
        .map(|l| l["member"].as_str().unwrap())
        .collect();
    assert_eq!(
        members.len(),
        5,
        "every row has its record, the small group's too: {lines:#?}"
    );
    for l in &lines {
        if l["member"] == "row 3" {
            continue; // its group (with the broken row) holds 35 bytes of audio: read
        }
        if l["member"] == "broken.mp3" {
            assert_eq!(l["kind"], "unsupported");
            continue;
        }
        assert_eq!(l["kind"], "too_large", "{l}");
        assert!(
            l["error"]
                .as_str()
                .unwrap()
                .contains("--max-row-group-bytes"),
            "{l}"
        );
    }
}

#[test]
fn shards_and_resume_split_parquet_by_file_as_they_split_tar() {
    let dir = tempfile::tempdir().unwrap();
    shards(dir.path());
    let d = dir.path().to_str().unwrap();
    let key = |v: &serde_json::Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("processing_seconds");
        v.to_string()
    };
    let (_, whole) = scan(&[d, "--jobs", "1"]);
    let mut union = Vec::new();
    for k in 1..=2 {
        let shard = format!("{k}/2");
        union.extend(scan(&[d, "--shard", &shard, "--jobs", "1"]).1);
    }
    let mut a: Vec<String> = whole.iter().map(key).collect();
    let mut b: Vec<String> = union.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);

    // A run stopped after its first three rows, then resumed: the same records, none twice.
    let out_dir = tempfile::tempdir().unwrap();
    let full = out_dir.path().join("full.jsonl");
    scan(&[d, "--jobs", "1", "-o", full.to_str().unwrap()]);
    let expected = fs::read_to_string(&full).unwrap();
    let journal = fs::read_to_string(out_dir.path().join("full.jsonl.journal")).unwrap();
    let kept: Vec<&str> = journal.lines().take(4).collect();
    let last: serde_json::Value = serde_json::from_str(kept[3]).unwrap();
    let partial = out_dir.path().join("partial.jsonl");
    fs::write(
        &partial,
        &expected.as_bytes()[..last["end"].as_u64().unwrap() as usize],
    )
    .unwrap();
    fs::write(
        out_dir.path().join("partial.jsonl.journal"),
        kept.join("\n") + "\n",
    )
    .unwrap();
    let (out, _) = scan(&[
        d,
        "--jobs",
        "1",
        "-o",
        partial.to_str().unwrap(),
        "--resume",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let resumed = fs::read_to_string(&partial).unwrap();
    let sorted = |s: &str| {
        let mut v: Vec<String> = json_lines(s).iter().map(key).collect();
        v.sort();
        v
    };
    assert_eq!(sorted(&resumed), sorted(&expected));
    assert_eq!(resumed.matches("\"provenance\"").count(), 1);
}
