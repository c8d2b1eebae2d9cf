//! The report's pages (docs/decisions/0042-claims-grouped-by-track-and-paged): an overview,
//! the tracks claimed (paged), one page per track listing every item that holds it with a
//! section per claim (paged: at most [`CLAIMS_PER_PAGE`] claims, so a page stays under a
//! megabyte however many items hold the track), and the clean items and the items not scanned,
//! written page by page as their records stream in ([`ListPages`]).

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use super::claims::{Claim, Claims, TrackEntry};
use super::html::{Nav, esc, page, page_name, pager};
use super::plot::{self, ClaimPlot, MatchPlot, Stretch, clock};
use super::records::{AlignmentRecord, FailureRecord, ItemRecord, read_alignment};
use super::words::{self, Basis, Markup};
use super::{Gathered, Input};
use crate::error::{Error, Result};

/// Claims, each with its two plots, on one page of a track.
pub const CLAIMS_PER_PAGE: usize = 25;
/// Rows on one page of the clean items or of the items not scanned.
pub const ROWS_PER_PAGE: usize = 1000;
/// Tracks on one page of the tracks claimed.
pub const TRACKS_PER_PAGE: usize = 500;

/// What a report wrote: pages, bytes, and the largest page's bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub pages: u64,
    pub bytes: u64,
    pub largest: u64,
}

impl Written {
    pub fn add(&mut self, other: Written) {
        self.pages += other.pages;
        self.bytes += other.bytes;
        self.largest = self.largest.max(other.largest);
    }
}

/// Writes one page into `dir`.
fn write_page(dir: &Path, name: &str, html: &str) -> Result<Written> {
    let path = dir.join(name);
    std::fs::write(&path, html).map_err(|e| Error::io(&path, e))?;
    let bytes = html.len() as u64;
    Ok(Written {
        pages: 1,
        bytes,
        largest: bytes,
    })
}

/// A list written page by page as its rows arrive (clean items, items not scanned), holding
/// one page of rows at most: a page is written once the next page's first row shows it is not
/// the last.
pub struct ListPages {
    dir: PathBuf,
    stem: &'static str,
    nav: Nav,
    title: &'static str,
    intro: String,
    header: &'static str,
    rows: Vec<String>,
    page: usize,
    pub total: u64,
    pub written: Written,
}

impl ListPages {
    fn new(
        dir: &Path,
        stem: &'static str,
        nav: Nav,
        title: &'static str,
        intro: String,
        header: &'static str,
    ) -> Self {
        ListPages {
            dir: dir.to_path_buf(),
            stem,
            nav,
            title,
            intro,
            header,
            rows: Vec::with_capacity(ROWS_PER_PAGE),
            page: 0,
            total: 0,
            written: Written::default(),
        }
    }

    /// The clean items: scanned whole, nothing of the catalogue heard.
    pub fn clean(dir: &Path) -> Self {
        ListPages::new(
            dir,
            "clean",
            Nav::Clean,
            "Clean items",
            "Items scanned whole in which no catalogue recording was heard, in the order the \
             scans finished them, with the size and BLAKE3 hash of the bytes scanned."
                .into(),
            "<tr><th>item</th><th>member</th><th>seconds</th><th>bytes</th><th>BLAKE3</th>\
             <th>dataset id</th><th>dataset title</th></tr>",
        )
    }

    /// The items that could not be scanned, or not to their end, and those skipped.
    pub fn failed(dir: &Path) -> Self {
        ListPages::new(
            dir,
            "failed",
            Nav::Failed,
            "Items not scanned",
            "Items that could not be scanned (a failure), could not be scanned to their end (a \
             warning: the audio before the problem was scanned) or were skipped though \
             readable, with the reason the scan gave."
                .into(),
            "<tr><th>item</th><th>member</th><th>what</th><th>reason</th><th>bytes</th>\
             <th>BLAKE3</th></tr>",
        )
    }

