//! Parquet shards as archives whose members are rows: [`read`] turns each row of a Hugging Face
//! audio dataset into an [`Item`], carrying the row's scalar columns ([`DatasetRow`]).
//!
//! An audio column is found by its shape, as the `datasets` library writes its `Audio` feature:
//! a struct `{bytes: binary, path: string}` (encoded audio: MP3, FLAC, …), or the decoded
//! variant `{array: list<float>, sampling_rate: int, path: string}`. The schema's `huggingface`
//! metadata, where present, says which columns are `Audio` and settles a tie; `--audio-column`
//! names one outright. Decoded samples become a 32-bit float WAV in memory, so that every row
//! goes through the one decoding pipeline.
//!
//! Reading is bounded: the footer is refused above [`MAX_FOOTER_BYTES`], a row group whose audio
//! column holds more than [`Limits::max_row_group_bytes`] (as its footer declares it) is refused
//! unread, one error record per row, and a row over `--max-item-bytes` gets its own error. Rows
//! are read a row group at a time, so memory holds one row group's audio at most. A row group
//! that breaks part-way costs one `archive_damaged` record and the file goes on with the next.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use parquet::basic::{Repetition, Type as Physical};
use parquet::file::reader::{FileReader, RowGroupReader};
use parquet::file::serialized_reader::SerializedFileReader;
use parquet::record::{Field, Row};
use parquet::schema::types::{Type, TypePtr};
use serde::{Deserialize, Serialize};

use super::source::{Item, ItemData, Labels, too_big};
use crate::error::{Failure, FailureKind};
use crate::limits::Limits;

/// Largest footer (schema and row group metadata) read, bytes. A 10 GB shard of 100-row
/// groups has a footer of a few MB; a footer that claims more is a damaged or hostile file.
pub const MAX_FOOTER_BYTES: u64 = 128 << 20;

/// Longest text kept from one scalar column of a row, in characters (lyrics and transcripts
/// do not belong in every record).
const MAX_TEXT_CHARS: usize = 1000;

/// Where a dataset row came from: its number in the file (0-based) and its scalar columns.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DatasetRow {
    pub number: u64,
    pub columns: serde_json::Map<String, serde_json::Value>,
}

/// How a column holds its audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `{bytes, path}`: the file's bytes.
    Encoded,
    /// `{array, sampling_rate, path}`: mono samples.
    Decoded,
}

/// The audio column of a shard, found by [`audio_column`].
#[derive(Debug, Clone)]
struct AudioColumn {
    name: String,
    shape: Shape,
    field: TypePtr,
}

/// What a file's schema says: its audio column and its scalar columns (or why none).
struct Layout {
    audio: AudioColumn,
    scalars: Vec<TypePtr>,
}

/// Why a parquet file is not read as a dataset of audio.
pub enum NotAudio {
    /// No column has an audio shape: a metadata table, say.
    NoAudioColumn,
    /// Unreadable, or ambiguous: one error record for the file.
    Failed(Failure),
}

/// Reads the rows of the parquet file at `path` (shown as `shown`) into items, calling `emit`
/// for each; returns `Ok(false)` when `emit` asked to stop. `audio_column` names the column to
/// read where a file has several.
pub fn read(
    path: &Path,
    shown: &str,
    limits: &Limits,
    audio_column: Option<&str>,
    emit: &mut dyn FnMut(Item) -> bool,
) -> Result<bool, NotAudio> {
    let failed = |kind, why: String| NotAudio::Failed(Failure::new(kind, why));
    let mut file = File::open(path)
        .map_err(|e| failed(FailureKind::Unreadable, format!("cannot read: {e}")))?;
    footer_fits(&mut file).map_err(|why| failed(FailureKind::ArchiveDamaged, why))?;
    // The reader is a third party's and the file may be hostile: a panic in it costs this file
    // one record, not the scan.
    let opened = std::panic::catch_unwind(move || SerializedFileReader::new(file));
    let reader = match opened {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            return Err(failed(
                FailureKind::ArchiveDamaged,
                format!("unreadable parquet: {e}"),
            ));
        }
        Err(_) => {
            return Err(failed(
                FailureKind::ArchiveDamaged,
                "unreadable parquet: the reader panicked on its footer".into(),
            ));
        }
    };
    let layout = layout(&reader, audio_column)?;
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_rows(&reader, &layout, shown, limits, emit)
    }));
    match run {
        Ok(go_on) => Ok(go_on),
        Err(_) => Err(failed(
            FailureKind::ArchiveDamaged,
            "the parquet reader panicked part-way: the rows after the last record are lost".into(),
        )),
    }
}

