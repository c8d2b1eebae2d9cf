//! Datasets as they ship: a [`Manifest`] is a dataset's metadata (CSV, TSV, JSON Lines or
//! parquet, in one of the [`Layout`]s real datasets use), and a [`Join`] attaches its entries
//! to the records of the items a scan sees, by a key derived from each item ([`ItemKey`]).
//!
//! An item's key is, in order: what `--manifest-key`'s pattern captures from its member name
//! (or path), a parquet row's column of the manifest's key name, or its file or member stem
//! (`000/000002.mp3` → `000002`, the video id a download was named by). Keys compare after
//! [`Layout::normal`], so FMA's padded names meet its plain track ids.
//!
//! A manifest is held in memory as one compact JSON text per entry and a sorted key table:
//! about the size of its JSON Lines form.

mod layout;
pub mod table;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

pub use layout::{KEY_COLUMNS, Layout, video_id};
use table::{Delimiter, Records};

use crate::error::{Error, Result};
use crate::report::Outcome;
use crate::scan::parquet::DatasetRow;

/// A dataset's metadata, keyed as its audio files are named.
#[derive(Debug)]
pub struct Manifest {
    pub path: PathBuf,
    pub layout: Layout,
    /// The column a parquet row of the dump holds the key in.
    pub key_column: String,
    /// Each entry as records show it, compact JSON.
    entries: Vec<Box<str>>,
    /// `(normalised key, entry)`, sorted by key; a key given twice keeps its first entry.
    keys: Vec<(Box<str>, u32)>,
    /// Entries that shared a key with an earlier one.
    pub duplicate_keys: u64,
}