    pub fn push_clean(&mut self, r: &ItemRecord) -> Result<()> {
        let row = format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"hash\">{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.item),
            esc(r.member.as_deref().unwrap_or("")),
            r.seconds.map_or(String::new(), |s| format!("{s:.1}")),
            r.bytes.map_or(String::new(), |b| b.to_string()),
            esc(r.blake3.as_deref().unwrap_or("")),
            esc(&r.dataset_field("id").unwrap_or_default()),
            esc(&r.dataset_field("title").unwrap_or_default()),
        );
        self.push(row)
    }

    pub fn push_failure(&mut self, f: &FailureRecord) -> Result<()> {
        let what = if f.partial {
            format!("warning: {}", f.kind)
        } else {
            format!("failed: {}", f.kind)
        };
        self.push_not_scanned(&f.about, &what, &f.error)
    }

    pub fn push_skipped(&mut self, r: &ItemRecord, reason: &str) -> Result<()> {
        let why = match r.seconds {
            Some(s) => format!("{s:.2} s of audio"),
            None => String::new(),
        };
        self.push_not_scanned(r, &format!("skipped: {reason}"), &why)
    }

    fn push_not_scanned(&mut self, r: &ItemRecord, what: &str, reason: &str) -> Result<()> {
        let row = format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td>\
             <td class=\"hash\">{}</td></tr>",
            esc(&r.item),
            esc(r.member.as_deref().unwrap_or("")),
            esc(what),
            esc(reason),
            r.bytes.map_or(String::new(), |b| b.to_string()),
            esc(r.blake3.as_deref().unwrap_or("")),
        );
        self.push(row)
    }

    fn push(&mut self, row: String) -> Result<()> {
        if self.rows.len() == ROWS_PER_PAGE {
            self.flush(true)?;
        }
        self.rows.push(row);
        self.total += 1;
        Ok(())
    }

    fn flush(&mut self, more: bool) -> Result<()> {
        self.page += 1;
        let n = self.page;
        let first = (n - 1) * ROWS_PER_PAGE + 1;
        let mut body = format!("<h1>{}</h1>\n<p>{}</p>\n", self.title, esc(&self.intro));
        if self.rows.is_empty() {
            body.push_str("<p class=\"muted\">None.</p>\n");
        } else {
            let _ = writeln!(
                body,
                "<p class=\"muted\">Page {n}: rows {first} to {}{}.</p>",
                first + self.rows.len() - 1,
                if more { "; more follow" } else { "" }
            );
            let _ = writeln!(body, "<table>\n{}", self.header);
            for row in self.rows.drain(..) {
                body.push_str(&row);
                body.push('\n');
            }
            body.push_str("</table>\n");
        }
        let mut links = String::from("<p class=\"pages\">");
        if n > 1 {
            let _ = write!(
                links,
                "<a href=\"{}\">‹ previous</a>",
                page_name(self.stem, n - 1)
            );
        }
        if more {
            let _ = write!(
                links,
                "<a href=\"{}\">next ›</a>",
                page_name(self.stem, n + 1)
            );
        }
        links.push_str("</p>\n");
        body.push_str(&links);
        let title = format!("{} — page {n}", self.title);
        let w = write_page(
            &self.dir,
            &page_name(self.stem, n),
            &page(&title, self.nav, &body),
        )?;
        self.written.add(w);
        Ok(())
    }

    /// Writes the last page (the first, empty, when there were no rows).
    pub fn finish(mut self) -> Result<Written> {
        self.flush(false)?;
        Ok(self.written)
    }

    /// Pages written so far and to come.
    pub fn pages(&self) -> usize {
        self.total.div_ceil(ROWS_PER_PAGE as u64).max(1) as usize
    }
}

/// The page file of track number `n` (0-based), page `p` (1-based).
pub fn track_page(n: usize, p: usize) -> String {
    page_name(&track_stem(n), p)
}

fn track_stem(n: usize) -> String {
    format!("track-{}", n + 1)
}

/// The track as people name it: its title where known, else its id.
fn track_name(t: &TrackEntry) -> &str {
    t.title.as_deref().unwrap_or(&t.id)
}

fn seconds(s: f64) -> String {
    format!("{s:.1} s")
}

fn stretch((a, b): (f64, f64)) -> String {
    format!("{}–{}", clock(a), clock(b))
}

