//! `earmark index` (and `earmark demo`, which indexes then scans the shipped test data).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Args;

use super::{InputList, Status};
use crate::index::Index;
use crate::index::catalogue::{self, Built, Note, TrackMetadata};
use crate::limits::Limits;
use crate::output::{self, Output};
use crate::report::{Skip, count};

#[derive(Args, Debug)]
pub struct IndexArgs {
    /// Catalogue files, directories and archives.
    #[arg(required_unless_present_any = ["files_from", "compact"])]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub list: InputList,
    /// The index file to write.
    #[arg(short = 'o', long = "output")]
    pub output: PathBuf,
    /// Track metadata: a TSV of `path<TAB>external id` (an ISRC, say), or a CSV/TSV whose
    /// header starts with `path` (`path,isrc,title,artist,…`); paths as track ids are shown.
    #[arg(long)]
    pub ids: Option<PathBuf>,
    /// Add to the existing index at --output instead of replacing it; tracks already in it are
    /// not fingerprinted again, and the new ones are written after it as a segment of their
    /// own, so the cost is theirs alone.
    #[arg(long, conflicts_with = "force")]
    pub append: bool,
    /// Write the index at --output as one segment: alone, merges the segments that appends
    /// added (every lookup searches each); with --append, adds the new tracks and merges all.
    #[arg(long, conflicts_with = "force")]
    pub compact: bool,
    /// Replace an existing index, or a file that earmark did not write (never an input).
    #[arg(long)]
    pub force: bool,
    /// Worker threads (0 = all cores).
    #[arg(long, short = 'j', default_value_t = 0)]
    pub jobs: usize,
    /// Postings held in memory before a sorted run is spilled to disk, in MiB.
    #[arg(long, default_value_t = 2048)]
    pub memory_mb: u64,
    #[command(flatten)]
    pub limits: super::LimitArgs,
}

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The catalogue to index [default: testdata/catalogue of earmark's source tree].
    #[arg(long)]
    pub catalogue: Option<PathBuf>,
    /// The dump to scan [default: testdata/dump].
    #[arg(long)]
    pub dump: Option<PathBuf>,
    /// External ids and titles for the catalogue [default: testdata/catalogue-metadata.csv].
    #[arg(long)]
    pub ids: Option<PathBuf>,
    /// The folder the report of the scan goes into [default: earmark-demo-report in the
    /// system's temporary folder; an earlier demo's report there is replaced].
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

pub fn run(args: IndexArgs) -> anyhow::Result<Status> {
    let started = Instant::now();
    if args.compact && args.inputs.is_empty() && args.list.files_from.is_none() {
        return compact(&args, started);
    }
    super::inputs_exist(&args.inputs)?;
    let appending = args.append && args.output.exists();
    if appending {
        output::not_read(&args.output, None, &args.inputs)?;
    } else {
        output::claim(&args.output, Output::Index, None, &args.inputs, args.force)?;
    }
    let external_ids = match &args.ids {
        Some(path) => read_ids(path)?,
        None => HashMap::new(),
    };
    let base = if appending {
        Some(Index::open(&args.output)?)
    } else {
        None
    };
    let list = args.list.open()?;
    let mut listed = list.paths();
    let request = catalogue::Request {
        named: &args.inputs,
        listed: &mut listed,
        output: &args.output,
        base: base.as_ref(),
        compact: args.compact,
        external_ids,
        jobs: super::jobs(args.jobs),
        memory_bytes: args.memory_mb << 20,
        limits: args.limits.limits(),
    };
    let built = catalogue::build(request, &mut |note| match note {
        Note::Partial { id, problem } => eprintln!("earmark: {id}: warning: {problem}"),
        Note::TooShort { id, seconds } => {
            eprintln!("earmark: {id}: skipped: {seconds:.2} s of audio is too short to fingerprint")
        }
        Note::Failed { id, failure } => eprintln!("earmark: {id}: {failure}"),
    })
    .with_context(|| format!("indexing into {}", args.output.display()))?;
    drop(listed);
    list.finish()?;
    if !built.unmatched_ids.is_empty() {
        let shown: Vec<&str> = built
            .unmatched_ids
            .iter()
            .take(10)
            .map(String::as_str)
            .collect();
        eprintln!(
            "earmark: warning: {} of {} match no track: {}{}",
            count(built.unmatched_ids.len() as u64, "line", "lines"),
            args.ids
                .as_ref()
                .map_or_else(String::new, |p| p.display().to_string()),
            shown.join(", "),
            if built.unmatched_ids.len() > shown.len() {
                ", …"
            } else {
                ""
            }
        );
    }
    let Some(stats) = built.written else {
        let b = base.as_ref().expect("only an append may write nothing");
        eprintln!(
            "earmark: nothing new to add to {} ({} already in it)",
            b.path().display(),
            count(u64::from(b.tracks()), "track", "tracks")
        );
        return Ok(exit(&built));
    };
    let wall = started.elapsed().as_secs_f64();
    let mut notes = Vec::new();
    if built.already > 0 {
        notes.push(format!("{} already indexed", built.already));
    }
    if built.too_short > 0 {
        notes.push(format!("{} too short", built.too_short));
    }
    if built.failed > 0 {
        notes.push(format!("{} failed", built.failed));
    }
    if let Some(n) = built.skipped.skipped.get(&Skip::NotAudio) {
        notes.push(format!("{n} not audio"));
    }
    eprintln!(
        "earmark: indexed {} ({:.2} h of audio) in {wall:.1} s ({:.0}x real time){}; {} has {}, {} postings, {:.2} MB",
        count(built.added, "track", "tracks"),
        built.seconds / 3600.0,
        built.seconds / wall.max(1e-9),
        if notes.is_empty() {
            String::new()
        } else {
            format!(", skipped: {}", notes.join(", "))
        },
        args.output.display(),
        count(stats.tracks, "track", "tracks"),
        stats.postings,
        stats.bytes as f64 / 1e6
    );
    if stats.segments > 1 {
        eprintln!(
            "earmark: {} holds {} segments; `earmark index --compact -o {}` merges them",
            args.output.display(),
            stats.segments,
            args.output.display()
        );
    }
    Ok(exit(&built))
}

/// `--compact` alone: the index at --output rewritten as one segment.
fn compact(args: &IndexArgs, started: Instant) -> anyhow::Result<Status> {
    let before = Index::open(&args.output)
        .with_context(|| format!("compacting {}", args.output.display()))?
        .segments()
        .len();
    let stats = catalogue::compact(&args.output, args.memory_mb << 20)
        .with_context(|| format!("compacting {}", args.output.display()))?;
    eprintln!(
        "earmark: merged {} into one in {:.1} s; {} has {}, {} postings, {:.2} MB",
        count(before as u64, "segment", "segments"),
        started.elapsed().as_secs_f64(),
        args.output.display(),
        count(stats.tracks, "track", "tracks"),
        stats.postings,
        stats.bytes as f64 / 1e6
    );
    Ok(Status::Found)
}

/// 0, or 3 when catalogue files could not be indexed (listed again, after the progress lines).
fn exit(built: &Built) -> Status {
    if built.failed == 0 {
        return Status::Found;
    }
    eprintln!(
        "earmark: {} could not be indexed:",
        count(built.failed, "file", "files")
    );
    for f in &built.failures {
        eprintln!("  {f}");
    }
    if built.failed > built.failures.len() as u64 {
        eprintln!(
            "  … and {} more",
            built.failed - built.failures.len() as u64
        );
    }
    Status::ItemsFailed
}

/// `--ids`: either the two-column TSV `path<TAB>external id` (`#` comments and blank lines
/// allowed), or a metadata file whose header row starts with `path` (tab- or comma-separated:
/// `path,isrc,title,artist,…`), each track's other columns stored as its metadata.
fn read_ids(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    use crate::dataset::table::{Delimiter, Records};
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let delimiter = Delimiter::guess(&path.display().to_string(), first);
    let sep = if delimiter == Delimiter::Tab {
        '\t'
    } else {
        ','
    };
    let header = first
        .split(sep)
        .next()
        .unwrap_or("")
        .trim()
        .trim_matches('"');
    if !header.eq_ignore_ascii_case("path") {
        let mut ids = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let (p, id) = line
                .split_once('\t')
                .with_context(|| format!("{}:{}: expected `path<TAB>id`", path.display(), n + 1))?;
            ids.insert(p.trim().to_string(), id.trim().to_string());
        }
        return Ok(ids);
    }
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut records = Records::new(body.as_bytes(), delimiter);
    let columns: Vec<String> = records
        .next_record()?
        .unwrap_or_default()
        .iter()
        .map(|c| c.trim().to_ascii_lowercase())
        .collect();
    let mut ids = HashMap::new();
    let mut n = 1;
    while let Some(fields) = records.next_record()? {
        n += 1;
        if fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let mut metadata = serde_json::Map::new();
        for (name, value) in columns.iter().zip(&fields).skip(1) {
            if !value.trim().is_empty() {
                metadata.insert(name.clone(), value.trim().into());
            }
        }
        let track = fields[0].trim();
        anyhow::ensure!(
            !track.is_empty(),
            "{}: record {n} names no path",
            path.display()
        );
        ids.insert(track.to_string(), TrackMetadata::stored(&metadata));
    }
    Ok(ids)
}