impl Manifest {
    /// Reads a manifest: `.parquet` by its content, `.jsonl`/`.json`/`.ndjson` as JSON Lines,
    /// anything else as CSV or TSV (FMA's two header rows recognised).
    pub fn open(path: &Path) -> Result<Manifest> {
        let name = path.display().to_string();
        let lower = name.to_ascii_lowercase();
        let rows = if lower.ends_with(".parquet") {
            parquet_rows(path)?
        } else if [".jsonl", ".json", ".ndjson"]
            .iter()
            .any(|e| lower.ends_with(e))
        {
            json_lines(path)?
        } else {
            table_rows(path)?
        };
        let layout = Layout::of_columns(&rows.columns);
        let key_column = layout.key_column(&rows.columns);
        let mut entries = Vec::with_capacity(rows.entries.len());
        let mut keys = Vec::with_capacity(rows.entries.len());
        for entry in rows.entries {
            let n = u32::try_from(entries.len())
                .map_err(|_| Error::Invalid(format!("{name}: more than 4,294,967,295 entries")))?;
            for key in layout.keys(&entry, &key_column) {
                keys.push((key.into_boxed_str(), n));
            }
            let record = layout.record(entry, &key_column);
            entries.push(Value::Object(record).to_string().into_boxed_str());
        }
        // Stable: among equal keys the first entry stays first.
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let before = keys.len();
        keys.dedup_by(|later, first| later.0 == first.0);
        if entries.is_empty() {
            return Err(Error::Invalid(format!(
                "{name}: the manifest has no entries"
            )));
        }
        Ok(Manifest {
            path: path.to_path_buf(),
            layout,
            key_column,
            entries,
            duplicate_keys: (before - keys.len()) as u64,
            keys,
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry of a key (as [`ItemKey::of`] derives it), by number.
    pub fn find(&self, key: &str) -> Option<usize> {
        let key = self.layout.normal(key);
        self.keys
            .binary_search_by(|(k, _)| k.as_ref().cmp(key.as_str()))
            .ok()
            .map(|i| self.keys[i].1 as usize)
    }

    /// Entry `n` as records show it.
    pub fn entry(&self, n: usize) -> Map<String, Value> {
        match serde_json::from_str(&self.entries[n]) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    /// What a provenance record says of this manifest.
    pub fn describe(&self) -> Value {
        serde_json::json!({
            "path": self.path.display().to_string(),
            "layout": self.layout.name(),
            "entries": self.entries.len(),
            "key": self.key_column,
        })
    }
}

/// How an item's key is derived when the default (its stem) will not do: `--manifest-key`.
#[derive(Debug, Clone, Default)]
pub struct ItemKey {
    pattern: Option<regex_lite::Regex>,
}

impl ItemKey {
    /// A key from `pattern`'s first capture group (or whole match) over the member name or
    /// path; refuses a pattern that does not compile.
    pub fn pattern(pattern: &str) -> Result<ItemKey> {
        let pattern = regex_lite::Regex::new(pattern)
            .map_err(|e| Error::Invalid(format!("--manifest-key {pattern:?}: {e}")))?;
        Ok(ItemKey {
            pattern: Some(pattern),
        })
    }

    /// The key of an item for a manifest whose key column is `key_column`.
    pub fn of(
        &self,
        item: &str,
        member: Option<&str>,
        row: Option<&DatasetRow>,
        key_column: &str,
    ) -> Option<String> {
        let name = member.unwrap_or(item);
        if let Some(p) = &self.pattern {
            let caps = p.captures(name)?;
            return caps
                .get(1)
                .or_else(|| caps.get(0))
                .map(|m| m.as_str().to_string());
        }
        let column = row
            .and_then(|r| r.columns.get(key_column))
            .and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
        column.or_else(|| {
            let file = name.rsplit('/').next().unwrap_or(name);
            let stem = match file.rsplit_once('.') {
                Some((stem, _)) if !stem.is_empty() => stem,
                _ => file,
            };
            (!stem.is_empty()).then(|| stem.to_string())
        })
    }
}

/// Manifests joined onto a scan's records.
#[derive(Debug)]
pub struct Join {
    pub manifests: Vec<Manifest>,
    pub key: ItemKey,
}

impl Join {
    /// Sets the outcome's `dataset` to what the manifests say of its item (the first manifest
    /// first, where two give one field); returns whether any knew it.
    pub fn join(&self, outcome: &mut Outcome) -> bool {
        let mut joined: Option<Map<String, Value>> = None;
        for m in &self.manifests {
            let key = self.key.of(
                &outcome.item,
                outcome.member.as_deref(),
                outcome.row.as_ref(),
                &m.key_column,
            );
            let Some(n) = key.and_then(|k| m.find(&k)) else {
                continue;
            };
            let into = joined.get_or_insert_with(Map::new);
            for (k, v) in m.entry(n) {
                into.entry(k).or_insert(v);
            }
        }
        let known = joined.is_some();
        outcome.dataset = joined.map(Value::Object);
        known
    }
}

/// A manifest's entries before they are keyed, with its column names.
struct Rows {
    columns: Vec<String>,
    entries: Vec<Map<String, Value>>,
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

fn table_rows(path: &Path) -> Result<Rows> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut input = BufReader::new(file);
    let first = {
        let buf = input.fill_buf().map_err(io_error(path))?;
        let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    };
    let delimiter = Delimiter::guess(&path.display().to_string(), &first);
    let mut records = Records::new(input, delimiter);
    let next = |r: &mut Records<BufReader<std::fs::File>>| r.next_record().map_err(io_error(path));
    let Some(header) = next(&mut records)? else {
        return Err(Error::Invalid(format!(
            "{}: empty manifest",
            path.display()
        )));
    };
    let mut columns: Vec<String> = header.iter().map(|c| c.trim().to_string()).collect();
    let mut pending = None;
    // FMA: a second header row under the first (both open with an empty cell), then a row
    // that names the index column.
    if columns.first().is_some_and(String::is_empty) {
        match next(&mut records)? {
            Some(second) if second.first().is_some_and(String::is_empty) => {
                let mut top = String::new();
                columns = columns
                    .iter()
                    .zip(second.iter().chain(std::iter::repeat(&String::new())))
                    .map(|(a, b)| {
                        if !a.is_empty() {
                            top = a.clone();
                        }
                        if b.is_empty() {
                            a.clone()
                        } else {
                            format!("{top}.{b}")
                        }
                    })
                    .collect();
                match next(&mut records)? {
                    Some(third)
                        if third.first().is_some_and(|f| !f.is_empty())
                            && third.iter().skip(1).all(String::is_empty) =>
                    {
                        columns[0] = third[0].clone();
                    }
                    other => pending = other,
                }
            }
            other => pending = other,
        }
    }
    let mut entries = Vec::new();
    let mut push = |fields: Vec<String>| {
        if fields.iter().all(|f| f.trim().is_empty()) {
            return;
        }
        let mut entry = Map::new();
        let mut extra = Vec::new();
        for (i, f) in fields.into_iter().enumerate() {
            match columns.get(i) {
                Some(name) => {
                    entry.insert(name.clone(), Value::String(f));
                }
                // MTG-Jamendo's tags run on past the header, one column each.
                None if !f.is_empty() => extra.push(Value::String(f)),
                None => {}
            }
        }
        if !extra.is_empty() {
            let tags = entry
                .entry("TAGS")
                .or_insert_with(|| Value::Array(Vec::new()));
            match tags {
                Value::Array(a) => a.extend(extra),
                Value::String(first) => {
                    let mut all = vec![Value::String(std::mem::take(first))];
                    all.extend(extra);
                    *tags = Value::Array(all);
                }
                _ => {}
            }
        }
        entries.push(entry);
    };
    if let Some(fields) = pending {
        push(fields);
    }
    while let Some(fields) = next(&mut records)? {
        push(fields);
    }
    Ok(Rows { columns, entries })
}

fn json_lines(path: &Path) -> Result<Rows> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut columns: Vec<String> = Vec::new();
    let mut entries = Vec::new();
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io_error(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let entry: Map<String, Value> = serde_json::from_str(&line).map_err(|e| {
            Error::Invalid(format!(
                "{}:{}: not a JSON object: {e}",
                path.display(),
                n + 1
            ))
        })?;
        for k in entry.keys() {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        entries.push(entry);
    }
    Ok(Rows { columns, entries })
}

fn parquet_rows(path: &Path) -> Result<Rows> {
    use parquet::file::reader::FileReader;
    let bad = |e: String| Error::Invalid(format!("{}: unreadable parquet: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(file)
        .map_err(|e| bad(e.to_string()))?;
    let columns = reader
        .metadata()
        .file_metadata()
        .schema_descr()
        .root_schema()
        .get_fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let mut entries = Vec::new();
    for row in reader.get_row_iter(None).map_err(|e| bad(e.to_string()))? {
        let row = row.map_err(|e| bad(e.to_string()))?;
        entries.push(
            row.get_column_iter()
                .map(|(k, v)| (k.clone(), crate::scan::parquet::json(v)))
                .collect(),
        );
    }
    Ok(Rows { columns, entries })
}
