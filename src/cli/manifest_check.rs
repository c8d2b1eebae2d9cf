//! `earmark manifest-check`: what a scan of a dump would not cover. Walks the dump as a scan
//! does (nothing is decoded) and writes JSON Lines: `{"missing": {...}}` for each manifest entry
//! without audio in the dump, `{"unmatched": {"item", "member", "key"}}` for each audio item no
//! entry names, and a last `{"manifest_check": {...}}` with the counts.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use clap::Args;

use super::Status;
use crate::dataset::{ItemKey, Manifest};
use crate::limits::Limits;
use crate::output::{self, Output};
use crate::report::count;
use crate::scan::{ItemData, source};

#[derive(Args, Debug)]
pub struct ManifestCheckArgs {
    /// The dataset's metadata (CSV, TSV, JSON Lines or parquet).
    pub manifest: PathBuf,
    /// The dump: files, directories and archives, as `scan` takes them.
    #[arg(required = true)]
    pub dump: Vec<PathBuf>,
    /// A pattern whose first group (or whole match) over an item's member name or path is its
    /// key [default: the file or member stem, or a parquet row's key column].
    #[arg(long, value_name = "REGEX")]
    pub manifest_key: Option<String>,
    /// The audio column of parquet files that have several.
    #[arg(long, value_name = "NAME")]
    pub audio_column: Option<String>,
    /// Where the report goes (standard output when absent).
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Replace an --output that earmark did not write (never an input).
    #[arg(long)]
    pub force: bool,
}

/// Exit 0 when every entry has audio and every audio item an entry, 1 otherwise.
pub fn run(args: ManifestCheckArgs) -> anyhow::Result<Status> {
    super::inputs_exist(&args.dump)?;
    let mut read = args.dump.clone();
    read.push(args.manifest.clone());
    if let Some(path) = &args.output {
        output::claim(path, Output::Merged, None, &read, args.force)?;
    }
    let manifest = Manifest::open(&args.manifest)?;
    let key = match &args.manifest_key {
        Some(p) => ItemKey::pattern(p)?,
        None => ItemKey::default(),
    };
    let out: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(std::fs::File::create(p)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::new(out);
    let mut seen = vec![false; manifest.len()];
    let (mut items, mut unmatched) = (0u64, 0u64);
    let mut failure = None;
    let limits = Limits::default();
    let mut walker =
        source::Walker::new(&limits, &|_| true).audio_column(args.audio_column.as_deref());
    walker.walk(args.dump.iter().cloned(), &mut |item| {
        if matches!(item.data, ItemData::Failed(_)) && item.row.is_none() && item.member.is_none() {
            // A file that could not be read is no audio item; the scan reports it.
            return true;
        }
        items += 1;
        let k = key.of(
            &item.item,
            item.member.as_deref(),
            item.row.as_ref(),
            &manifest.key_column,
        );
        match k.as_deref().and_then(|k| manifest.find(k)) {
            Some(n) => seen[n] = true,
            None => {
                unmatched += 1;
                let line = serde_json::json!({"unmatched": {
                    "item": item.item, "member": item.member, "key": k,
                }});
                if let Err(e) = writeln!(out, "{line}") {
                    failure = Some(e);
                    return false;
                }
            }
        }
        true
    });
    if let Some(e) = failure {
        return Err(e.into());
    }
    let mut missing = 0u64;
    for (n, _) in seen.iter().enumerate().filter(|(_, s)| !**s) {
        missing += 1;
        writeln!(
            out,
            "{}",
            serde_json::json!({ "missing": manifest.entry(n) })
        )?;
    }
    let summary = serde_json::json!({"manifest_check": {
        "manifest": manifest.describe(),
        "entries": manifest.len(),
        "with_audio": manifest.len() as u64 - missing,
        "missing": missing,
        "items": items,
        "unmatched": unmatched,
        "duplicate_keys": manifest.duplicate_keys,
    }});
    writeln!(out, "{summary}")?;
    out.flush()?;
    eprintln!(
        "earmark: {} of {} have audio in the dump ({missing} missing); {} of {} match no entry",
        manifest.len() as u64 - missing,
        count(manifest.len() as u64, "entry", "entries"),
        unmatched,
        count(items, "audio item", "audio items"),
    );
    Ok(if missing == 0 && unmatched == 0 {
        Status::Found
    } else {
        Status::NothingFound
    })
}
