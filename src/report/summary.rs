//! A scan's totals: [`Summary`], in which every file the scan saw is counted once, as an item
//! scanned, an item failed (by [`FailureKind`]) or a file skipped (by [`Skip`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Outcome;
use crate::error::{Failure, FailureKind};

/// Why a file or archive member was not scanned, though it is no failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Neither audio nor an archive, by its name or its bytes (a WebDataset `.json`, a
    /// gzipped changelog).
    NotAudio,
    /// A format earmark did not read (Parquet, before it was read): kept so that `earmark merge`
    /// still reads the summaries of those scans.
    Unsupported,
    /// Audio shorter than a fingerprint needs (a sound effect).
    TooShort,
    /// Scanned by the run that `--resume` continues.
    DoneBefore,
    /// Owned by another `--shard`.
    OtherShard,
}

impl Skip {
    pub fn describe(self) -> &'static str {
        match self {
            Skip::NotAudio => "not audio",
            Skip::Unsupported => "of a format not read yet",
            Skip::TooShort => "too short to fingerprint",
            Skip::DoneBefore => "done before (--resume)",
            Skip::OtherShard => "in other shards",
        }
    }
}

/// Failed items listed by name on standard error; the rest are counted.
pub const LISTED_FAILURES: usize = 20;

/// Totals of a scan. Every file seen is one of: an item scanned (`items`, warnings among
/// them), an item failed, or a file skipped.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Summary {
    /// Items whose audio was fingerprinted and matched, in whole or (warnings) in part.
    pub items: u64,
    /// Seconds of audio scanned.
    pub seconds: f64,
    pub matches: u64,
    pub items_with_matches: u64,
    /// Items that could not be scanned, by kind.
    pub failed: BTreeMap<FailureKind, u64>,
    /// Items scanned only in part (a cut file, one past `--max-seconds`), by kind.
    pub warnings: BTreeMap<FailureKind, u64>,
    /// Files and members not scanned, by reason.
    pub skipped: BTreeMap<Skip, u64>,
    /// Files skipped as not audio, by extension (`""` for none), to say what they were.
    pub not_audio: BTreeMap<String, u64>,
    /// The first [`LISTED_FAILURES`] failed items: `name: message (kind)`.
    pub first_failures: Vec<String>,
    /// Bytes of items read.
    pub bytes: u64,
    pub wall_seconds: f64,
    /// `K/N` where the scan was one `--shard` of a dump.
    pub shard: Option<String>,
    /// When the scan finished, UTC (RFC 3339).
    pub finished: Option<String>,
    /// Items joined to a `--manifest` entry and items no manifest knows; `None` without one.
    pub dataset: Option<DatasetCounts>,
}

/// How many items the `--manifest` files knew.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DatasetCounts {
    /// Items with an entry in a manifest.
    pub joined: u64,
    /// Items that no manifest knows (their key is in the records: `dataset` is absent).
    pub not_in_manifest: u64,
}

impl Summary {
    /// Counts one item's join: `true` when a manifest knew it.
    pub fn add_join(&mut self, joined: bool) {
        let counts = self.dataset.get_or_insert_with(DatasetCounts::default);
        if joined {
            counts.joined += 1;
        } else {
            counts.not_in_manifest += 1;
        }
    }

    /// Counts one item's outcome.
    pub fn add(&mut self, o: &Outcome) {
        self.bytes += o.bytes;
        self.add_item(
            o.skipped,
            o.failure.as_ref().map(|f| (f, o.partial)),
            o.seconds,
            o.found.len() as u64,
            || o.name(),
        );
    }

    /// Counts one item: skipped, failed (a failure that is not `partial`), or scanned (in part
    /// with a partial failure) with `seconds` of audio and `matches`.
    pub fn add_item(
        &mut self,
        skipped: Option<Skip>,
        failure: Option<(&Failure, bool)>,
        seconds: f64,
        matches: u64,
        name: impl FnOnce() -> String,
    ) {
        if let Some(reason) = skipped {
            self.skip(reason, 1);
            return;
        }
        match failure {
            Some((f, false)) => {
                *self.failed.entry(f.kind).or_default() += 1;
                if self.first_failures.len() < LISTED_FAILURES {
                    self.first_failures.push(format!("{}: {f}", name()));
                }
                return;
            }
            Some((f, true)) => *self.warnings.entry(f.kind).or_default() += 1,
            None => {}
        }
        self.items += 1;
        self.seconds += seconds;
        self.matches += matches;
        self.items_with_matches += u64::from(matches > 0);
    }

    pub fn skip(&mut self, reason: Skip, n: u64) {
        if n > 0 {
            *self.skipped.entry(reason).or_default() += n;
        }
    }