/// Refuses a footer longer than [`MAX_FOOTER_BYTES`] before the reader allocates it.
fn footer_fits(file: &mut File) -> Result<(), String> {
    let mut tail = [0u8; 8];
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len < 12 {
        return Err(format!("a {len}-byte file is too short to be parquet"));
    }
    file.seek(SeekFrom::End(-8))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| format!("cannot read its footer: {e}"))?;
    if &tail[4..] != b"PAR1" {
        return Err("no parquet footer at its end (cut short?)".into());
    }
    let footer = u64::from(u32::from_le_bytes(tail[..4].try_into().expect("4 bytes")));
    if footer > MAX_FOOTER_BYTES || footer + 12 > len {
        return Err(format!(
            "its footer claims {footer} bytes of a {len}-byte file (the limit is {MAX_FOOTER_BYTES})"
        ));
    }
    Ok(())
}

/// Finds the audio column and the scalar columns that travel with each row.
fn layout(reader: &SerializedFileReader<File>, wanted: Option<&str>) -> Result<Layout, NotAudio> {
    let meta = reader.metadata().file_metadata();
    let root = meta.schema_descr().root_schema();
    let declared = hugging_face_audio(meta.key_value_metadata());
    let mut candidates: Vec<AudioColumn> = root
        .get_fields()
        .iter()
        .filter_map(|f| {
            shape(f).map(|shape| AudioColumn {
                name: f.name().to_string(),
                shape,
                field: f.clone(),
            })
        })
        .collect();
    let names = |c: &[AudioColumn]| {
        c.iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let audio = match wanted {
        Some(name) => match candidates.iter().position(|c| c.name == name) {
            Some(i) => candidates.swap_remove(i),
            None => {
                return Err(NotAudio::Failed(Failure::new(
                    FailureKind::Unsupported,
                    format!(
                        "no audio column named {name:?} (--audio-column); its audio columns: {}",
                        if candidates.is_empty() {
                            "none".to_string()
                        } else {
                            names(&candidates)
                        }
                    ),
                )));
            }
        },
        None => {
            if candidates.len() > 1 && declared.iter().any(|d| !d.is_empty()) {
                candidates.retain(|c| declared.contains(&c.name));
            }
            match candidates.len() {
                0 => return Err(NotAudio::NoAudioColumn),
                1 => candidates.remove(0),
                _ => {
                    return Err(NotAudio::Failed(Failure::new(
                        FailureKind::Unsupported,
                        format!(
                            "several audio columns ({}): pick one with --audio-column",
                            names(&candidates)
                        ),
                    )));
                }
            }
        }
    };
    let scalars = root
        .get_fields()
        .iter()
        .filter(|f| {
            f.is_primitive()
                && f.get_basic_info().repetition() != Repetition::REPEATED
                && f.name() != audio.name
        })
        .cloned()
        .collect();
    Ok(Layout { audio, scalars })
}

/// The columns that the `huggingface` metadata declares as `Audio` features.
fn hugging_face_audio(kv: Option<&Vec<parquet::file::metadata::KeyValue>>) -> Vec<String> {
    let Some(text) = kv
        .into_iter()
        .flatten()
        .find(|kv| kv.key == "huggingface")
        .and_then(|kv| kv.value.as_deref())
    else {
        return Vec::new();
    };
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    v.pointer("/info/features")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flatten()
        .filter(|(_, f)| f.get("_type").and_then(serde_json::Value::as_str) == Some("Audio"))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Whether a top-level column has one of the audio shapes.
fn shape(field: &Type) -> Option<Shape> {
    if !field.is_group() || field.get_basic_info().repetition() == Repetition::REPEATED {
        return None;
    }
    let child = |name: &str| field.get_fields().iter().find(|f| f.name() == name);
    let binary = |f: &&TypePtr| f.is_primitive() && f.get_physical_type() == Physical::BYTE_ARRAY;
    if child("bytes").filter(binary).is_some() {
        Some(Shape::Encoded)
    } else if child("array").is_some_and(|a| a.is_group()) && child("sampling_rate").is_some() {
        Some(Shape::Decoded)
    } else {
        None
    }
}

/// The row group's audio bytes as its footer declares them, uncompressed.
fn audio_bytes(group: &dyn RowGroupReader, audio: &str) -> u64 {
    group
        .metadata()
        .columns()
        .iter()
        .filter(|c| c.column_path().parts().first().map(String::as_str) == Some(audio))
        .map(|c| u64::try_from(c.uncompressed_size()).unwrap_or(u64::MAX))
        .fold(0u64, u64::saturating_add)
}

fn read_rows(
    reader: &SerializedFileReader<File>,
    layout: &Layout,
    shown: &str,
    limits: &Limits,
    emit: &mut dyn FnMut(Item) -> bool,
) -> bool {
    let mut labels = Labels::default();
    let mut first_row = 0u64;
    let audio = &layout.audio;
    for g in 0..reader.num_row_groups() {
        let rows = u64::try_from(reader.metadata().row_group(g).num_rows()).unwrap_or(0);
        let group = match reader.get_row_group(g) {
            Ok(group) => group,
            Err(e) => {
                let label = labels.unique(format!("row group {g}"));
                if !emit(damaged(shown, label, first_row, rows, &e.to_string())) {
                    return false;
                }
                first_row += rows;
                continue;
            }
        };
        let declared = audio_bytes(group.as_ref(), &audio.name);
        let refused = (declared > limits.max_row_group_bytes).then(|| {
            Failure::new(
                FailureKind::TooLarge,
                format!(
                    "its row group {g} holds {declared} bytes of audio, over the limit of {} bytes (raise it with --max-row-group-bytes)",
                    limits.max_row_group_bytes
                ),
            )
        });
        // A refused group is still listed row by row, from its small columns alone, so that
        // each row has its record under the label it would have had.
        let projection = match &refused {
            Some(_) => path_only(audio),
            None => Some(audio.field.clone()),
        };
        let schema = Type::group_type_builder("schema")
            .with_fields(
                projection
                    .into_iter()
                    .chain(layout.scalars.iter().cloned())
                    .collect(),
            )
            .build();
        let rows_iter = schema.and_then(|s| group.get_row_iter(Some(s)));
        let mut rows_iter = match rows_iter {
            Ok(it) => it,
            Err(e) => {
                let label = labels.unique(format!("row group {g}"));
                if !emit(damaged(shown, label, first_row, rows, &e.to_string())) {
                    return false;
                }
                first_row += rows;
                continue;
            }
        };
        for (number, row) in (first_row..).zip(&mut rows_iter) {
            let item = match row {
                Ok(row) => row_item(shown, &row, number, audio, &mut labels, limits, &refused),
                Err(e) => {
                    let label = labels.unique(format!("row group {g}"));
                    let left = first_row + rows - number;
                    if !emit(damaged(shown, label, number, left, &e.to_string())) {
                        return false;
                    }
                    break;
                }
            };
            if !emit(item) {
                return false;
            }
        }
        first_row += rows;
    }
    true
}

/// The audio column with only its `path`, to label rows without reading their audio.
fn path_only(audio: &AudioColumn) -> Option<TypePtr> {
    let path = audio
        .field
        .get_fields()
        .iter()
        .find(|f| f.name() == "path")?;
    Type::group_type_builder(&audio.name)
        .with_repetition(audio.field.get_basic_info().repetition())
        .with_fields(vec![path.clone()])
        .build()
        .ok()
        .map(Arc::new)
}

fn damaged(shown: &str, label: String, from: u64, rows: u64, why: &str) -> Item {
    Item {
        item: shown.to_string(),
        member: Some(label),
        data: ItemData::Failed(Failure::new(
            FailureKind::ArchiveDamaged,
            format!(
                "rows {from} to {} are unreadable: {why}",
                from + rows.saturating_sub(1)
            ),
        )),
        row: None,
    }
}

/// One row as an item: its audio (or why there is none), its label and its scalar columns.
fn row_item(
    shown: &str,
    row: &Row,
    number: u64,
    audio: &AudioColumn,
    labels: &mut Labels,
    limits: &Limits,
    refused: &Option<Failure>,
) -> Item {
    let mut columns = serde_json::Map::new();
    let mut cell = None;
    for (name, field) in row.get_column_iter() {
        if *name == audio.name {
            cell = Some(field);
        } else {
            columns.insert(name.clone(), json(field));
        }
    }
    let group = match cell {
        Some(Field::Group(g)) => Some(g),
        _ => None,
    };
    let part = |name: &str| {
        group.and_then(|g| {
            g.get_column_iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, f)| f)
        })
    };
    let path = match part("path") {
        Some(Field::Str(s)) if !s.is_empty() => Some(s.clone()),
        Some(Field::Bytes(b)) if !b.data().is_empty() => {
            Some(String::from_utf8_lossy(b.data()).into_owned())
        }
        _ => None,
    };
    let label = labels.unique(path.unwrap_or_else(|| format!("row {number}")));
    let data = match refused {
        Some(failure) => ItemData::Failed(failure.clone()),
        None => match audio.shape {
            Shape::Encoded => encoded(part("bytes"), limits),
            Shape::Decoded => decoded(part("array"), part("sampling_rate"), limits),
        },
    };
    Item {
        item: shown.to_string(),
        member: Some(label),
        data,
        row: Some(DatasetRow { number, columns }),
    }
}