fn speed(s: f64) -> String {
    if s == 1.0 {
        "1.000 (unchanged)".into()
    } else if s > 1.0 {
        format!("{s:.3} ({:.1} % faster)", 100.0 * (s - 1.0))
    } else {
        format!("{s:.3} ({:.1} % slower)", 100.0 * (1.0 - s))
    }
}

fn pitch(p: f64) -> String {
    format!("{p:+.2} semitones")
}

fn evidence(e: Option<f64>) -> String {
    e.map_or("—".into(), |e| format!("{e:.1}"))
}

/// The open inputs of one thread drawing pages, to read alignments from.
pub struct Readers<'a> {
    inputs: &'a [Input],
    files: Vec<Option<File>>,
    buffer: Vec<u8>,
}

impl<'a> Readers<'a> {
    pub fn new(inputs: &'a [Input]) -> Self {
        Readers {
            inputs,
            files: (0..inputs.len()).map(|_| None).collect(),
            buffer: Vec::new(),
        }
    }

    fn alignment(&mut self, at: super::records::LineAt) -> Result<Option<AlignmentRecord>> {
        let path = &self.inputs[at.input as usize].path;
        let file = match &mut self.files[at.input as usize] {
            Some(f) => f,
            slot => slot.insert(File::open(path).map_err(|e| Error::io(path, e))?),
        };
        read_alignment(file, path, at, &mut self.buffer)
    }
}

/// Every page of one track's claims (claims in item order).
pub fn track_pages(
    dir: &Path,
    n: usize,
    track: &TrackEntry,
    claims: &[Claim],
    readers: &mut Readers<'_>,
) -> Result<Written> {
    let pages = claims.len().div_ceil(CLAIMS_PER_PAGE).max(1);
    let matched: f64 = claims.iter().map(Claim::matching_seconds).sum();
    let longest = claims
        .iter()
        .map(|c| c.longest().seconds())
        .fold(0.0, f64::max);
    let mut written = Written::default();
    for (p, on_page) in claims.chunks(CLAIMS_PER_PAGE).enumerate() {
        let p = p + 1;
        let mut body = format!(
            "<h1>{}</h1>\n<p>Catalogue track <code>{}</code>",
            esc(track_name(track)),
            esc(&track.id)
        );
        if !track.external_id.is_empty() {
            let _ = write!(
                body,
                ", ISRC / external id <code>{}</code>",
                esc(&track.external_id)
            );
        }
        if let Some(a) = &track.artist {
            let _ = write!(body, ", by {}", esc(a));
        }
        if let Some(s) = track.seconds {
            let _ = write!(body, ", {} long", clock(s));
        }
        let _ = writeln!(
            body,
            ".</p>\n<p>{} hold it: {} of their audio in all; the longest match lasts {}.{}</p>",
            count(claims.len(), "item", "items"),
            seconds(matched),
            seconds(longest),
            if pages > 1 {
                format!(
                    " Page {p} of {pages}, claims {} to {}.",
                    (p - 1) * CLAIMS_PER_PAGE + 1,
                    (p - 1) * CLAIMS_PER_PAGE + on_page.len()
                )
            } else {
                String::new()
            }
        );
        let stem = track_stem(n);
        body.push_str(&pager(&stem, p, pages));
        body.push_str(
            "<table>\n<tr><th>claim</th><th>item</th><th>dataset</th><th>in the item</th>\
             <th>in the track</th><th>matching</th><th>longest</th><th>speed</th><th>pitch</th>\
             <th>evidence</th></tr>\n",
        );
        for c in on_page {
            let longest = c.longest();
            let _ = writeln!(
                body,
                "<tr><td><a href=\"#claim-{id}\"><code>{id}</code></a></td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{:.3}</td><td class=\"n\">{:+.2}</td><td class=\"n\">{}</td></tr>",
                esc(&c.item_name()),
                esc(&dataset(c)),
                stretch(c.item_range()),
                stretch(c.track_range()),
                seconds(c.matching_seconds()),
                seconds(longest.seconds()),
                longest.speed,
                longest.pitch,
                evidence(c.evidence()),
                id = c.id,
            );
        }
        body.push_str("</table>\n");
        for c in on_page {
            claim_section(&mut body, track, c, readers)?;
        }
        body.push_str(&pager(&stem, p, pages));
        let title = format!("{} — claims", track_name(track));
        written.add(write_page(
            dir,
            &page_name(&stem, p),
            &page(&title, Nav::Tracks, &body),
        )?);
    }
    Ok(written)
}