    /// Adds another run's totals (an interrupted run that `--resume` continues, or a shard).
    pub fn merge(&mut self, other: &Summary) {
        self.items += other.items;
        self.seconds += other.seconds;
        self.matches += other.matches;
        self.items_with_matches += other.items_with_matches;
        for (into, from) in [
            (&mut self.failed, &other.failed),
            (&mut self.warnings, &other.warnings),
        ] {
            for (k, n) in from {
                *into.entry(*k).or_default() += n;
            }
        }
        for (k, n) in &other.skipped {
            self.skip(*k, *n);
        }
        for (k, n) in &other.not_audio {
            *self.not_audio.entry(k.clone()).or_default() += n;
        }
        let room = LISTED_FAILURES.saturating_sub(self.first_failures.len());
        self.first_failures
            .extend(other.first_failures.iter().take(room).cloned());
        self.bytes += other.bytes;
        if let Some(theirs) = other.dataset {
            let ours = self.dataset.get_or_insert_with(DatasetCounts::default);
            ours.joined += theirs.joined;
            ours.not_in_manifest += theirs.not_in_manifest;
        }
        if other.finished > self.finished {
            self.finished = other.finished.clone();
        }
    }

    pub fn failures(&self) -> u64 {
        self.failed.values().sum()
    }

    /// Files of any kind the scan saw.
    pub fn files_seen(&self) -> u64 {
        self.items + self.failures() + self.skipped.values().sum::<u64>()
    }

    /// The summary for people: one paragraph, then the failed items (at most
    /// [`LISTED_FAILURES`], then a count).
    pub fn describe(&self) -> String {
        let speed = if self.wall_seconds > 0.0 {
            format!(", {:.0}x real time", self.seconds / self.wall_seconds)
        } else {
            String::new()
        };
        let mut text = format!(
            "{} scanned ({:.2} hours of audio) in {:.1} s{speed}: {} in {}",
            count(self.items, "item", "items"),
            self.seconds / 3600.0,
            self.wall_seconds,
            count(self.matches, "match", "matches"),
            count(self.items_with_matches, "item", "items"),
        );
        if !self.warnings.is_empty() {
            text += &format!(
                "; {} scanned in part ({})",
                count(self.warnings.values().sum(), "item", "items"),
                by_kind(&self.warnings)
            );
        }
        if !self.failed.is_empty() {
            text += &format!(
                "; {} failed ({})",
                count(self.failures(), "item", "items"),
                by_kind(&self.failed)
            );
        }
        if !self.skipped.is_empty() {
            text += &format!("; skipped: {}", self.skipped_reasons());
        }
        if !self.first_failures.is_empty() {
            text += "\nfailed:";
            for line in &self.first_failures {
                text += "\n  ";
                text += line;
            }
            let more = self
                .failures()
                .saturating_sub(self.first_failures.len() as u64);
            if more > 0 {
                text += &format!("\n  … and {more} more (see their error records)");
            }
        }
        text
    }