/// A path of earmark's source tree (where the demo's data is shipped), or the same path from
/// the current folder when the source tree is gone (an installed binary).
fn shipped(rel: &str) -> PathBuf {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    if built_from.exists() {
        built_from
    } else {
        PathBuf::from(rel)
    }
}

pub fn run_demo(args: DemoArgs) -> anyhow::Result<Status> {
    let catalogue = args
        .catalogue
        .unwrap_or_else(|| shipped("testdata/catalogue"));
    let dump = args.dump.unwrap_or_else(|| shipped("testdata/dump"));
    let ids = args
        .ids
        .unwrap_or_else(|| shipped("testdata/catalogue-metadata.csv"));
    let report = args
        .report
        .unwrap_or_else(|| std::env::temp_dir().join("earmark-demo-report"));
    let dir = tempfile_dir()?;
    let index_path = dir.join("catalogue.earmark");
    eprintln!(
        "earmark demo: indexing {} into {}",
        catalogue.display(),
        index_path.display()
    );
    let index_args = IndexArgs {
        inputs: vec![catalogue],
        list: InputList::default(),
        output: index_path.clone(),
        ids: ids.exists().then_some(ids),
        append: false,
        compact: false,
        force: false,
        jobs: 0,
        memory_mb: 256,
        limits: super::LimitArgs {
            max_item_bytes: Limits::default().max_item_bytes,
            max_seconds: Limits::default().max_audio_seconds,
            max_row_group_bytes: Limits::default().max_row_group_bytes,
        },
    };
    // The scan's records stay beside the pages made from them: the folder is the evidence.
    let matches = report.join(DEMO_RECORDS);
    let reported = super::report::claim_folder(&report, &[], false)
        .and_then(|_| run(index_args))
        .and_then(|_| {
            eprintln!("earmark demo: scanning {}", dump.display());
            super::scan::Job {
                index: &index_path,
                inputs: std::slice::from_ref(&dump),
                list: &InputList::default(),
                format: super::Format::Jsonl,
                output: Some(&matches),
                resume: false,
                // The folder is new, or an earlier report whose records are an earlier demo's.
                force: true,
                strict: false,
                options: &crate::scan::ScanOptions::default(),
                names: Default::default(),
                echo: true,
            }
            .run()
        })
        .and_then(|_| {
            // A finished scan's journal serves no later --resume here.
            let _ = std::fs::remove_file(output::journal_path(&matches));
            eprintln!("earmark demo: writing the report into {}", report.display());
            super::report::run(super::report::ReportArgs {
                inputs: vec![matches.clone()],
                output: Some(report.clone()),
                claims: Some(report.join("claims.csv")),
                index: Some(index_path.clone()),
                // The folder was claimed above; it now holds the records the pages come from.
                force: true,
            })
        });
    let _ = std::fs::remove_dir_all(&dir);
    // The demo did its job once the dump was scanned and reported, whatever it held.
    reported.map(|_| Status::Found)
}

/// The demo's scan records, in its report's folder.
const DEMO_RECORDS: &str = "demo-matches.jsonl";

/// A fresh folder for the demo's index, removed when it ends.
fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("earmark-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
