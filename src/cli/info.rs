//! `earmark info` and `earmark verify`.

use std::path::PathBuf;

use clap::Args;

use super::Status;
use crate::fingerprint::HashLayout;
use crate::index::Index;
use crate::index::catalogue::TrackMetadata;

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The index file.
    pub index: PathBuf,
    /// Also list every track.
    #[arg(long)]
    pub tracks: bool,
    /// Also measure how evenly the postings spread over hash values, which sets what a query
    /// costs (reads every posting).
    #[arg(long)]
    pub hashes: bool,
}

#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The index file.
    pub index: PathBuf,
}

pub fn run_info(args: InfoArgs) -> anyhow::Result<Status> {
    let index = Index::open(&args.index)?;
    let params = *index.params();
    let segments = index.segments();
    let hours = index.total_frames() as f64 * params.frame_seconds() / 3600.0;
    let mut versions: Vec<u32> = segments.iter().map(|s| s.header().version).collect();
    versions.sort_unstable();
    versions.dedup();
    let versions: Vec<String> = versions.iter().map(u32::to_string).collect();
    println!("index        {}", args.index.display());
    println!("format       version {}", versions.join(" and "));
    println!("tracks       {}", index.tracks());
    if segments.len() > 1 {
        println!(
            "segments     {}: every lookup searches each; `earmark index --compact -o {}` merges them",
            segments.len(),
            args.index.display()
        );
        for (i, s) in segments.iter().enumerate() {
            let h = s.header();
            println!(
                "segment {i:<4} tracks {}–{}, {} postings, {} bytes at {}",
                s.first_track().0,
                u64::from(s.first_track().0) + h.tracks.max(1) - 1,
                h.postings,
                s.section().len,
                s.section().offset
            );
        }
    }
    if index.unfinished_bytes() > 0 {
        println!(
            "unfinished   {} bytes of an append that did not finish follow the index; the next \
             `earmark index --append` removes them",
            index.unfinished_bytes()
        );
    }
    let peak_bytes: u64 = segments.iter().map(|s| s.header().peak_list.len).sum();
    if index.has_peaks() {
        println!(
            "peaks        {} ({:.1} per second of audio, {:.3} MB per hour)",
            index.peaks(),
            index.peaks() as f64 / (hours * 3600.0).max(1e-9),
            peak_bytes as f64 / 1e6 / hours.max(1e-9)
        );
    } else {
        println!(
            "peaks        none stored (format version {}): matches rest on hashes alone",
            versions.join(" and ")
        );
    }
    println!("audio        {hours:.2} hours");
    println!(
        "postings     {} ({:.1} per second of audio)",
        index.postings(),
        index.postings() as f64 / (hours * 3600.0).max(1e-9)
    );
    println!(
        "size         {} bytes ({:.3} MB per hour of audio, {:.2} bytes per posting)",
        index.size(),
        index.size() as f64 / 1e6 / hours.max(1e-9),
        index.size() as f64 / (index.postings().max(1)) as f64
    );
    for (i, s) in segments.iter().enumerate() {
        let l = s.header().layout;
        let which = if segments.len() > 1 {
            format!("segment {i}: ")
        } else {
            String::new()
        };
        println!(
            "layout       {which}{} hash bits: {} in the directory, {} in postings; {} track bits, {} frame bits; {}-bit postings",
            l.hash_bits,
            l.dir_bits,
            l.low_bits(),
            l.track_bits,
            l.time_bits,
            l.width()
        );
    }
    for (name, value) in params.describe() {
        println!("param        {name} = {value}");
    }
    // An index built with other parameters still works (queries use its own); this says
    // whether rebuilding it would change its hashes.
    let differ: Vec<String> = params
        .describe()
        .into_iter()
        .zip(crate::config::FingerprintParams::default().describe())
        .filter(|((_, ours), (_, default))| ours != default)
        .map(|((name, _), (_, default))| format!("{name} (default {default})"))
        .collect();
    if differ.is_empty() {
        println!("params       this earmark's defaults");
    } else {
        println!(
            "params       differ from this earmark's defaults: {}",
            differ.join(", ")
        );
    }
    if args.hashes {
        let cap = crate::QueryParams::default().max_postings_per_hash(index.postings());
        // Queries read, and skip, whole triplets: the fourth peak only narrows common ones.
        let fourth = HashLayout::new(&params).fourth_bits();
        let [s, t] = index.hash_spreads([0, fourth], cap);
        let hash_bits = index.hash_bits();
        let space = 2f64.powi(hash_bits as i32);
        println!(
            "hashes       {} of 2^{} values used; a posting shares its hash with {:.2} postings \
             on average, itself included (uniform hashes: {:.2})",
            s.hashes,
            hash_bits,
            s.postings_per_hash_seen(),
            1.0 + index.postings() as f64 / space
        );
        println!(
            "spread       the (hash, track) pairs collide like 2^{:.1} equally likely hashes",
            s.effective_bits()
        );
        if fourth > 0 {
            println!(
                "triplets     a posting shares its triplet with {:.2} postings; the (triplet, \
                 track) pairs collide like 2^{:.1} equally likely triplets",
                t.postings_per_hash_seen(),
                t.effective_bits()
            );
        }
        println!(
            "common       triplets with more than {cap} postings, skipped by queries: {:.1} % of \
             the postings, {:.1} % of the chance postings a query reading whole triplets would meet",
            100.0 * t.common_postings / t.postings.max(1.0),
            100.0 * t.common_cost_share()
        );
    }
    if args.tracks {
        for t in 0..index.tracks() {
            let track = index
                .track(crate::index::TrackId(t))
                .expect("id below the count");
            let secs = f64::from(track.frames) * params.frame_seconds();
            let metadata = TrackMetadata::of(track.external_id);
            let mut shown = String::new();
            if !metadata.external_id.is_empty() {
                shown += &format!("  [{}]", metadata.external_id);
            }
            if let Some(fields) = &metadata.fields {
                let text = |k: &str| fields.get(k).and_then(|v| v.as_str()).unwrap_or("");
                if !text("artist").is_empty() || !text("title").is_empty() {
                    shown += &format!("  {} – {}", text("artist"), text("title"));
                }
            }
            println!("track {t:>6}  {secs:>9.1} s  {}{shown}", track.id);
        }
    }
    Ok(Status::Found)
}

pub fn run_verify(args: VerifyArgs) -> anyhow::Result<Status> {
    let index = Index::open(&args.index)?;
    index.verify()?;
    let segments = match index.segments().len() {
        1 => String::new(),
        n => format!(" in {n} segments"),
    };
    println!(
        "{}: ok ({} tracks, {} postings{segments}, every checksum matches)",
        args.index.display(),
        index.tracks(),
        index.postings()
    );
    if index.unfinished_bytes() > 0 {
        println!(
            "{}: {} bytes of an append that did not finish follow the index; the next `earmark \
             index --append` removes them",
            args.index.display(),
            index.unfinished_bytes()
        );
    }
    Ok(Status::Found)
}
