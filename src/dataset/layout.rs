//! The metadata layouts that real datasets ship, recognised by their columns ([`Layout`]), and
//! how each names an entry ([`Layout::keys`]) and says its title, artist and album.
//!
//! - FMA `tracks.csv`: two header rows (`album,…,track,…` over `title,…`) and a third row
//!   `track_id`; the key is the track id, which an audio file's name pads (`000/000002.mp3`).
//! - MTG-Jamendo `raw_30s_cleantags.tsv` and `raw.meta.tsv`: tab-separated with CRLF lines,
//!   `TRACK_ID` as `track_0000948` for the file `48/948.mp3`; tags are extra columns.
//! - LAION-DISCO-12M parquet: `song_id` is the YouTube video id that downloads are named by.
//! - Sleeping-DISCO-9M JSON Lines: `youtube_links` lists the videos of a Genius song entry.
//! - Anything else: a table whose key column is the first of [`KEY_COLUMNS`] it has, else its
//!   first column.

use serde_json::{Map, Value};

/// Key columns of tables without a known layout, in order of preference.
pub const KEY_COLUMNS: &[&str] = &["id", "track_id", "song_id", "video_id", "key", "path"];

/// A manifest's layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Fma,
    Jamendo,
    LaionDisco,
    SleepingDisco,
    /// A table of unknown origin.
    Table,
}

impl Layout {
    pub fn name(self) -> &'static str {
        match self {
            Layout::Fma => "fma",
            Layout::Jamendo => "mtg-jamendo",
            Layout::LaionDisco => "laion-disco",
            Layout::SleepingDisco => "sleeping-disco",
            Layout::Table => "table",
        }
    }

    /// The layout of a table with these column names.
    pub fn of_columns(columns: &[String]) -> Layout {
        let has = |c: &str| columns.iter().any(|n| n == c);
        if has("track.title") && columns.first().is_some_and(|c| c == "track_id") {
            Layout::Fma
        } else if columns.first().is_some_and(|c| c == "TRACK_ID") {
            Layout::Jamendo
        } else if has("song_id") && has("artist_names") {
            Layout::LaionDisco
        } else if has("youtube_links") {
            Layout::SleepingDisco
        } else {
            Layout::Table
        }
    }

    /// The column a parquet row of the dump holds this manifest's key in, if it has one.
    pub fn key_column(self, columns: &[String]) -> String {
        match self {
            Layout::Fma => "track_id".into(),
            Layout::Jamendo => "TRACK_ID".into(),
            Layout::LaionDisco => "song_id".into(),
            Layout::SleepingDisco => "video_id".into(),
            Layout::Table => KEY_COLUMNS
                .iter()
                .find(|k| columns.iter().any(|c| c == *k))
                .map(|k| k.to_string())
                .or_else(|| columns.first().cloned())
                .unwrap_or_default(),
        }
    }

    /// The keys an entry is known by (normalised with [`Layout::normal`]).
    pub fn keys(self, entry: &Map<String, Value>, key_column: &str) -> Vec<String> {
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        let raw: Vec<String> = match self {
            Layout::SleepingDisco => entry
                .get("youtube_links")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter_map(video_id)
                .collect(),
            _ => entry.get(key_column).and_then(text).into_iter().collect(),
        };
        raw.iter()
            .map(|k| self.normal(k))
            .filter(|k| !k.is_empty())
            .collect()
    }

    /// A key as entries and items are compared: trimmed, Jamendo's `track_` dropped, and a
    /// number without its leading zeros (FMA's `000002.mp3` is track 2).
    pub fn normal(self, raw: &str) -> String {
        let mut key = raw.trim();
        if self == Layout::Jamendo {
            key = key.strip_prefix("track_").unwrap_or(key);
        }
        if !key.is_empty() && key.bytes().all(|b| b.is_ascii_digit()) {
            let trimmed = key.trim_start_matches('0');
            return if trimmed.is_empty() { "0" } else { trimmed }.to_string();
        }
        key.to_string()
    }

    /// The entry as records show it: `id`, `title`, `artist`, `album` first where the layout
    /// has them, then every other non-empty column under its own name.
    pub fn record(self, entry: Map<String, Value>, key_column: &str) -> Map<String, Value> {
        let names: &[(&str, &[&str])] = match self {
            Layout::Fma => &[
                ("title", &["track.title"]),
                ("artist", &["artist.name"]),
                ("album", &["album.title"]),
            ],
            Layout::Jamendo => &[
                ("title", &["TRACK_NAME"]),
                ("artist", &["ARTIST_NAME", "ARTIST_ID"]),
                ("album", &["ALBUM_NAME", "ALBUM_ID"]),
            ],
            Layout::LaionDisco => &[
                ("title", &["title"]),
                ("artist", &["artist_names"]),
                ("album", &["album_name"]),
            ],
            Layout::SleepingDisco => &[
                ("title", &["title", "song_title"]),
                ("artist", &["primary_artist"]),
                ("album", &["album_name"]),
            ],
            Layout::Table => &[],
        };
        let mut out = Map::new();
        let id = match self {
            Layout::SleepingDisco => entry.get("song_id").or_else(|| entry.get("song_url")),
            _ => entry.get(key_column),
        };
        if let Some(id) = id {
            out.insert("id".into(), id.clone());
        }
        for (canonical, sources) in names {
            if let Some(v) = sources
                .iter()
                .find_map(|s| entry.get(*s))
                .filter(|v| !empty(v))
            {
                let v = match v {
                    // LAION-DISCO's artists are a list: one string reads better.
                    Value::Array(a) => Value::String(
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    v => v.clone(),
                };
                out.insert((*canonical).into(), v);
            }
        }
        for (k, v) in entry {
            if !empty(&v) && !out.contains_key(&k) {
                out.insert(k, v);
            }
        }
        out
    }
}

fn empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The video id of a YouTube link (`watch?v=ID`, `youtu.be/ID`, `/shorts/ID`, `/embed/ID`),
/// or the text itself when it is a bare id.
pub fn video_id(link: &str) -> Option<String> {
    let is_id = |s: &str| {
        s.len() == 11
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if is_id(link) {
        return Some(link.to_string());
    }
    let after = |marker: &str| {
        link.find(marker)
            .map(|i| &link[i + marker.len()..])
            .map(|rest| rest.split(['&', '?', '/', '#']).next().unwrap_or(""))
    };
    ["v=", "youtu.be/", "/shorts/", "/embed/"]
        .iter()
        .filter_map(|m| after(m))
        .find(|id| is_id(id))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_compare_as_the_datasets_name_files() {
        assert_eq!(Layout::Fma.normal("000002"), "2");
        assert_eq!(Layout::Fma.normal("2"), "2");
        assert_eq!(Layout::Jamendo.normal("track_0000948"), "948");
        assert_eq!(Layout::Jamendo.normal("948"), "948");
        assert_eq!(Layout::Table.normal(" 000 "), "0");
        assert_eq!(Layout::LaionDisco.normal("0Jq2x_7Gd3s"), "0Jq2x_7Gd3s");
        for link in [
            "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=3",
            "https://youtu.be/dQw4w9WgXcQ",
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "dQw4w9WgXcQ",
        ] {
            assert_eq!(video_id(link).as_deref(), Some("dQw4w9WgXcQ"), "{link}");
        }
        assert_eq!(video_id("https://genius.com/some-song-lyrics"), None);
    }
}