fn dataset(c: &Claim) -> String {
    match (&c.dataset_id, &c.dataset_title) {
        (Some(id), Some(title)) => format!("{id}: {title}"),
        (Some(id), None) => id.clone(),
        (None, Some(title)) => title.clone(),
        (None, None) => String::new(),
    }
}

/// What the plots of a claim draw, from its matches and their alignments (`None` for a record
/// written before records carried one: its stretch and `also_at` are drawn, no points).
pub fn claim_plot(
    track: &TrackEntry,
    c: &Claim,
    alignments: &[Option<AlignmentRecord>],
) -> ClaimPlot {
    let matches = c
        .matches
        .iter()
        .zip(alignments)
        .map(|(m, a)| {
            let own = Stretch {
                item: (m.item_start, m.item_end),
                track: (m.track_start, m.track_end),
            };
            let repeats = match a {
                Some(a) => a
                    .repeats
                    .iter()
                    .map(|r| Stretch {
                        item: (r.item_start, r.item_end),
                        track: (r.track_start, r.track_end),
                    })
                    .collect(),
                None => m
                    .also_at
                    .iter()
                    .map(|&t| Stretch {
                        item: own.item,
                        track: (t, t + (own.track.1 - own.track.0)),
                    })
                    .collect(),
            };
            MatchPlot {
                stretch: Some(own),
                line: a.as_ref().map(|a| (a.line.speed, a.line.offset)),
                points: a.as_ref().map_or_else(Vec::new, |a| {
                    a.item_cs
                        .iter()
                        .zip(&a.track_cs)
                        .map(|(&i, &t)| (f64::from(i) / 100.0, f64::from(t) / 100.0))
                        .collect()
                }),
                repeats,
            }
        })
        .collect();
    ClaimPlot {
        item_seconds: c.seconds,
        track_seconds: track.seconds,
        matches,
    }
}

