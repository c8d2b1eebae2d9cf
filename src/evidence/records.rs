//! A scan's JSON Lines read back: [`Records`] streams an output line by line, each line
//! classified as a [`Record`] or, when it is not one, counted as a [`BadLine`] with its file and
//! line number (a scan killed mid-line, a file that was edited, another program's output). Each
//! match keeps where its line is ([`LineAt`]), so that its alignment, the bulk of it, is read
//! only when its page is drawn ([`read_alignment`]).

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::matcher::Repeat;
use crate::report::Summary;

/// A line longer than this is no record a scan writes (a match with 200 pairs of 7-digit times
/// and a large manifest entry stays far below): it is skipped unread, and memory stays bounded.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Bad lines named one by one (in the report and on stderr); the rest are counted.
pub const LISTED_BAD_LINES: usize = 20;

/// Where a record's line is: which input, at which byte, how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineAt {
    pub input: u32,
    pub offset: u64,
    pub len: u32,
}

/// A line that is no record, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct BadLine {
    pub path: PathBuf,
    /// 1-based.
    pub line: u64,
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.reason)
    }
}

/// One record of a scan's output.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// What produced the output (`{"provenance": …}`), as written.
    Provenance(Value),
    Summary(Box<Summary>),
    Match(Box<MatchRecord>),
    /// An item scanned whole with nothing found.
    Clean(ItemRecord),
    /// An item that could not be scanned (or, `partial`, not to its end).
    Failure(FailureRecord),
    /// An item skipped though readable (too short to fingerprint).
    Skipped(ItemRecord, String),
}

/// What every item record says of its item.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ItemRecord {
    pub item: String,
    pub member: Option<String>,
    /// Seconds of audio scanned, where the record says.
    pub seconds: Option<f64>,
    pub bytes: Option<u64>,
    pub blake3: Option<String>,
    /// What `--manifest` joined onto it.
    pub dataset: Option<Value>,
}

impl ItemRecord {
    /// The manifest's `id` and `title` for the item, where one joined them.
    pub fn dataset_field(&self, name: &str) -> Option<String> {
        match self.dataset.as_ref()?.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FailureRecord {
    pub about: ItemRecord,
    pub error: String,
    pub kind: String,
    pub partial: bool,
}

/// A match record's fields (its alignment stays in the file: [`read_alignment`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRecord {
    pub about: ItemRecord,
    pub track: String,
    pub external_id: String,
    pub catalogue: Option<Map<String, Value>>,
    pub score: u32,
    /// `evidence`, or for a record written before it existed, `peak_check.evidence`.
    pub evidence: Option<f64>,
    pub peak_check: Option<PeakCheckRecord>,
    pub item_start: f64,
    pub item_end: f64,
    pub track_start: f64,
    pub track_end: f64,
    pub speed: f64,
    pub pitch: f64,
    pub also_at: Vec<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
pub struct PeakCheckRecord {
    pub reference: u32,
    pub matched: u32,
    pub expected: f64,
    pub evidence: f64,
}

/// A match's `alignment`, as records write it.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct AlignmentRecord {
    pub pairs: u32,
    pub item_cs: Vec<u32>,
    pub track_cs: Vec<u32>,
    pub line: FittedLine,
    #[serde(default)]
    pub repeats: Vec<Repeat>,
}

/// Track seconds = `offset` + `speed` × item seconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
pub struct FittedLine {
    pub speed: f64,
    pub offset: f64,
}

/// Every field any record has, for one pass of the parser; which are present says what the
/// record is.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Fields {
    provenance: Option<Value>,
    summary: Option<Value>,
    item: Option<String>,
    member: Option<String>,
    track: Option<String>,
    external_id: Option<String>,
    catalogue: Option<Map<String, Value>>,
    score: Option<u32>,
    evidence: Option<f64>,
    peak_check: Option<PeakCheckRecord>,
    item_start: Option<f64>,
    item_end: Option<f64>,
    track_start: Option<f64>,
    track_end: Option<f64>,
    speed: Option<f64>,
    pitch: Option<f64>,
    also_at: Vec<f64>,
    seconds: Option<f64>,
    bytes: Option<u64>,
    blake3: Option<String>,
    dataset: Option<Value>,
    clean: Option<bool>,
    error: Option<String>,
    kind: Option<String>,
    partial: bool,
    skipped: Option<String>,
}

