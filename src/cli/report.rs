//! `earmark report`: a scan's JSON Lines into a static site and a claims CSV.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use super::Status;
use crate::evidence::{self, Request};
use crate::index::Index;
use crate::output::{self, Output, Pages};
use crate::report::count;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// JSON Lines outputs of `earmark scan` (or `merge`).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The folder the site's pages go into (created; an earlier report there is replaced).
    #[arg(short = 'o', long = "output", required_unless_present = "claims")]
    pub output: Option<PathBuf>,
    /// Also write one CSV row per claim here.
    #[arg(long, value_name = "FILE")]
    pub claims: Option<PathBuf>,
    /// The catalogue index, for the tracks' titles and lengths (optional).
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Write among files that earmark did not write (never over an input).
    #[arg(long)]
    pub force: bool,
}

/// The report's page names: what an earlier report in the folder is replaced by.
fn is_page(name: &str) -> bool {
    name == "index.html"
        || (name.ends_with(".html")
            && ["tracks", "track-", "clean", "failed"]
                .iter()
                .any(|p| name.starts_with(p)))
}

/// Makes `dir` ready for a report's pages (`output::claim_folder`).
pub fn claim_folder(dir: &Path, inputs: &[PathBuf], force: bool) -> anyhow::Result<()> {
    let pages = Pages {
        first: "index.html",
        mark: evidence::html::GENERATOR,
        names: &is_page,
    };
    Ok(output::claim_folder(dir, &pages, inputs, force)?)
}

pub fn run(args: ReportArgs) -> anyhow::Result<Status> {
    super::inputs_exist(&args.inputs)?;
    let index = args.index.as_deref().map(Index::open).transpose()?;
    if let Some(path) = &args.claims {
        output::claim(
            path,
            Output::Claims,
            args.index.as_deref(),
            &args.inputs,
            args.force,
        )?;
    }
    if let Some(dir) = &args.output {
        claim_folder(dir, &args.inputs, args.force)?;
    }
    let started = std::time::Instant::now();
    let built = evidence::build(Request {
        inputs: &args.inputs,
        index: index.as_ref(),
        site: args.output.as_deref(),
        claims_csv: args.claims.as_deref(),
    })
    .context("writing the report")?;
    let g = &built.gathered;
    for bad in &g.bad {
        eprintln!("earmark: skipped {bad}");
    }
    if g.bad_lines > g.bad.len() as u64 {
        eprintln!(
            "earmark: … and {} more lines that are not records",
            g.bad_lines - g.bad.len() as u64
        );
    }
    if let Some(note) = &g.index_note {
        eprintln!("earmark: warning: {note}");
    }
    eprintln!(
        "earmark: {} of {} in {} ({} clean, {} not scanned) in {:.1} s",
        count(g.claims.claims.len() as u64, "claim", "claims"),
        count(g.claims.tracks.len() as u64, "track", "tracks"),
        count(g.claims.items() as u64, "item", "items"),
        g.clean,
        g.failed.values().sum::<u64>() + g.skipped.values().sum::<u64>(),
        started.elapsed().as_secs_f64()
    );
    if let Some(dir) = &args.output {
        eprintln!(
            "earmark: wrote {} ({:.1} MB, the largest {:.0} KB): open {}",
            count(built.written.pages, "page", "pages"),
            built.written.bytes as f64 / 1e6,
            built.written.largest as f64 / 1e3,
            entry(dir).display()
        );
    }
    if let Some(path) = &args.claims {
        eprintln!("earmark: wrote the claims to {}", path.display());
    }
    Ok(Status::Found)
}

/// The site's first page, as a path a browser opens.
pub fn entry(dir: &Path) -> PathBuf {
    let page = dir.join("index.html");
    std::path::absolute(&page).unwrap_or(page)
}
