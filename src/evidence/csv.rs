//! The claims CSV (`earmark report --claims`): one row per claim, in the report's order, with
//! the columns the services rights holders use ask for.

use std::io::Write;

use super::claims::{Claim, Claims};
use crate::report::csv_field;

/// The header row; also how an earlier claims CSV is recognised before it is replaced.
pub const HEADER: &str = "claim,track,external_id,title,item,member,dataset_id,dataset_title,\
item_start,item_end,track_start,track_end,matching_seconds,longest_match_seconds,speed,pitch,\
evidence,blake3";

/// Writes every claim as a row after the header.
pub fn write(out: &mut dyn Write, claims: &Claims) -> std::io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for (track, on_track) in claims.by_track() {
        for c in on_track {
            row(out, c, track)?;
        }
    }
    out.flush()
}

fn row(out: &mut dyn Write, c: &Claim, track: &super::claims::TrackEntry) -> std::io::Result<()> {
    let (item_start, item_end) = c.item_range();
    let (track_start, track_end) = c.track_range();
    let longest = c.longest();
    let text = |s: Option<&str>| csv_field(s.unwrap_or(""));
    writeln!(
        out,
        "{},{},{},{},{},{},{},{},{item_start:.3},{item_end:.3},{track_start:.3},{track_end:.3},{:.3},{:.3},{:.3},{:.2},{},{}",
        c.id,
        csv_field(&track.id),
        csv_field(&track.external_id),
        text(track.title.as_deref()),
        csv_field(&c.item),
        text(c.member.as_deref()),
        text(c.dataset_id.as_deref()),
        text(c.dataset_title.as_deref()),
        c.matching_seconds(),
        longest.seconds(),
        longest.speed,
        longest.pitch,
        c.evidence().map_or(String::new(), |e| format!("{e:.2}")),
        text(c.blake3.as_deref()),
    )
}