    /// `120 not audio (.json 120), 3 too short to fingerprint`.
    pub fn skipped_reasons(&self) -> String {
        self.skipped
            .iter()
            .map(|(reason, n)| match reason {
                Skip::NotAudio if !self.not_audio.is_empty() => {
                    format!("{n} {} ({})", reason.describe(), self.not_audio_kinds())
                }
                _ => format!("{n} {}", reason.describe()),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why a walk found no audio at all, for the error that says so.
    pub fn nothing_found(&self) -> String {
        let skipped: u64 = self.skipped.values().sum();
        if skipped == 0 {
            "no audio found: the inputs hold no files".into()
        } else {
            format!(
                "no audio found: {} skipped, {}",
                count(skipped, "file", "files"),
                self.skipped_reasons()
            )
        }
    }

    /// `.json 120, .txt 3, no extension 1`: the commonest extensions first, at most six.
    pub fn not_audio_kinds(&self) -> String {
        let mut kinds: Vec<(&String, &u64)> = self.not_audio.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut parts: Vec<String> = kinds
            .iter()
            .take(6)
            .map(|(ext, n)| {
                if ext.is_empty() {
                    format!("no extension {n}")
                } else {
                    format!(".{ext} {n}")
                }
            })
            .collect();
        if kinds.len() > 6 {
            parts.push("…".into());
        }
        parts.join(", ")
    }

    /// The record that ends a JSON Lines output: `{"summary": {...}}`.
    pub fn record(&self) -> serde_json::Value {
        let names = |m: &BTreeMap<FailureKind, u64>| -> BTreeMap<&'static str, u64> {
            m.iter().map(|(k, n)| (k.name(), *n)).collect()
        };
        let mut record = serde_json::json!({
            "summary": {
                "items": self.items,
                "hours": (self.seconds / 3600.0 * 1e4).round() / 1e4,
                "audio_seconds": (self.seconds * 1e3).round() / 1e3,
                "matches": self.matches,
                "items_with_matches": self.items_with_matches,
                "failed": names(&self.failed),
                "warnings": names(&self.warnings),
                "skipped": self.skipped,
                "not_audio_extensions": self.not_audio,
                "wall_seconds": (self.wall_seconds * 1e3).round() / 1e3,
                "shard": self.shard,
            }
        });
        let inner = &mut record["summary"];
        if let Some(finished) = &self.finished {
            inner["finished"] = finished.clone().into();
        }
        if let Some(counts) = self.dataset {
            inner["dataset"] = serde_json::to_value(counts).expect("plain data");
        }
        record
    }

    /// Reads back a [`record`](Self::record)'s inner object (`earmark merge`). The listed
    /// failures are not in records, so none come back.
    pub fn from_record(v: &serde_json::Value) -> Option<Summary> {
        let u = |k: &str| v.get(k).and_then(serde_json::Value::as_u64).unwrap_or(0);
        let kinds = |k: &str| -> BTreeMap<FailureKind, u64> {
            v.get(k)
                .cloned()
                .and_then(|m| serde_json::from_value(m).ok())
                .unwrap_or_default()
        };
        Some(Summary {
            items: u("items"),
            seconds: v
                .get("audio_seconds")
                .and_then(serde_json::Value::as_f64)
                .or_else(|| Some(v.get("hours")?.as_f64()? * 3600.0))?,
            matches: u("matches"),
            items_with_matches: u("items_with_matches"),
            failed: kinds("failed"),
            warnings: kinds("warnings"),
            skipped: v
                .get("skipped")
                .cloned()
                .and_then(|m| serde_json::from_value(m).ok())
                .unwrap_or_default(),
            not_audio: v
                .get("not_audio_extensions")
                .cloned()
                .and_then(|m| serde_json::from_value(m).ok())
                .unwrap_or_default(),
            first_failures: Vec::new(),
            bytes: 0,
            wall_seconds: v
                .get("wall_seconds")
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0),
            shard: v
                .get("shard")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
            finished: v
                .get("finished")
                .and_then(serde_json::Value::as_str)
                .map(str::to_string),
            dataset: v
                .get("dataset")
                .cloned()
                .and_then(|d| serde_json::from_value(d).ok()),
        })
    }
}

/// `1 item`, `2 items`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `2 truncated, 1 unsupported`.
fn by_kind(m: &BTreeMap<FailureKind, u64>) -> String {
    m.iter()
        .map(|(k, n)| format!("{n} {}", k.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Failure;

    fn outcome(failure: Option<(FailureKind, bool)>, skipped: Option<Skip>) -> Outcome {
        Outcome {
            item: "dump/a.tar".into(),
            member: Some("x.mp3".into()),
            seconds: 10.0,
            failure: failure.map(|(k, _)| Failure::new(k, "it broke\nbadly")),
            partial: failure.is_some_and(|(_, p)| p),
            skipped,
            ..Outcome::default()
        }
    }

    #[test]
    fn every_outcome_lands_in_exactly_one_count() {
        let mut s = Summary::default();
        s.add(&outcome(None, None));
        s.add(&outcome(Some((FailureKind::Truncated, true)), None));
        s.add(&outcome(Some((FailureKind::Empty, false)), None));
        s.add(&outcome(None, Some(Skip::TooShort)));
        s.skip(Skip::NotAudio, 3);
        assert_eq!((s.items, s.failures(), s.files_seen()), (2, 1, 7));
        assert_eq!(s.warnings[&FailureKind::Truncated], 1);
        assert_eq!(
            s.first_failures,
            ["dump/a.tar :: x.mp3: it broke badly (empty)"]
        );
        let text = s.describe();
        assert!(text.starts_with("2 items scanned"), "{text}");
        assert!(text.contains("0 matches in 0 items"), "{text}");
        assert!(text.contains("1 item failed (1 empty)"), "{text}");
        assert!(
            text.contains("1 item scanned in part (1 truncated)"),
            "{text}"
        );
        assert!(text.contains("3 not audio, 1 too short"), "{text}");
    }

    #[test]
    fn a_record_reads_back_and_merges() {
        let mut s = Summary::default();
        s.add(&outcome(None, None));
        s.add(&outcome(Some((FailureKind::Timeout, false)), None));
        s.skip(Skip::NotAudio, 2);
        s.not_audio.insert("json".into(), 2);
        let record = s.record();
        assert_eq!(record["summary"]["failed"]["timeout"], 1);
        assert_eq!(record["summary"]["skipped"]["not_audio"], 2);
        let back = Summary::from_record(&record["summary"]).unwrap();
        let mut twice = back.clone();
        twice.merge(&back);
        assert_eq!(twice.items, 2);
        assert_eq!(twice.failed[&FailureKind::Timeout], 2);
        assert_eq!(twice.not_audio["json"], 4);
        assert!((twice.seconds - 20.0).abs() < 1.0);
    }

    #[test]
    fn plurals_are_right() {
        assert_eq!(count(1, "item", "items"), "1 item");
        assert_eq!(count(0, "match", "matches"), "0 matches");
        assert_eq!(count(2, "match", "matches"), "2 matches");
    }
}