/// One claim's section: who, the two plots, the evidence in words, the facts.
fn claim_section(
    out: &mut String,
    track: &TrackEntry,
    c: &Claim,
    readers: &mut Readers<'_>,
) -> Result<()> {
    let alignments = c
        .matches
        .iter()
        .map(|m| readers.alignment(m.at))
        .collect::<Result<Vec<_>>>()?;
    let plot = claim_plot(track, c, &alignments);
    let pairs: u32 = alignments.iter().flatten().map(|a| a.pairs).sum();
    let longest = c.longest();
    let _ = writeln!(
        out,
        "<section class=\"claim\" id=\"claim-{}\" data-item=\"{}\" data-member=\"{}\" data-track=\"{}\">",
        c.id,
        esc(&c.item),
        esc(c.member.as_deref().unwrap_or("")),
        esc(&track.id)
    );
    let _ = writeln!(
        out,
        "<h3>Claim <code>{}</code></h3>\n<p><b>{}</b> holds <b>{}</b>{} for {} of its audio \
         ({}); the longest match lasts {}.</p>",
        c.id,
        esc(&c.item_name()),
        esc(track_name(track)),
        if track.external_id.is_empty() {
            String::new()
        } else {
            format!(" ({})", esc(&track.external_id))
        },
        seconds(c.matching_seconds()),
        count(c.matches.len(), "match", "matches"),
        seconds(longest.seconds()),
    );
    let _ = writeln!(
        out,
        "<figure class=\"timelines\">{}<figcaption>The item (above) and the track (below), each \
         drawn to scale; the matched stretches in blue, joined; where the track repeats the \
         passage, the other places in orange.</figcaption></figure>",
        plot::timelines(&plot)?
    );
    let strongest = c
        .matches
        .iter()
        .filter(|m| m.evidence.is_some())
        .max_by(|a, b| {
            a.evidence
                .unwrap_or(0.0)
                .total_cmp(&b.evidence.unwrap_or(0.0))
        });
    match strongest {
        Some(m) => {
            let e = m.evidence.unwrap_or(0.0);
            let basis = m.peak_check.map_or(Basis::Line(m.score), Basis::Peaks);
            let _ = writeln!(
                out,
                "<p class=\"evidence\"><b>Evidence {e:.1}:</b> {}. {}</p>",
                words::headline(e, Markup::Html),
                words::detail(e, basis, Markup::Html)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "<p class=\"evidence\">{}.</p>",
                words::headline(f64::NAN, Markup::Html)
            );
        }
    }
    let shown = plot.points();
    let _ = writeln!(
        out,
        "<div class=\"detail\">\n<figure class=\"alignment\" data-points=\"{shown}\">{}\
         <figcaption>Item time against track time: {shown} landmark pairs{} that the item and \
         the track share, and the line fitted to them (red): speed {}, pitch {}.</figcaption>\
         </figure>",
        plot::alignment(&plot)?,
        if (shown as u32) < pairs {
            format!(" (of {pairs}, evenly spread)")
        } else {
            String::new()
        },
        speed(longest.speed),
        pitch(longest.pitch),
    );
    let _ = writeln!(out, "<table class=\"facts\">");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(out, "<tr><th>{name}</th><td>{value}</td></tr>");
    };
    row("item", format!("<code>{}</code>", esc(&c.item)));
    if let Some(m) = &c.member {
        row("member", format!("<code>{}</code>", esc(m)));
    }
    let d = dataset(c);
    if !d.is_empty() {
        row("dataset", esc(&d).into_owned());
    }
    if let Some(s) = c.seconds {
        row("item length", clock(s));
    }
    row("in the item", stretch(c.item_range()));
    row("in the track", stretch(c.track_range()));
    row("matching duration", seconds(c.matching_seconds()));
    row("longest match", seconds(longest.seconds()));
    row("speed", speed(longest.speed));
    row("pitch", pitch(longest.pitch));
    if c.matches.len() > 1 {
        let each: Vec<String> = c
            .matches
            .iter()
            .map(|m| {
                format!(
                    "{} of the item = {} of the track (evidence {})",
                    stretch((m.item_start, m.item_end)),
                    stretch((m.track_start, m.track_end)),
                    evidence(m.evidence)
                )
            })
            .collect();
        row("matches", each.join("<br>"));
    }
    let also: Vec<String> = (c.matches.iter())
        .flat_map(|m| m.also_at.iter().map(|&t| clock(t)))
        .collect();
    if !also.is_empty() {
        row("the track repeats it at", also.join(", "));
    }
    if let Some(b) = c.bytes {
        row("file size", format!("{b} bytes"));
    }
    if let Some(h) = &c.blake3 {
        row(
            "content hash",
            format!("<span class=\"hash\">BLAKE3 {}</span>", esc(h)),
        );
    }
    out.push_str("</table>\n</div>\n</section>\n");
    Ok(())
}