fn encoded(bytes: Option<&Field>, limits: &Limits) -> ItemData {
    let bytes = match bytes {
        Some(Field::Bytes(b)) => b.data(),
        Some(Field::Str(s)) => s.as_bytes(),
        _ => {
            return ItemData::Failed(Failure::new(
                FailureKind::Empty,
                "the row's audio bytes are null",
            ));
        }
    };
    if bytes.len() as u64 > limits.max_item_bytes {
        return ItemData::Failed(Failure::new(
            FailureKind::TooLarge,
            too_big(bytes.len() as u64, limits),
        ));
    }
    ItemData::Bytes(bytes.to_vec())
}

/// Decoded samples as a mono 32-bit float WAV, which the decoder reads like any other file.
fn decoded(array: Option<&Field>, rate: Option<&Field>, limits: &Limits) -> ItemData {
    let corrupt = |why: &str| ItemData::Failed(Failure::new(FailureKind::Corrupt, why));
    let rate = match rate {
        Some(Field::Int(r)) => i64::from(*r),
        Some(Field::Long(r)) => *r,
        _ => return corrupt("the row's sampling_rate is missing"),
    };
    let Some(rate) = u32::try_from(rate)
        .ok()
        .filter(|r| (1000..=768_000).contains(r))
    else {
        return corrupt("the row's sampling_rate is outside 1 kHz to 768 kHz");
    };
    let Some(Field::ListInternal(list)) = array else {
        return corrupt("the row's audio array is null");
    };
    let bytes = 44 + 4 * list.len() as u64;
    if bytes > limits.max_item_bytes {
        return ItemData::Failed(Failure::new(FailureKind::TooLarge, too_big(bytes, limits)));
    }
    let mut samples = Vec::with_capacity(list.len());
    for f in list.elements() {
        samples.push(match f {
            Field::Float(x) => *x,
            Field::Double(x) => *x as f32,
            Field::Null => 0.0,
            _ => return corrupt("the row's audio array holds something other than numbers"),
        });
    }
    ItemData::Bytes(float_wav(&samples, rate))
}