impl Record {
    /// Parses one line of a scan's JSON Lines output.
    pub fn parse(line: &[u8]) -> std::result::Result<Record, String> {
        let f: Fields = serde_json::from_slice(line).map_err(|e| format!("not a record: {e}"))?;
        if let Some(p) = f.provenance {
            return Ok(Record::Provenance(p));
        }
        if let Some(s) = f.summary {
            return Summary::from_record(&s)
                .map(|s| Record::Summary(Box::new(s)))
                .ok_or_else(|| "a summary record without its audio seconds".to_string());
        }
        let Some(item) = f.item else {
            return Err("a JSON object that is no earmark record (no item)".into());
        };
        let about = ItemRecord {
            item,
            member: f.member,
            seconds: f.seconds,
            bytes: f.bytes,
            blake3: f.blake3,
            dataset: f.dataset,
        };
        if let Some(track) = f.track {
            let (Some(item_start), Some(item_end), Some(track_start), Some(track_end)) =
                (f.item_start, f.item_end, f.track_start, f.track_end)
            else {
                return Err(format!("a match of {track} without its times"));
            };
            return Ok(Record::Match(Box::new(MatchRecord {
                about,
                track,
                external_id: f.external_id.unwrap_or_default(),
                catalogue: f.catalogue,
                score: f.score.unwrap_or(0),
                evidence: f.evidence.or(f.peak_check.map(|c| c.evidence)),
                peak_check: f.peak_check,
                item_start,
                item_end,
                track_start,
                track_end,
                speed: f.speed.unwrap_or(1.0),
                pitch: f.pitch.unwrap_or(0.0),
                also_at: f.also_at,
            })));
        }
        if let Some(error) = f.error {
            return Ok(Record::Failure(FailureRecord {
                about,
                error,
                kind: f.kind.unwrap_or_default(),
                partial: f.partial,
            }));
        }
        if let Some(reason) = f.skipped {
            return Ok(Record::Skipped(about, reason));
        }
        if f.clean == Some(true) {
            return Ok(Record::Clean(about));
        }
        Err("an item record that is neither a match, an error, a skip nor clean".into())
    }
}

/// The records of one scan output, in order, with where each line is; bad lines are kept in
/// `bad` (the first [`LISTED_BAD_LINES`]) and counted in `bad_lines`.
pub struct Records<R> {
    input: R,
    path: PathBuf,
    number: u32,
    offset: u64,
    line: u64,
    buffer: Vec<u8>,
    pub bad_lines: u64,
    pub bad: Vec<BadLine>,
}

impl Records<BufReader<File>> {
    /// Opens input number `number` (its place in the report's list of inputs).
    pub fn open(path: &Path, number: u32) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Records::new(
            BufReader::with_capacity(1 << 20, file),
            path,
            number,
        ))
    }
}

impl<R: BufRead> Records<R> {
    pub fn new(input: R, path: &Path, number: u32) -> Self {
        Records {
            input,
            path: path.to_path_buf(),
            number,
            offset: 0,
            line: 0,
            buffer: Vec::new(),
            bad_lines: 0,
            bad: Vec::new(),
        }
    }

