//! Evidence a rights holder can hand on: a scan's JSON Lines read back and turned into a static
//! site (`earmark report -o DIR`) and a claims CSV (`--claims`).
//!
//! Two passes over the inputs. The first streams every record ([`records::Records`]): match
//! records become [`claims::Claims`] (a few hundred bytes each; their alignments stay in the
//! files), clean items and items not scanned go straight onto their paged lists
//! ([`site::ListPages`]), provenance and summary records are kept per input. Memory grows with
//! the claims, not with the items scanned. The second pass sorts the claims by track and item
//! and draws each track's pages ([`site::track_pages`]), reading each match's alignment from its
//! place in its file when its plot is drawn; tracks are drawn in parallel. An index, where
//! given, adds the tracks' titles and lengths.
//!
//! [`words`] says what a claim's evidence means; [`plot`] draws it.

pub mod claims;
mod csv;
pub mod html;
pub mod plot;
pub mod records;
pub mod site;
pub mod words;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::index::Index;
use crate::index::catalogue::TrackMetadata;
use crate::report::{IndexProvenance, Summary};
pub use claims::{Claim, ClaimId, Claims};
pub use csv::HEADER as CLAIMS_HEADER;
use records::{BadLine, Record, Records};
pub use site::Written;

/// One input of a report: a scan's JSON Lines output.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub path: PathBuf,
    pub lines: u64,
    pub records: u64,
    pub bad_lines: u64,
    /// Its provenance records (one; several where shards were merged).
    pub provenance: Vec<serde_json::Value>,
    pub summaries: Vec<Summary>,
}

/// Everything the first pass keeps.
#[derive(Debug, Default)]
pub struct Gathered {
    pub inputs: Vec<Input>,
    pub claims: Claims,
    pub clean: u64,
    /// Failure records by kind: items not scanned...
    pub failed: BTreeMap<String, u64>,
    /// ...and items scanned only in part.
    pub warnings: BTreeMap<String, u64>,
    /// Skip records by reason.
    pub skipped: BTreeMap<String, u64>,
    pub bad_lines: u64,
    /// The first bad lines, by file and line.
    pub bad: Vec<BadLine>,
    /// What `--index` said of the scans' index, where it is not theirs.
    pub index_note: Option<String>,
}

impl Gathered {
    /// The scans' totals, where every input ends in its summary record.
    pub fn summary(&self) -> Option<Summary> {
        if self.inputs.iter().any(|i| i.summaries.is_empty()) {
            return None;
        }
        let mut total = Summary::default();
        for s in self.inputs.iter().flat_map(|i| &i.summaries) {
            total.merge(s);
        }
        Some(total)
    }

    /// Items with a record: clean, claimed, failed, skipped.
    pub fn scanned(&self) -> u64 {
        self.clean
            + self.claims.items() as u64
            + self.failed.values().sum::<u64>()
            + self.skipped.values().sum::<u64>()
    }

    /// The evidence the scans required (`--strictness`), where every provenance record agrees.
    pub fn strictness(&self) -> Option<f64> {
        let mut values = self
            .inputs
            .iter()
            .flat_map(|i| &i.provenance)
            .map(|p| p.get("options")?.get("--strictness")?.as_f64());
        let first = values.next()??;
        values.all(|v| v == Some(first)).then_some(first)
    }
}

/// What `earmark report` writes, and from what.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// Scans' JSON Lines outputs.
    pub inputs: &'a [PathBuf],
    /// The catalogue index, for titles and lengths.
    pub index: Option<&'a Index>,
    /// The site's folder, claimed for writing (`output::claim_folder`).
    pub site: Option<&'a Path>,
    /// Where the claims CSV goes.
    pub claims_csv: Option<&'a Path>,
}

/// What a report read and wrote.
#[derive(Debug)]
pub struct Built {
    pub gathered: Gathered,
    pub written: Written,
}