/// A mono IEEE-float WAV of `samples` at `rate` Hz.
pub fn float_wav(samples: &[f32], rate: u32) -> Vec<u8> {
    let data = (samples.len() * 4) as u32;
    let mut w = Vec::with_capacity(44 + samples.len() * 4);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&3u16.to_le_bytes()); // WAVE_FORMAT_IEEE_FLOAT
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&rate.to_le_bytes());
    w.extend_from_slice(&(rate * 4).to_le_bytes());
    w.extend_from_slice(&4u16.to_le_bytes());
    w.extend_from_slice(&32u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

/// A parquet value as JSON: numbers, text (cut at [`MAX_TEXT_CHARS`]), lists and groups;
/// binary that is not text is left out as `null`.
pub fn json(field: &Field) -> serde_json::Value {
    use serde_json::Value;
    match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(n) => (*n).into(),
        Field::Short(n) => (*n).into(),
        Field::Int(n) => (*n).into(),
        Field::Long(n) => (*n).into(),
        Field::UByte(n) => (*n).into(),
        Field::UShort(n) => (*n).into(),
        Field::UInt(n) => (*n).into(),
        Field::ULong(n) => (*n).into(),
        Field::Float16(x) => f64::from(f32::from(*x)).into(),
        Field::Float(x) => f64::from(*x).into(),
        Field::Double(x) => (*x).into(),
        Field::Str(s) => text(s),
        Field::Bytes(b) => std::str::from_utf8(b.data()).map_or(Value::Null, text),
        Field::Date(d) => (*d).into(),
        Field::TimestampMillis(t) => (*t).into(),
        Field::TimestampMicros(t) => (*t).into(),
        Field::ListInternal(list) => Value::Array(list.elements().iter().map(json).collect()),
        Field::Group(row) => Value::Object(
            row.get_column_iter()
                .map(|(k, v)| (k.clone(), json(v)))
                .collect(),
        ),
        _ => Value::String(field.to_string()),
    }
}

fn text(s: &str) -> serde_json::Value {
    if s.chars().count() <= MAX_TEXT_CHARS {
        return s.into();
    }
    let mut cut: String = s.chars().take(MAX_TEXT_CHARS - 1).collect();
    cut.push('…');
    cut.into()
}