    /// The next record and where its line is; `None` at the end. A line that is no record is
    /// counted as bad and passed over; an error reading the input ends it with that error.
    pub fn next_record(&mut self) -> Result<Option<(Record, LineAt)>> {
        loop {
            let at = self.offset;
            let (len, whole) = self.read_line()?;
            if len == 0 {
                return Ok(None);
            }
            self.line += 1;
            let text = self.buffer.trim_ascii();
            if text.is_empty() {
                continue;
            }
            let parsed = if whole {
                Record::parse(text)
            } else {
                Err(format!(
                    "a line over {} MiB: no record is that long",
                    MAX_LINE_BYTES >> 20
                ))
            };
            match parsed {
                Ok(record) => {
                    let at = LineAt {
                        input: self.number,
                        offset: at,
                        len: self.buffer.len() as u32,
                    };
                    return Ok(Some((record, at)));
                }
                Err(reason) => {
                    // A last line cut short is what a killed scan leaves.
                    let reason = if self.buffer.last() != Some(&b'\n') && whole {
                        format!("{reason} (the last line, cut short?)")
                    } else {
                        reason
                    };
                    self.bad_lines += 1;
                    if self.bad.len() < LISTED_BAD_LINES {
                        self.bad.push(BadLine {
                            path: self.path.clone(),
                            line: self.line,
                            reason,
                        });
                    }
                }
            }
        }
    }

    /// Reads the next line into `buffer`, keeping at most [`MAX_LINE_BYTES`] of it. Returns the
    /// bytes the line took in the input (0 at the end) and whether all of them were kept.
    fn read_line(&mut self) -> Result<(usize, bool)> {
        self.buffer.clear();
        let mut taken = 0;
        loop {
            let available = self
                .input
                .fill_buf()
                .map_err(|e| Error::io(&self.path, e))?;
            if available.is_empty() {
                break;
            }
            let (chunk, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..=i], true),
                None => (available, false),
            };
            let room = (MAX_LINE_BYTES + 1).saturating_sub(self.buffer.len());
            self.buffer
                .extend_from_slice(&chunk[..chunk.len().min(room)]);
            let n = chunk.len();
            self.input.consume(n);
            taken += n;
            if done {
                break;
            }
        }
        self.offset += taken as u64;
        Ok((taken, self.buffer.len() <= MAX_LINE_BYTES))
    }

    /// Where this input is, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.line
    }
}

