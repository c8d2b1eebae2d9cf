//! What produced an output: [`Provenance`], the record that opens every JSON Lines output, so
//! that a finding can stand as evidence of which earmark, index, options and inputs made it.
//! The summary record that closes the output adds when the scan finished.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::index::Index;

/// The record that opens an output.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// earmark's version.
    pub earmark: &'static str,
    /// The git commit earmark was built from (`unknown` outside a git checkout), with
    /// `-modified` when the tree had uncommitted changes.
    pub commit: &'static str,
    /// When the scan started, UTC (RFC 3339).
    pub started: String,
    pub index: IndexProvenance,
    /// The command-line options the answers depend on, by flag.
    pub options: BTreeMap<String, serde_json::Value>,
    /// The inputs as given, then `--files-from`'s list (its paths are not repeated here).
    pub inputs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files_from: Option<String>,
    /// The `--manifest` files joined onto the records.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<serde_json::Value>,
}

/// Which index answered.
#[derive(Debug, Clone, Serialize)]
pub struct IndexProvenance {
    pub path: String,
    pub bytes: u64,
    /// `blake3:` and the BLAKE3 of the index's headers and footers (one of each per segment)
    /// and segment table, which hold the CRC32 of every section: it names the index's content
    /// after reading a few hundred bytes, whatever its size. (`earmark verify` checks the
    /// sections against those CRCs.)
    pub checksum: String,
    /// The oldest format version among its segments.
    pub format_version: u32,
    /// Segments: 1 unless tracks were appended since it was last written whole.
    pub segments: usize,
    pub tracks: u32,
    pub postings: u64,
    /// The fingerprint parameters the index was built with.
    pub params: BTreeMap<&'static str, String>,
}

impl IndexProvenance {
    /// Describes `index`.
    pub fn of(index: &Index) -> Self {
        let mut hasher = blake3::Hasher::new();
        for part in index.identity_bytes() {
            hasher.update(part);
        }
        IndexProvenance {
            path: index.path().display().to_string(),
            bytes: index.size(),
            checksum: format!("blake3:{}", hasher.finalize().to_hex()),
            format_version: index
                .segments()
                .iter()
                .map(|s| s.header().version)
                .min()
                .unwrap_or_default(),
            segments: index.segments().len(),
            tracks: index.tracks(),
            postings: index.postings(),
            params: index.params().describe().into_iter().collect(),
        }
    }
}

impl Provenance {
    /// `{"provenance": {...}}`.
    pub fn record(&self) -> serde_json::Value {
        serde_json::json!({ "provenance": self })
    }
}

/// The commit this binary was built from (see build.rs).
pub const COMMIT: &str = env!("EARMARK_COMMIT");

/// A moment as UTC RFC 3339 to the millisecond: `2026-12-07T14:03:27.512Z`.
pub fn timestamp(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days to a civil date (Howard Hinnant's algorithm, proleptic Gregorian).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_are_utc_civil_dates() {
        let at = |s: u64, ms: u64| UNIX_EPOCH + Duration::from_millis(s * 1000 + ms);
        assert_eq!(timestamp(at(0, 0)), "1970-01-01T00:00:00.000Z");
        // 2000-02-29, a leap day of a century divisible by 400.
        assert_eq!(timestamp(at(951_782_400, 5)), "2000-02-29T00:00:00.005Z");
        assert_eq!(
            timestamp(at(1_796_656_207, 512)),
            "2026-12-07T15:10:07.512Z"
        );
    }
}