/// Reads the inputs and writes the site and the claims CSV they ask for.
pub fn build(request: Request<'_>) -> Result<Built> {
    let mut lists = request
        .site
        .map(|dir| (site::ListPages::clean(dir), site::ListPages::failed(dir)));
    let mut g = Gathered::default();
    for (n, path) in request.inputs.iter().enumerate() {
        let mut records = Records::open(path, n as u32)?;
        let mut input = Input {
            path: path.clone(),
            ..Input::default()
        };
        while let Some((record, at)) = records.next_record()? {
            input.records += 1;
            match record {
                Record::Provenance(p) => input.provenance.push(p),
                Record::Summary(s) => input.summaries.push(*s),
                Record::Match(m) => g.claims.add(*m, at),
                Record::Clean(r) => {
                    g.clean += 1;
                    if let Some((clean, _)) = &mut lists {
                        clean.push_clean(&r)?;
                    }
                }
                Record::Failure(f) => {
                    let by_kind = if f.partial {
                        &mut g.warnings
                    } else {
                        &mut g.failed
                    };
                    *by_kind.entry(f.kind.clone()).or_default() += 1;
                    if let Some((_, failed)) = &mut lists {
                        failed.push_failure(&f)?;
                    }
                }
                Record::Skipped(r, reason) => {
                    *g.skipped.entry(reason.clone()).or_default() += 1;
                    if let Some((_, failed)) = &mut lists {
                        failed.push_skipped(&r, &reason)?;
                    }
                }
            }
        }
        input.lines = records.lines();
        input.bad_lines = records.bad_lines;
        g.bad_lines += records.bad_lines;
        let room = records::LISTED_BAD_LINES.saturating_sub(g.bad.len());
        g.bad.extend(records.bad.into_iter().take(room));
        if input.records == 0 && input.bad_lines > 0 {
            return Err(Error::Invalid(format!(
                "{}: no line is a record of an earmark scan's JSON Lines output (the first: {})",
                path.display(),
                g.bad.last().map_or_else(String::new, |b| b.reason.clone())
            )));
        }
        g.inputs.push(input);
    }
    g.claims.sort();
    if let Some(index) = request.index {
        g.index_note = describe_tracks(index, &mut g);
    }
    let mut written = Written::default();
    if let Some(path) = request.claims_csv {
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut out = std::io::BufWriter::new(file);
        csv::write(&mut out, &g.claims).map_err(|e| Error::io(path, e))?;
    }
    if let (Some(dir), Some((clean, failed))) = (request.site, lists) {
        let pages = (clean.pages(), failed.pages());
        written.add(clean.finish()?);
        written.add(failed.finish()?);
        let tracks: Vec<(usize, (&claims::TrackEntry, &[Claim]))> =
            g.claims.by_track().enumerate().collect();
        let drawn = tracks
            .par_iter()
            .map_init(
                || site::Readers::new(&g.inputs),
                |readers, &(n, (track, on_track))| {
                    site::track_pages(dir, n, track, on_track, readers)
                },
            )
            .collect::<Result<Vec<Written>>>()?;
        for w in drawn {
            written.add(w);
        }
        written.add(site::tracks_list(dir, &g.claims)?);
        written.add(site::overview(dir, &g, pages)?);
    }
    Ok(Built {
        gathered: g,
        written,
    })
}

/// Gives the claimed tracks the index's titles and artists where the records had none, and
/// its lengths; says so where the index is not the one the scans used.
fn describe_tracks(index: &Index, g: &mut Gathered) -> Option<String> {
    let params = index.params();
    for n in 0..index.tracks() {
        let id = crate::index::TrackId(n);
        let Some(track) = index.track(id) else {
            continue;
        };
        let Some(k) = g.claims.track_named(track.id) else {
            continue;
        };
        let entry = &mut g.claims.tracks[k as usize];
        let metadata = TrackMetadata::of(track.external_id);
        let field = |name: &str| {
            metadata
                .fields
                .as_ref()
                .and_then(|f| f.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        entry.title = entry.title.take().or_else(|| field("title"));
        entry.artist = entry.artist.take().or_else(|| field("artist"));
        if entry.external_id.is_empty() {
            entry.external_id = metadata.external_id;
        }
        entry.seconds = index
            .track_frames(id)
            .map(|f| f64::from(f) * params.frame_seconds());
    }
    let checksum = IndexProvenance::of(index).checksum;
    let used: Vec<&str> = g
        .inputs
        .iter()
        .flat_map(|i| &i.provenance)
        .filter_map(|p| p.get("index")?.get("checksum")?.as_str())
        .collect();
    (!used.is_empty() && !used.contains(&checksum.as_str())).then(|| {
        format!(
            "The index given for titles and lengths ({}, {checksum}) is not the one the scans \
             used: titles and lengths may not be the tracks'.",
            index.path().display()
        )
    })
}