/// The tracks claimed, paged.
pub fn tracks_list(dir: &Path, claims: &Claims) -> Result<Written> {
    let tracks: Vec<(usize, &TrackEntry, &[Claim])> = claims
        .by_track()
        .enumerate()
        .map(|(n, (t, c))| (n, t, c))
        .collect();
    let pages = tracks.len().div_ceil(TRACKS_PER_PAGE).max(1);
    let mut written = Written::default();
    for p in 1..=pages {
        let on_page = tracks
            .iter()
            .skip((p - 1) * TRACKS_PER_PAGE)
            .take(TRACKS_PER_PAGE);
        let mut body = format!(
            "<h1>Tracks claimed</h1>\n<p>{} of the catalogue heard in {}, by track id.</p>\n",
            count(tracks.len(), "track", "tracks"),
            count(claims.items(), "item", "items")
        );
        body.push_str(&pager("tracks", p, pages));
        body.push_str(
            "<table>\n<tr><th>track</th><th>external id</th><th>title</th><th>artist</th>\
             <th>items</th><th>matching in all</th><th>longest match</th><th>strongest evidence</th></tr>\n",
        );
        for &(n, t, c) in on_page {
            let matched: f64 = c.iter().map(Claim::matching_seconds).sum();
            let longest = c.iter().map(|c| c.longest().seconds()).fold(0.0, f64::max);
            let strongest = c.iter().filter_map(Claim::evidence).reduce(f64::max);
            let _ = writeln!(
                body,
                "<tr><td><a href=\"{}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td></tr>",
                track_page(n, 1),
                esc(&t.id),
                esc(&t.external_id),
                esc(t.title.as_deref().unwrap_or("")),
                esc(t.artist.as_deref().unwrap_or("")),
                c.len(),
                seconds(matched),
                seconds(longest),
                evidence(strongest),
            );
        }
        body.push_str("</table>\n");
        body.push_str(&pager("tracks", p, pages));
        written.add(write_page(
            dir,
            &page_name("tracks", p),
            &page("Tracks claimed", Nav::Tracks, &body),
        )?);
    }
    Ok(written)
}

/// `1 item`, `2 items`.
fn count(n: usize, one: &str, many: &str) -> String {
    crate::report::count(n as u64, one, many)
}