/// The alignment of the match record at `at` in `input` (open at any place): `None` for a
/// record written before records carried one.
pub fn read_alignment(
    input: &mut File,
    path: &Path,
    at: LineAt,
    buffer: &mut Vec<u8>,
) -> Result<Option<AlignmentRecord>> {
    #[derive(Deserialize)]
    struct Only {
        #[serde(default)]
        alignment: Option<AlignmentRecord>,
    }
    buffer.resize(at.len as usize, 0);
    input
        .seek(SeekFrom::Start(at.offset))
        .and_then(|_| input.read_exact(buffer))
        .map_err(|e| Error::io(path, e))?;
    let only: Only = serde_json::from_slice(buffer.trim_ascii()).map_err(|e| {
        Error::Invalid(format!(
            "{}: the record at byte {} changed since it was read ({e}): was the file rewritten during the report?",
            path.display(),
            at.offset
        ))
    })?;
    Ok(only.alignment)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> (Vec<(Record, LineAt)>, Records<&[u8]>) {
        let mut r = Records::new(text.as_bytes(), Path::new("scan.jsonl"), 0);
        let mut out = Vec::new();
        while let Some(x) = r.next_record().unwrap() {
            out.push(x);
        }
        (out, r)
    }

    #[test]
    fn records_are_told_apart_and_bad_lines_named_by_file_and_line() {
        let text = concat!(
            "{\"provenance\":{\"earmark\":\"0.1.0\"}}\n",
            "{\"item\":\"a.mp3\",\"track\":\"t\",\"score\":9,\"confidence\":1.0,\"item_start\":0.1,\"item_end\":5.0,\"track_start\":3.0,\"track_end\":7.9,\"speed\":1.0,\"pitch\":0.0,\"peak_check\":{\"reference\":9,\"matched\":8,\"expected\":1.5,\"evidence\":9.25},\"alignment\":{\"pairs\":2,\"item_cs\":[10,500],\"track_cs\":[300,790],\"line\":{\"speed\":1.0,\"offset\":2.9}}}\n",
            "\n",
            "not json\n",
            "{\"item\":\"b.mp3\",\"clean\":true,\"seconds\":8.0,\"bytes\":3,\"blake3\":\"ab\"}\n",
            "{\"item\":\"c.mp3\",\"error\":\"empty file\",\"kind\":\"empty\"}\n",
            "{\"item\":\"d.wav\",\"skipped\":\"too_short\",\"seconds\":0.2}\n",
            "{\"colour\":\"red\"}\n",
            "{\"summary\":{\"items\":3,\"audio_seconds\":13.0,\"matches\":1}}\n",
            "{\"item\":\"e.mp3\",\"tra",
        );
        let (records, r) = all(text);
        let kinds: Vec<&str> = records
            .iter()
            .map(|(rec, _)| match rec {
                Record::Provenance(_) => "provenance",
                Record::Match(_) => "match",
                Record::Clean(_) => "clean",
                Record::Failure(_) => "failure",
                Record::Skipped(..) => "skipped",
                Record::Summary(_) => "summary",
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "provenance",
                "match",
                "clean",
                "failure",
                "skipped",
                "summary"
            ]
        );
        let Record::Match(m) = &records[1].0 else {
            unreachable!()
        };
        // A record from before `evidence` existed takes its peak check's.
        assert_eq!((m.evidence, m.score), (Some(9.25), 9));
        assert_eq!(r.bad_lines, 3);
        let named: Vec<String> = r.bad.iter().map(|b| b.to_string()).collect();
        assert!(
            named[0].starts_with("scan.jsonl:4: not a record"),
            "{named:?}"
        );
        assert!(
            named[1].starts_with("scan.jsonl:8: a JSON object"),
            "{named:?}"
        );
        assert!(
            named[2].starts_with("scan.jsonl:10: ")
                && named[2].ends_with("(the last line, cut short?)"),
            "{named:?}"
        );
        // Each record knows its line's place, to read its alignment later.
        let at = records[1].1;
        let line = &text.as_bytes()[at.offset as usize..][..at.len as usize];
        assert!(line.starts_with(b"{\"item\":\"a.mp3\"") && line.ends_with(b"}}\n"));
    }

    #[test]
    fn an_alignment_is_read_back_from_its_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scan.jsonl");
        let text = "{\"provenance\":{}}\n{\"item\":\"a.mp3\",\"track\":\"t\",\"item_start\":0.1,\"item_end\":5.0,\"track_start\":3.0,\"track_end\":7.9,\"alignment\":{\"pairs\":2,\"item_cs\":[10,500],\"track_cs\":[300,790],\"line\":{\"speed\":1.0,\"offset\":2.9},\"repeats\":[{\"item_start\":0.1,\"item_end\":5.0,\"track_start\":20.0,\"track_end\":24.9}]}}\n";
        std::fs::write(&path, text).unwrap();
        let mut records = Records::open(&path, 0).unwrap();
        records.next_record().unwrap();
        let (_, at) = records.next_record().unwrap().unwrap();
        let mut file = File::open(&path).unwrap();
        let a = read_alignment(&mut file, &path, at, &mut Vec::new())
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.pairs, a.item_cs, a.track_cs),
            (2, vec![10, 500], vec![300, 790])
        );
        assert_eq!(
            a.line,
            FittedLine {
                speed: 1.0,
                offset: 2.9
            }
        );
        assert_eq!(a.repeats[0].track_start, 20.0);
    }

    #[test]
    fn a_line_too_long_to_be_a_record_is_passed_over_with_bounded_memory() {
        let long = format!("{{\"item\":\"{}\"}}\n", "x".repeat(MAX_LINE_BYTES + 10));
        let text = format!("{long}{{\"item\":\"b.mp3\",\"clean\":true}}\n");
        let (records, r) = all(&text);
        assert_eq!(records.len(), 1);
        assert_eq!(r.bad_lines, 1);
        assert!(r.bad[0].reason.contains("over 16 MiB"), "{:?}", r.bad);
        assert_eq!(records[0].1.offset, long.len() as u64);
    }
}