/// The overview: what was scanned and found, how sure, by which earmark, index and options.
pub fn overview(dir: &Path, g: &Gathered, lists: (usize, usize)) -> Result<Written> {
    let claims = &g.claims;
    let mut body = String::from("<h1>earmark report</h1>\n");
    let scanned = g.scanned();
    let _ = writeln!(
        body,
        "<p>{} of {} catalogue {} heard in {} of the {} with a record; {} clean.</p>",
        count(claims.claims.len(), "claim", "claims"),
        claims.tracks.len(),
        if claims.tracks.len() == 1 {
            "track"
        } else {
            "tracks"
        },
        count(claims.items(), "item", "items"),
        count(scanned as usize, "item", "items"),
        g.clean,
    );
    body.push_str("<h2>What was scanned</h2>\n<table>\n");
    let row = |body: &mut String, name: &str, value: String| {
        let _ = writeln!(body, "<tr><th>{name}</th><td class=\"n\">{value}</td></tr>");
    };
    let summary = g.summary();
    match &summary {
        Some(s) => {
            row(&mut body, "items scanned", s.items.to_string());
            row(
                &mut body,
                "hours of audio",
                format!("{:.2}", s.seconds / 3600.0),
            );
            row(&mut body, "matches", s.matches.to_string());
            row(
                &mut body,
                "items with matches",
                s.items_with_matches.to_string(),
            );
        }
        None => row(
            &mut body,
            "items scanned",
            "not known: some inputs end without a summary record (a scan that did not finish)"
                .into(),
        ),
    }
    row(
        &mut body,
        "match records read",
        claims.matches().to_string(),
    );
    row(
        &mut body,
        "claims (a track in an item)",
        claims.claims.len().to_string(),
    );
    row(&mut body, "items with claims", claims.items().to_string());
    row(&mut body, "clean items", g.clean.to_string());
    for (kind, n) in &g.failed {
        row(&mut body, &format!("failed: {}", esc(kind)), n.to_string());
    }
    for (kind, n) in &g.warnings {
        row(
            &mut body,
            &format!("scanned in part: {}", esc(kind)),
            n.to_string(),
        );
    }
    for (reason, n) in &g.skipped {
        row(
            &mut body,
            &format!("skipped: {}", esc(reason)),
            n.to_string(),
        );
    }
    if let Some(s) = &summary {
        for (reason, n) in &s.skipped {
            if !matches!(reason, crate::report::Skip::TooShort) {
                row(
                    &mut body,
                    &format!("not scanned: {}", reason.describe()),
                    n.to_string(),
                );
            }
        }
    }
    if claims.duplicates > 0 {
        row(
            &mut body,
            "match records given twice (counted once)",
            claims.duplicates.to_string(),
        );
    }
    body.push_str("</table>\n");
    let _ = writeln!(
        body,
        "<p><a href=\"tracks.html\">The tracks claimed</a> ({}), <a href=\"clean.html\">the clean \
         items</a> ({} {}) and <a href=\"failed.html\">the items not scanned</a> ({} {}).</p>",
        claims.tracks.len(),
        lists.0,
        if lists.0 == 1 { "page" } else { "pages" },
        lists.1,
        if lists.1 == 1 { "page" } else { "pages" },
    );

    body.push_str("<h2>How sure</h2>\n");
    let strictness = g.strictness();
    let _ = writeln!(
        body,
        "<p>Every claim states its <b>evidence</b> E: an unrelated recording would match as well \
         less than once in 10<sup>E</sup> tries, where a try is one alignment of an item against \
         a track (see each claim for what was checked). The scans reported only matches with E of \
         at least {}. Claims here range from {} to {}.</p>",
        strictness.map_or("the threshold of their options".into(), |s| format!("{s}")),
        evidence(
            claims
                .claims
                .iter()
                .filter_map(Claim::evidence)
                .reduce(f64::min)
        ),
        evidence(
            claims
                .claims
                .iter()
                .filter_map(Claim::evidence)
                .reduce(f64::max)
        ),
    );

    body.push_str("<h2>Tracks claimed most</h2>\n");
    let mut top: Vec<(usize, &TrackEntry, usize)> = claims
        .by_track()
        .enumerate()
        .map(|(n, (t, c))| (n, t, c.len()))
        .collect();
    top.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    if top.is_empty() {
        body.push_str("<p class=\"muted\">No catalogue track was heard.</p>\n");
    } else {
        body.push_str(
            "<table>\n<tr><th>track</th><th>title</th><th>external id</th><th>items</th></tr>\n",
        );
        for (n, t, k) in top.iter().take(20) {
            let _ = writeln!(
                body,
                "<tr><td><a href=\"{}\"><code>{}</code></a></td><td>{}</td><td>{}</td><td class=\"n\">{k}</td></tr>",
                track_page(*n, 1),
                esc(&t.id),
                esc(t.title.as_deref().unwrap_or("")),
                esc(&t.external_id)
            );
        }
        body.push_str("</table>\n");
    }

    body.push_str("<h2>Datasets covered</h2>\n");
    let manifests: Vec<&serde_json::Value> = g
        .inputs
        .iter()
        .flat_map(|i| i.provenance.iter())
        .flat_map(|p| {
            p.get("manifests")
                .and_then(|m| m.as_array())
                .into_iter()
                .flatten()
        })
        .collect();
    let dumps: Vec<&str> = g
        .inputs
        .iter()
        .flat_map(|i| i.provenance.iter())
        .flat_map(|p| {
            p.get("inputs")
                .and_then(|m| m.as_array())
                .into_iter()
                .flatten()
        })
        .filter_map(|v| v.as_str())
        .collect();
    let mut dumps = dumps;
    dumps.sort_unstable();
    dumps.dedup();
    let _ = writeln!(
        body,
        "<p>Scanned: {}.</p>",
        if dumps.is_empty() {
            "not recorded".to_string()
        } else {
            dumps
                .iter()
                .map(|d| format!("<code>{}</code>", esc(d)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    if manifests.is_empty() {
        body.push_str("<p class=\"muted\">No dataset manifest was joined onto the records.</p>\n");
    } else {
        body.push_str("<table>\n<tr><th>manifest</th><th>layout</th><th>entries</th></tr>\n");
        let mut seen = Vec::new();
        for m in manifests {
            if seen.contains(&m) {
                continue;
            }
            seen.push(m);
            let s = |k: &str| {
                m.get(k).map_or(String::new(), |v| {
                    v.as_str().map_or(v.to_string(), str::to_string)
                })
            };
            let _ = writeln!(
                body,
                "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td></tr>",
                esc(&s("path")),
                esc(&s("layout")),
                esc(&s("entries"))
            );
        }
        body.push_str("</table>\n");
        if let Some(d) = summary.as_ref().and_then(|s| s.dataset) {
            let _ = writeln!(
                body,
                "<p>{} joined to a manifest entry, {} known to no manifest.</p>",
                count(d.joined as usize, "item", "items"),
                d.not_in_manifest
            );
        }
    }
    let with_dataset = claims
        .claims
        .iter()
        .filter(|c| c.dataset_id.is_some())
        .count();
    if with_dataset > 0 {
        let _ = writeln!(
            body,
            "<p>{} name their dataset entry.</p>",
            count(with_dataset, "claim", "claims")
        );
    }

    body.push_str("<h2>What produced this</h2>\n");
    for input in &g.inputs {
        let _ = writeln!(
            body,
            "<h3><code>{}</code></h3>\n<p>{} lines: {} records{}.</p>",
            esc(&input.path.display().to_string()),
            input.lines,
            input.records,
            if input.bad_lines > 0 {
                format!(", {} not records (skipped)", input.bad_lines)
            } else {
                String::new()
            }
        );
        if input.provenance.is_empty() {
            body.push_str("<p class=\"muted\">No provenance record: written by an earmark before outputs began with one, or not the start of an output.</p>\n");
        }
        for p in &input.provenance {
            provenance(&mut body, p, input.summaries.first());
        }
        if input.summaries.is_empty() {
            body.push_str("<p class=\"muted\">No summary record: the scan did not finish, or the file was cut.</p>\n");
        }
    }
    if !g.bad.is_empty() {
        let _ = writeln!(
            body,
            "<h2>Lines that are not records</h2>\n<p>{} skipped; the first:</p>\n<ul>",
            g.bad_lines
        );
        for b in &g.bad {
            let _ = writeln!(body, "<li><code>{}</code></li>", esc(&b.to_string()));
        }
        body.push_str("</ul>\n");
    }
    if let Some(note) = &g.index_note {
        let _ = writeln!(body, "<p class=\"muted\">{}</p>", esc(note));
    }
    write_page(
        dir,
        "index.html",
        &page("earmark report", Nav::Overview, &body),
    )
}

/// One provenance record as a table.
fn provenance(out: &mut String, p: &serde_json::Value, summary: Option<&crate::report::Summary>) {
    let s = |v: Option<&serde_json::Value>| {
        v.map_or(String::new(), |v| {
            v.as_str().map_or(v.to_string(), str::to_string)
        })
    };
    let index = p.get("index");
    let _ = writeln!(out, "<table>");
    let mut row = |name: &str, value: String| {
        let _ = writeln!(out, "<tr><th>{name}</th><td>{value}</td></tr>");
    };
    row(
        "earmark",
        format!(
            "{} (commit <code>{}</code>)",
            esc(&s(p.get("earmark"))),
            esc(&s(p.get("commit")))
        ),
    );
    row("started", esc(&s(p.get("started"))).into_owned());
    if let Some(f) = summary.and_then(|s| s.finished.as_deref()) {
        row("finished", esc(f).into_owned());
    }
    if let Some(i) = index {
        row(
            "index",
            format!(
                "<code>{}</code>: {} tracks, {} postings, format {}, {} bytes",
                esc(&s(i.get("path"))),
                esc(&s(i.get("tracks"))),
                esc(&s(i.get("postings"))),
                esc(&s(i.get("format_version"))),
                esc(&s(i.get("bytes"))),
            ),
        );
        row(
            "index checksum",
            format!("<span class=\"hash\">{}</span>", esc(&s(i.get("checksum")))),
        );
    }
    if let Some(options) = p.get("options").and_then(|o| o.as_object()) {
        let main: Vec<String> = [
            "--profile",
            "--strictness",
            "--max-pitch",
            "--max-tempo",
            "--shard",
        ]
        .iter()
        .filter_map(|k| options.get(*k).map(|v| format!("{k} {}", esc(&s(Some(v))))))
        .collect();
        let all: Vec<String> = options
            .iter()
            .map(|(k, v)| format!("{} = {}", esc(k), esc(&s(Some(v)))))
            .collect();
        row(
            "options",
            format!(
                "{}<details><summary>every option</summary><code>{}</code></details>",
                main.join(", "),
                all.join("<br>")
            ),
        );
    }
    out.push_str("</table>\n");
}
