//! Matching: query landmarks in, [`Match`]es — track, time ranges, speed, score — out.
//!
//! 1. **Lookup.** Each landmark's probe triplets ([`HashLayout::probes`]) are looked up: a rare
//!    triplet whole, a common one (more than [`QueryParams::fourth_peak_above`] postings) only
//!    where its fourth peak is one the query offers ([`HashLayout::fourth_cells`]). A short
//!    triplet's far time-ratio cells ([`QueryParams::ratio_jitter_frames`]) are read only where
//!    they are rare and their near sibling (the same other cells) was too. A dense-layer
//!    landmark ([`Landmark::dense`]) is looked up in its own cells only
//!    ([`QueryParams::at_own_cells`]). Every posting becomes a [`Hit`] `(query frame, reference
//!    frame)` for its track.
//! 2. **Votes.** Per track, hits are cut into overlapping windows of the query; in each the
//!    [`line::best_line`] search finds the time line (speed and offset) most hits agree with.
//!    A long item's windows are searched a chunk at a time as its hits arrive, and the hits
//!    dropped (`CHUNK_WINDOW_STARTS`), so memory does not grow with the item.
//! 3. **Verification.** A window's line must gather enough hits, improbably many by chance
//!    (one minus the chance that the best of all the lines searched would gather as many hits
//!    if this track's hits were spread at random must reach 0.99). Where the index stores the
//!    track's peaks, a line of [`QueryParams::candidate_score`] hits is then checked against
//!    them ([`verify`]): the track's peaks that the item holds where the line puts them, each
//!    weighted by how rarely chance puts an item peak there, must be improbable for a
//!    recording unrelated to the track ([`QueryParams::min_peak_evidence`]). Without stored
//!    peaks, a line must gather the score of its transform from several pitches
//!    ([`QueryParams::min_pitches`]).
//! 4. **Segments.** Consecutive windows of one track on the same line merge into one match,
//!    refitted by least squares; separate lines of a track (a track played twice) or separate
//!    tracks (a medley) stay separate matches.
//! 5. **Shadows.** A weaker match of another track under a stronger one is dropped when it is
//!    four times weaker, or clearly weaker and resting on the stronger one's query peaks (a
//!    passage two catalogue tracks share): `candidates::suppress_shadows`.
//!
//! Step 2's grouping of hits by track and pitch shift is in `groups`, its chance test in
//! `chance`; step 5 and the folding of a track's repeats are in `candidates`.

mod candidates;
mod chance;
mod groups;
pub mod line;
pub mod verify;

use std::collections::BTreeMap;

use crate::config::QueryParams;
use crate::fingerprint::{Detail, Hash, HashLayout, Landmark, Peak};
use crate::index::reader::TrackPeaks;
use crate::index::{Index, Posting, Postings, TrackId};
use candidates::{Candidate, fold_repeats, suppress_shadows};
use chance::ChanceLine;
use groups::{
    Grouping, anchors_of, densest_pitch, for_each_track, inliers_of, is_inlier, offsets_cluster,
    pitches_of, split_by_pitch, unchanged, unchanged_cluster,
};
pub use line::{Hit, Line};
use verify::MIN_CHECK_SECONDS;
pub use verify::PeakCheck;

/// Changes with every change to which matches an index and a query yield (a scan's resume
/// journal records it, and refuses to mix two revisions' answers in one output). 1: up to
/// session 7's dense layer; 2: shadows found by shared query peaks, dense triplets read whole
/// up to [`QueryParams::dense_fourth_peak_above`]; 3: matches rest on several pitches
/// ([`QueryParams::min_pitches`]), lower minimum scores, and no extra point for far hits; 4:
/// candidates checked against the track's stored peaks ([`verify`]); 5: the check weighs each
/// heard peak by how rarely chance hears it, and candidates start at 3 hashes; 6: a window's
/// lines are searched at every pitch shift holding the hits a line needs, not only the commonest;
/// 7: an unchanged copy's line is searched on its own odds, from two hashes where the peak check
/// decides; 8: a window's strongest line is taken first, whatever its pitch shift; 9: fine
/// peaks form triplets and join the peak check.
pub const REVISION: u32 = 9;

/// Evidence beyond `--min-peak-evidence` that a checked line of fewer hashes than
/// `--candidate-score` needs (an unchanged copy's line of 2, [`Matcher::unchanged_line`]). Chance
/// tracks' lines of 2 reach the check far more often than lines of 3: among 10^8 postings, 59
/// against 3.3 per 10 s clip (the synthetic tracks' lines, which would be checked had those
/// tracks peaks), so to be accused as rarely they need log10(18) ≈ 1.3 more; 2 leaves room for
/// larger catalogues. The right answers of 2 hashes on both corpora, at both sizes, scored
/// 13–29.
const SHORT_LINE_EVIDENCE: f64 = 2.0;

/// Matches less certain than this are not reported.
const MIN_CONFIDENCE: f64 = 0.99;
/// Lines a window may start besides those its segments already follow. A 10 s query cut from
/// a passage looped every 2 s (ufoai's MarineUrbanWarfare) fits 13 of its repeats almost
/// equally, and lines are found in order of raw hit count, not score: with 8, the true
/// position was left out once (BENCHMARKS.md, session 7). The strongest line of any pitch shift
/// is found first ([`Matcher::new_line`]), so the cap drops the weakest.
const MAX_NEW_LINES_PER_WINDOW: usize = 16;
/// Window starts searched per chunk of an item. A long item's hits are resolved a chunk at a
/// time, as they arrive, and then dropped, so that a worker holds about `n + 1` half windows of
/// hits instead of the whole item's: among 10^10 postings' chance hits a 9-minute song held
/// 3 GB at `--key-sample 8` (ARCHITECTURE.md, "Long items"). The half window that two chunks
/// share is grouped by track twice.
const CHUNK_WINDOW_STARTS: u32 = 4;
/// Held hits (20 bytes each) beyond which every window already complete is searched, however
/// few: the heaviest songs among 10^10 postings' chance hits gather 80 million hits in 4
/// window starts.
const HIT_BUDGET: usize = 1 << 24;
/// Hits of one match agree on the pitch shift within this many quarter semitones...
const PITCH_TOLERANCE: i16 = 2;
/// ...and on the time scale within this many span units (1.5 % each).
const SPAN_TOLERANCE: f64 = 4.0;

/// One triplet key to look up for one query landmark.
#[derive(Debug, Clone, Copy)]
struct Probe {
    /// The triplet key, fourth-peak cell 0.
    hash: Hash,
    frame: u32,
    detail: Detail,
    /// The probe's landmark in `Matcher::landmarks`.
    landmark: u32,
    /// A time-ratio cell beyond the probe margin ([`HashLayout::probes`]): read only where the
    /// triplet is rare, and its near sibling's was too.
    far: bool,
    /// Its place in `Matcher::rare`: the same for probes that differ only in the ratio cell.
    sibling: u32,
}

/// A catalogue track heard in a query item.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Match {
    pub track: TrackId,
    /// Hits on the match's time line (distinct anchor pairs).
    pub score: u32,
    /// 0..1: one minus the chance of a line this strong among random hits.
    pub confidence: f64,
    /// Seconds into the item where the match starts and ends.
    pub item_start: f64,
    pub item_end: f64,
    /// Seconds into the catalogue track.
    pub track_start: f64,
    pub track_end: f64,
    /// Playback speed of the item relative to the catalogue track (1.0 when unchanged).
    pub speed: f64,
    /// Pitch of the item relative to the catalogue track, semitones, to a quarter semitone
    /// (a speed change shifts pitch too: 12·log2(speed)).
    pub pitch: f64,
    /// Other places in the track, seconds, where the item's stretch fits too (each verified on
    /// its own line): where the track repeats the passage, each repeat's start, ascending. The
    /// match itself is the best-supported place. Empty for a passage the track plays once.
    #[serde(default)]
    pub also_at: Vec<f64>,
    /// The check against the track's stored peaks; `None` where the index stores none.
    #[serde(default)]
    pub peak_check: Option<PeakCheck>,
}

/// Looks up landmarks and turns hits into matches. Cheap to create; one per worker or per item.
pub struct Matcher<'i, D: AsRef<[u8]>> {
    index: &'i Index<D>,
    layout: HashLayout,
    query: QueryParams,
    /// How dense-layer landmarks are looked up ([`QueryParams::at_own_cells`]).
    dense_query: QueryParams,
    frame_seconds: f64,
    /// One landmark's probe hashes (kept to reuse the allocation).
    probes: Vec<Hash>,
    /// Probes waiting for [`Self::lookup`].
    pending: Vec<Probe>,
    /// The pending probes' landmarks, for the fourth peaks of common triplets.
    landmarks: Vec<Landmark>,
    /// Per pending anchor, interval and span cell of each landmark ([`Probe::sibling`]): whether
    /// its near probe met a rare or empty triplet...
    rare: Vec<bool>,
    /// ...and per pending landmark: whether one of its near probes met a rare, non-empty one.
    landmark_rare: Vec<bool>,
    /// The fourth-peak cells of one triplet's probes (kept to reuse the allocation).
    fourth_cells: Vec<u64>,
    /// Hits with their track not yet resolved, unordered until a chunk groups them by track.
    hits: Vec<(u32, Hit)>,
    /// Query frames of a window ([`window_frames`]); windows start every half window.
    window: u32,
    /// Windows starting before this query frame (a multiple of half a window) are searched,
    /// and the hits only they needed are dropped.
    searched_to: u32,
    /// The lines found so far, by track, until `finish` reports them.
    open: BTreeMap<u32, Vec<Segment>>,
    /// [`CHUNK_WINDOW_STARTS`]; `u32::MAX` resolves the whole item at its end.
    chunk_window_starts: u32,
    /// [`HIT_BUDGET`].
    hit_budget: usize,
    grouping: Grouping,
    line_buffers: LineBuffers,
    /// Largest pitch and span differences a hit may show and still fit a shift and time scale
    /// within the query's limits (with the verification tolerances on top).
    max_pitch: i16,
    max_span: i16,
    /// The speeds a window's line search tries, for hits reaching `half_span` frames either
    /// side of the line's centre: finest first, for the whole window, then coarser for hits
    /// spanning a half, a quarter... of it (they depend on the query settings only).
    speed_grids: Vec<SpeedGrid>,
    /// Triplets with more postings than this are skipped as common.
    common_cap: u64,
    /// Triplets with more postings than this are read only at the query's fourth peaks.
    narrow_above: u64,
    /// The same for dense-layer landmarks ([`QueryParams::dense_fourth_peak_above`]).
    dense_narrow_above: u64,
    /// The item's peaks, for the peak check; sorted by time in `finish`.
    query_peaks: Vec<verify::QueryPeak>,
    /// Whether candidates are checked against stored peaks, where a track has them: the index
    /// stores peaks, the check is on, and the caller gave the item's peaks.
    checks_peaks: bool,
    /// The fewest hits a line may gather and still be pursued: a candidate's, when checked.
    min_line: usize,
    /// The same for an unchanged copy's line, where that line is searched on its own odds
    /// ([`Matcher::unchanged_line`]): one fewer. Never more than `min_line`.
    min_unchanged_line: Option<usize>,
}

impl<'i, D: AsRef<[u8]>> Matcher<'i, D> {
    pub fn new(index: &'i Index<D>, query: QueryParams) -> Self {
        let params = index.params();
        let layout = HashLayout::new(params);
        // A pitch shift moves the anchor (quarter semitones); a speed or tempo change scales
        // the span. Hits beyond both can never be verified, so they are dropped at lookup.
        let max_pitch = (query.max_pitch_semitones.max(0.0) * 4.0).ceil() as i16 + PITCH_TOLERANCE;
        let max_span = layout
            .span_units_for_speed(1.0 / (1.0 + f64::from(query.max_tempo_change.clamp(0.0, 0.9))))
            .abs()
            .ceil() as i16
            + SPAN_TOLERANCE as i16;
        let (narrow_above, dense_narrow_above) = if layout.fourth_bits() > 0 {
            (query.fourth_peak_above, query.dense_fourth_peak_above)
        } else {
            (u64::MAX, u64::MAX)
        };
        let check = peak_check_on(index, &query);
        let min_line = if check {
            query
                .min_evidence()
                .min(query.candidate_score.max(1) as usize)
        } else {
            query.min_evidence()
        };
        // Only where the peak check decides, and on items read at every key: with sampled keys
        // the items are whole songs, whose lines are long, and among an emulated 10^10
        // postings the search cost 11 % more CPU and found nothing more.
        let min_unchanged_line = (check && query.key_sample <= 1)
            .then(|| min_line.min(Transform::Unchanged.candidate_score(&query)));
        Matcher {
            query_peaks: Vec::new(),
            checks_peaks: false,
            min_line,
            min_unchanged_line,
            layout,
            frame_seconds: params.frame_seconds(),
            index,
            query,
            dense_query: query.at_own_cells(),
            probes: Vec::new(),
            pending: Vec::new(),
            landmarks: Vec::new(),
            rare: Vec::new(),
            landmark_rare: Vec::new(),
            fourth_cells: Vec::new(),
            hits: Vec::new(),
            window: window_frames(&query, params.frame_seconds()),
            searched_to: 0,
            open: BTreeMap::new(),
            chunk_window_starts: CHUNK_WINDOW_STARTS,
            hit_budget: HIT_BUDGET,
            grouping: Grouping::default(),
            line_buffers: LineBuffers::default(),
            max_pitch,
            max_span,
            common_cap: query.max_postings_per_hash(index.postings()),
            narrow_above,
            dense_narrow_above,
            speed_grids: SpeedGrid::all(&query, params.frame_seconds()),
        }
    }

    /// Takes query landmarks; their hits are gathered in batches (see `Matcher::lookup`).
    pub fn add(&mut self, landmarks: impl IntoIterator<Item = Landmark>) {
        let mut latest = None;
        for m in landmarks {
            debug_assert!(
                latest.is_none_or(|f| f <= m.frame),
                "chunks need landmarks in anchor order"
            );
            latest = Some(m.frame);
            self.probes.clear();
            // A dense landmark is looked up in its own cells only: the dense layer is for music
            // masked by other sound (speech, a narrow band) at the query's own pitch and speed,
            // and probed across every pitch and tempo cell its triplets would triple a query's
            // probes for one query more found (ARCHITECTURE.md, "Dense layer").
            let cells = if m.dense {
                &self.dense_query
            } else {
                &self.query
            };
            let blocks = self.layout.probes(&m, cells, &mut self.probes);
            let detail = self.layout.detail(&m);
            let landmark = self.landmarks.len() as u32;
            self.landmarks.push(m);
            self.landmark_rare.push(false);
            let base = self.rare.len();
            self.rare.resize(base + blocks.block, false);
            let query = &self.query;
            self.pending.extend(
                self.probes
                    .iter()
                    .enumerate()
                    .filter(|(_, h)| query.samples_key(h.0))
                    .map(|(i, &hash)| Probe {
                        hash,
                        frame: m.frame,
                        detail,
                        landmark,
                        far: i >= blocks.near,
                        sibling: (base + i % blocks.block) as u32,
                    }),
            );
            if self.pending.len() >= self.query.probe_batch as usize {
                self.lookup();
            }
        }
        // Every landmark before the latest has been looked up once none is pending.
        if let Some(frame) = latest
            && self.pending.is_empty()
        {
            self.resolve_before(frame);
        }
    }

    /// Searches the chunks of windows whose hits all lie before query frame `frame`.
    fn resolve_before(&mut self, frame: u32) {
        let half = self.window / 2;
        loop {
            let starts = self.chunk_window_starts.max(1);
            let mut to = self.searched_to.saturating_add(starts.saturating_mul(half));
            if self.hits.len() >= self.hit_budget {
                // Over the budget: every window already complete, however few.
                let complete = frame.saturating_add(half).saturating_sub(self.window) / half * half;
                if complete > self.searched_to {
                    to = complete;
                }
            }
            if to == u32::MAX || chunk_end(to, self.window) > frame {
                return;
            }
            self.resolve_chunk(to);
        }
    }

    /// Searches the windows starting from `searched_to` up to `to`, and drops the hits that
    /// later windows do not need. Lines carry over to the next chunk in `open`, so the windows
    /// and lines are those of resolving the whole item at once (tested).
    fn resolve_chunk(&mut self, to: u32) {
        let from = self.searched_to;
        self.searched_to = to;
        let below = if to == u32::MAX {
            u32::MAX
        } else {
            chunk_end(to, self.window)
        };
        let min = self.min_line;
        let min_unchanged = self.min_unchanged_line.unwrap_or(usize::MAX);
        let tolerance = f64::from(self.query.inlier_tolerance_frames);
        let mut hits = std::mem::take(&mut self.hits);
        let mut open = std::mem::take(&mut self.open);
        let mut grouping = std::mem::take(&mut self.grouping);
        let mut buffers = std::mem::take(&mut self.line_buffers);
        let tracks = self.index.tracks() as usize;
        // Later windows start at `to` or after.
        let span = (below, to);
        let fewest = min.min(min_unchanged);
        for_each_track(
            &mut hits,
            span,
            tracks,
            fewest,
            &mut grouping,
            |track, run| {
                // No window can verify a line unless `min` hits agree on a pitch shift, or
                // `min_unchanged` that show no change agree on an offset. Among 10^8 postings
                // nearly every track holds the first, and 1 in 27 the second: the unchanged line
                // search is ruled out here for the rest.
                let shifted = run.len() >= min && densest_pitch(run).is_some_and(|(_, n)| n >= min);
                let unchanged = run.len() >= min_unchanged
                    && unchanged_cluster(run, tolerance, min_unchanged, &mut buffers.offsets);
                if !shifted && !unchanged {
                    return;
                }
                let id = TrackId(track);
                let span = (from, to);
                match open.get_mut(&track) {
                    Some(segments) => {
                        self.search_windows(id, run, span, unchanged, segments, &mut buffers)
                    }
                    None => {
                        let mut segments = Vec::new();
                        self.search_windows(id, run, span, unchanged, &mut segments, &mut buffers);
                        if !segments.is_empty() {
                            open.insert(track, segments);
                        }
                    }
                }
            },
        );
        self.open = open;
        self.grouping = grouping;
        self.line_buffers = buffers;
        self.hits = hits;
    }

    /// Takes the item's peaks (all those its fingerprinter picked), for checking candidates
    /// against the tracks' stored peaks.
    pub fn add_peaks(&mut self, peaks: impl IntoIterator<Item = Peak>) {
        if peak_check_on(self.index, &self.query) {
            self.checks_peaks = true;
            let params = self.index.params();
            self.query_peaks
                .extend(peaks.into_iter().map(|p| verify::QueryPeak::of(&p, params)));
        }
    }

    /// Adds the item's fine peaks ([`QueryParams::fine_peaks_per_second`]) that are not also
    /// ordinary ones (as `Fingerprinter::take_fine_peaks` gives them), which the peak check
    /// reads where the peaks of [`Self::add_peaks`] hold none of a track's.
    pub fn add_fine_peaks(&mut self, peaks: impl IntoIterator<Item = Peak>) {
        if peak_check_on(self.index, &self.query) {
            let params = self.index.params();
            self.query_peaks.extend(
                peaks
                    .into_iter()
                    .map(|p| verify::QueryPeak::fine(&p, params)),
            );
        }
    }

    /// Looks up the pending probes in hash order (one landmark's, or a batch of
    /// [`QueryParams::probe_batch`]), so that a batch reads the index front to back, and keeps
    /// the hits that some allowed pitch shift and time scale could explain.
    fn lookup(&mut self) {
        let index = self.index;
        let mut pending = std::mem::take(&mut self.pending);
        if self.query.probe_batch > 1 {
            // Far probes last: whether they are read depends on their landmark's near ones.
            pending.sort_unstable_by_key(|p| (p.far, p.hash.0));
        }
        for p in pending.iter().filter(|p| !p.far) {
            index.prefetch(p.hash);
        }
        for same in pending.chunk_by(|a, b| a.hash == b.hash && a.far == b.far) {
            // A far probe is read only where its near sibling (same anchor, interval and span
            // cells) met a rare or empty triplet, and some near probe of its landmark a rare,
            // non-empty one. Where the near ones are common (most are, in a large catalogue) the
            // far ones almost always are too, and would cost a directory read each for nothing;
            // an empty sibling is where a moved ratio most often left the true key. (A sibling
            // that `--key-sample` left out is not looked up, so neither is its far probe; in a
            // sorted batch, far probes sharing a triplet with a wanted one are read with it.)
            let wanted = |p: &Probe| {
                self.landmark_rare[p.landmark as usize] && self.rare[p.sibling as usize]
            };
            if same[0].far && !same.iter().any(wanted) {
                continue;
            }
            let (first, last) = self.layout.triplet_range(same[0].hash);
            let whole = index.lookup_range(first, last);
            // The most common triplets are skipped, fourth peak or not: reading even a
            // fraction of them dominated the slowest queries and found nothing more.
            if whole.remaining() > self.common_cap {
                continue;
            }
            if whole.remaining() <= self.narrow_above {
                if !same[0].far {
                    for p in same {
                        self.rare[p.sibling as usize] = true;
                        self.landmark_rare[p.landmark as usize] |= whole.remaining() > 0;
                    }
                }
                self.collect(whole, same);
                continue;
            }
            if same[0].far {
                continue;
            }
            // Dense landmarks read fuller triplets whole (in a sorted batch, a triplet may have
            // probes of both layers: the core ones are read at their fourth peaks below).
            let dense_whole = whole.remaining() <= self.dense_narrow_above;
            let read_whole = |m: &Landmark| dense_whole && m.dense && !m.fine;
            if same
                .iter()
                .any(|p| read_whole(&self.landmarks[p.landmark as usize]))
            {
                for posting in whole {
                    for probe in same {
                        if read_whole(&self.landmarks[probe.landmark as usize]) {
                            self.hit(posting, probe);
                        }
                    }
                }
            }
            // A common triplet: only the fourth peaks each probe's landmark offers (worked out
            // here, as most triplets of a small catalogue are rare).
            let mut cells = std::mem::take(&mut self.fourth_cells);
            cells.clear();
            cells.extend(same.iter().map(|probe| {
                let m = &self.landmarks[probe.landmark as usize];
                if read_whole(m) {
                    0
                } else {
                    self.layout.fourth_cells(m, &self.query)
                }
            }));
            // A search per cell (sweeping the whole triplet instead and keeping the offered
            // cells cost more at 10^8 postings, BENCHMARKS.md: the bucket is in cache after the
            // first search), each cell once for every probe of the triplet that offers it.
            let mut rest = cells.iter().fold(0, |all, &offered| all | offered);
            while rest != 0 {
                let cell = rest.trailing_zeros();
                rest &= rest - 1;
                for p in index.lookup(Hash(first.0 | cell)) {
                    for (probe, &offered) in same.iter().zip(&cells) {
                        if offered & 1 << cell != 0 {
                            self.hit(p, probe);
                        }
                    }
                }
            }
            self.fourth_cells = cells;
        }
        pending.clear();
        self.pending = pending;
        self.landmarks.clear();
        self.rare.clear();
        self.landmark_rare.clear();
    }

    /// Turns postings into hits for each probe they could answer.
    fn collect(&mut self, postings: Postings<'_, D>, probes: &[Probe]) {
        for p in postings {
            for probe in probes {
                self.hit(p, probe);
            }
        }
    }

    /// Keeps a posting as a hit of `probe` if some allowed pitch shift and time scale could
    /// explain it.
    fn hit(&mut self, p: Posting, probe: &Probe) {
        if p.track.0 >= self.index.tracks() {
            return;
        }
        let (pitch, span) = probe.detail.since(p.detail);
        if pitch.abs() <= self.max_pitch && span.abs() <= self.max_span {
            self.hits.push((
                p.track.0,
                Hit {
                    q: probe.frame,
                    r: p.frame,
                    pitch,
                    span,
                    far: probe.far,
                    anchor: probe.detail.anchor_cell(),
                },
            ));
        }
    }

    /// Resolves the hits gathered so far into matches, ordered by start time in the item, and
    /// leaves the matcher ready for another item.
    pub fn finish(&mut self) -> Vec<Match> {
        self.lookup();
        self.resolve_chunk(u32::MAX);
        self.searched_to = 0;
        self.grouping = Grouping::default();
        self.line_buffers = LineBuffers::default();
        self.query_peaks.sort_by(|a, b| a.time.total_cmp(&b.time));
        let mut found = Vec::new();
        for (track, segments) in std::mem::take(&mut self.open) {
            self.report_track(TrackId(track), segments, &mut found);
        }
        self.query_peaks.clear();
        self.checks_peaks = false;
        suppress_shadows(&mut found);
        let mut matches: Vec<Match> = found.into_iter().map(|c| c.m).collect();
        matches.sort_by(|a, b| {
            a.item_start
                .total_cmp(&b.item_start)
                .then(a.track.cmp(&b.track))
        });
        matches
    }

    /// A line among `hits` (the part of a window's `window_hits` hits that no segment explains
    /// yet) strong enough to report: the one with the most hits at any pitch shift, or else an
    /// unchanged copy's ([`Matcher::unchanged_line`]). Searching only the commonest shift lost
    /// copies whose shift was outnumbered: a query's dense layer is looked up at its own pitch
    /// only, so a pitch-shifted copy's true hits can be fewer than the chance hits its own track
    /// gathers unshifted. Taking the first shift that yields a line lost them too where a track
    /// plays the figure again transposed: the ten places of the transposed figure, a dozen hits
    /// each, filled the window's [`MAX_NEW_LINES_PER_WINDOW`] before the true line of 40 hits at
    /// a less common shift was searched (held-out corpus, planetblupi music003 at −1 semitone).
    fn new_line(
        &self,
        hits: &[Hit],
        window_hits: usize,
        centre: f64,
        search: &mut LineSearch<'_>,
    ) -> Option<Segment> {
        let min = self.min_line;
        let tolerance = f64::from(self.query.inlier_tolerance_frames);
        let max_change = f64::from(self.query.max_tempo_change);
        let speeds = (1.0 / (1.0 + max_change), 1.0 + max_change);
        let LineBuffers {
            scratch,
            shifts,
            group_of,
            groups,
            offsets,
            events,
            ..
        } = &mut *search.buffers;
        // No shift with fewer hits than a line needs is searched.
        let needed = search.needed;
        split_by_pitch(hits, needed, shifts, group_of, groups);
        let mut strongest: Option<(Line, Vec<Hit>, i16, f64)> = None;
        for pitched in groups.iter().take(shifts.len()) {
            // A shift must beat the strongest line so far (the commoner shift wins ties).
            let needed = strongest
                .as_ref()
                .map_or(needed, |(best, ..)| best.count + 1);
            // Cheap tests before the line search, which dominates the cost when many tracks
            // share hashes: enough hits and anchors at this pitch shift, the hits a line needs
            // within the offset drift that the searched speeds allow, and (where they are few,
            // as on most chance tracks) enough agreeing pairwise on one speed.
            if pitched.len() < needed
                || anchors_of(pitched) < min
                || !offsets_cluster(pitched, search.drift, needed, offsets)
                || !line::may_reach(pitched, speeds, tolerance, needed, events)
            {
                continue;
            }
            let Some(best) =
                line::best_line(pitched, centre, search.speeds, tolerance, needed, scratch)
            else {
                continue;
            };
            let confidence = search.chance.confidence(best.count, window_hits);
            if confidence < MIN_CONFIDENCE {
                continue;
            }
            // Every hit on a true line shows the same pitch shift and time scale; random
            // hits on it do not. Only the consistent ones count.
            let (inliers, pitch) = self.consistent(inliers_of(hits, &best, tolerance), &best, None);
            if anchors_of(&inliers) >= min {
                strongest = Some((best, inliers, pitch, confidence));
            }
        }
        let Some((best, inliers, pitch, confidence)) = strongest else {
            return self.unchanged_line(hits, centre, search);
        };
        let line = line::refit(&inliers, centre, best, max_change, search.min_span);
        Some(Segment {
            inliers,
            line,
            confidence,
            pitch,
        })
    }

    /// An unchanged copy's line among `hits` (speed 1, no pitch shift) that the search over
    /// every speed and shift could not believe. That search needs a line to beat the best chance
    /// line of about 24 speeds among all the window's hits; an unchanged copy is one of those
    /// lines, and can gather only the hits that show no change. So it is tested on its own odds
    /// ([`LineSearch::unchanged_chance`]: one speed, among those hits), and where the peak check
    /// decides, a line of one hash fewer is checked. Music under speech
    /// keeps its peaks better than its triplets: on the corpus, 9 of the 12 speech queries
    /// missed until then had 2 or 3 true anchors on a track holding 25–140 hits, and at the
    /// truth's place the item held the track's peaks with evidence 4.5–22, above 7 for 7 of
    /// them (ARCHITECTURE.md, "Unchanged copies").
    fn unchanged_line(
        &self,
        hits: &[Hit],
        centre: f64,
        search: &mut LineSearch<'_>,
    ) -> Option<Segment> {
        let min = self.min_unchanged_line?;
        let tolerance = f64::from(self.query.inlier_tolerance_frames);
        let needed = search.unchanged_needed;
        if search.unchanged_hits < needed {
            return None;
        }
        let LineBuffers {
            scratch,
            offsets,
            same,
            ..
        } = &mut *search.buffers;
        same.clear();
        same.extend(hits.iter().copied().filter(unchanged));
        if anchors_of(same) < min || !offsets_cluster(&*same, tolerance, needed, offsets) {
            return None;
        }
        let best = line::best_line(same, centre, &[1.0], tolerance, needed, scratch)?;
        let confidence = search
            .unchanged_chance
            .confidence(best.count, search.unchanged_hits);
        if confidence < MIN_CONFIDENCE {
            return None;
        }
        let (inliers, pitch) = self.consistent(inliers_of(same, &best, tolerance), &best, Some(0));
        (anchors_of(&inliers) >= min).then_some(Segment {
            inliers,
            line: best,
            confidence,
            pitch,
        })
    }

    /// The fewest anchors that extend a segment on `line` at `pitch` (quarter semitones) into
    /// another window: an unchanged copy's line may hold one fewer.
    fn min_line_for(&self, line: &Line, pitch: i16) -> usize {
        match self.min_unchanged_line {
            Some(min) if line.speed == 1.0 && pitch == 0 => min,
            _ => self.min_line,
        }
    }

    /// The hits that agree with the line's time scale and with one pitch shift: `pitch` when
    /// given, else the most common one. Returns them and that pitch shift.
    fn consistent(&self, hits: Vec<Hit>, line: &Line, pitch: Option<i16>) -> (Vec<Hit>, i16) {
        let span = self.layout.span_units_for_speed(line.speed);
        let mut hits: Vec<Hit> = hits
            .into_iter()
            .filter(|h| (f64::from(h.span) - span).abs() <= SPAN_TOLERANCE)
            .collect();
        let pitch = pitch.unwrap_or_else(|| {
            let mut p: Vec<i16> = hits.iter().map(|h| h.pitch).collect();
            p.sort_unstable();
            // The densest window of width 2·tolerance; its centre is the shared pitch shift.
            let (mut best, mut lo) = ((0, 0), 0);
            for hi in 0..p.len() {
                while p[hi] - p[lo] > 2 * PITCH_TOLERANCE {
                    lo += 1;
                }
                if hi + 1 - lo > best.0 {
                    best = (hi + 1 - lo, (p[lo] + p[hi]) / 2);
                }
            }
            best.1
        });
        hits.retain(|h| (h.pitch - pitch).abs() <= PITCH_TOLERANCE);
        (hits, pitch)
    }

    /// The peak check of the segment `q0..q1` (item frames) on `line` at `pitch` (semitones),
    /// over at least [`MIN_CHECK_SECONDS`] of the item around it, and the pitch shift (semitones)
    /// it found best.
    fn check_peaks(
        &self,
        peaks: TrackPeaks<'_>,
        line: &Line,
        (q0, q1): (f64, f64),
        pitch: f64,
        scratch: &mut verify::CheckScratch,
    ) -> (PeakCheck, f64) {
        let item_frames = self.query_peaks.last().map_or(0.0, |p| f64::from(p.time));
        let half = (0.5 * (q1 - q0)).max(0.5 * MIN_CHECK_SECONDS / self.frame_seconds);
        let mid = 0.5 * (q0 + q1);
        let alignment = verify::Alignment {
            item_at: q0,
            track_at: line.at(q0),
            speed: line.speed,
            pitch: 16.0 * pitch,
            item_from: (mid - half).max(0.0),
            item_to: (mid + half).min(item_frames.max(q1)),
        };
        let (c, sixteenths) = verify::best_check(peaks, &self.query_peaks, &alignment, scratch);
        (c, sixteenths / 16.0)
    }

    /// Searches the windows of one track's `hits` (sorted, distinct) that start within
    /// `from..to` (query frames, multiples of half a window) for lines, extending `segments`,
    /// the lines its earlier windows found.
    fn search_windows(
        &self,
        track: TrackId,
        hits: &[Hit],
        (from, to): (u32, u32),
        may_be_unchanged: bool,
        segments: &mut Vec<Segment>,
        buffers: &mut LineBuffers,
    ) {
        let q = &self.query;
        let window = self.window;
        let tolerance = f64::from(q.inlier_tolerance_frames);
        let max_change = f64::from(q.max_tempo_change);
        let track_frames = self.index.track_frames(track).map_or(1, |f| f.max(1));
        let min = self.min_line;
        let min_unchanged = self.min_unchanged_line.unwrap_or(usize::MAX);
        // Speed is only measured over stretches long enough to show it.
        let min_span = window / 4;
        let mut rest = std::mem::take(&mut buffers.rest);
        let mut search = LineSearch {
            speeds: &self.speed_grids[0].speeds,
            chance: ChanceLine::new(self.speed_grids[0].speeds.len(), track_frames, tolerance),
            needed: min,
            unchanged_chance: ChanceLine::new(1, track_frames, tolerance),
            unchanged_needed: usize::MAX,
            unchanged_hits: 0,
            drift: max_change * f64::from(window / 2) + tolerance,
            min_span,
            buffers,
        };
        let half = window / 2;
        let last = hits[hits.len() - 1].q;
        let mut w0 = (hits[0].q - hits[0].q % half).max(from);
        while w0 <= last && w0 < to {
            let (lo, hi) = (
                hits.partition_point(|h| h.q < w0),
                hits.partition_point(|h| h.q < w0.saturating_add(window)),
            );
            let in_window = &hits[lo..hi];
            let mut centre = f64::from(w0) + f64::from(half);
            w0 = w0.saturating_add(half);
            let unchanged_hits = if may_be_unchanged {
                in_window.iter().filter(|h| unchanged(h)).count()
            } else {
                0
            };
            if in_window.len() < min && unchanged_hits < min_unchanged {
                continue;
            }
            // Hits spanning a fraction of the window (a song shorter than a sampled-key window,
            // its last window) are searched about their middle on a coarser grid of speeds: the
            // grid only has to move a line by the tolerance as far out as the hits reach.
            let (first, last) = (in_window[0].q, in_window[in_window.len() - 1].q);
            let reach = (last - first).div_ceil(2);
            let grid = SpeedGrid::for_reach(&self.speed_grids, reach);
            if !std::ptr::eq(grid, &self.speed_grids[0]) {
                centre = f64::from(first) + f64::from(reach);
            }
            search.speeds = &grid.speeds;
            // The hits a line needs to be believed among this many: the more hits a window
            // holds, the more a chance line gathers.
            search.chance = ChanceLine::new(grid.speeds.len(), track_frames, tolerance);
            search.needed = search.chance.needed(min, in_window.len());
            search.unchanged_needed = if unchanged_hits >= min_unchanged {
                search
                    .unchanged_chance
                    .needed(min_unchanged, unchanged_hits)
            } else {
                usize::MAX
            };
            search.unchanged_hits = unchanged_hits;
            // Windows that the segments' lines already explain extend them; what they leave may
            // hold more lines: a query made of a passage the track plays more than once (a loop,
            // a chorus) matches it at each place, and each is reported.
            rest.clear();
            rest.extend_from_slice(in_window);
            for s in segments
                .iter_mut()
                .filter(|s| s.reaches(in_window[0].q, window))
            {
                let on_line = self
                    .consistent(
                        inliers_of(&rest, &s.line, tolerance),
                        &s.line,
                        Some(s.pitch),
                    )
                    .0;
                if anchors_of(&on_line) >= self.min_line_for(&s.line, s.pitch) {
                    s.inliers.extend(on_line);
                    rest.retain(|h| !is_inlier(h, &s.line, tolerance));
                }
            }
            for _ in 0..MAX_NEW_LINES_PER_WINDOW {
                let Some(segment) = self.new_line(&rest, in_window.len(), centre, &mut search)
                else {
                    break;
                };
                rest.retain(|h| !is_inlier(h, &segment.line, tolerance));
                segments.push(segment);
            }
        }
        search.buffers.rest = rest;
    }

    /// Reports the lines one track's windows found: merged, refitted, checked against the
    /// track's stored peaks (or held to the score of their transform), repeats folded.
    fn report_track(&self, track: TrackId, segments: Vec<Segment>, out: &mut Vec<Candidate>) {
        let q = &self.query;
        let tolerance = f64::from(q.inlier_tolerance_frames);
        let max_change = f64::from(q.max_tempo_change);
        let track_frames = self.index.track_frames(track).map_or(1, |f| f.max(1));
        let peaks = self.index.track_peaks(track);
        let checked = self.checks_peaks && !peaks.is_empty();
        let min_span = self.window / 4;
        let mut check = verify::CheckScratch::default();
        let mut found = Vec::new();
        for mut s in merge_overlapping(segments, tolerance) {
            s.inliers.sort_unstable();
            s.inliers.dedup();
            let centre = f64::from(s.inliers[0].q);
            let fitted = line::refit(&s.inliers, centre, s.line, max_change, min_span);
            // Report unchanged speed as exactly 1 when it explains the hits as well as the fit:
            // a slope fitted over a few seconds wobbles by a few thousandths.
            let unchanged = line::refit(
                &s.inliers,
                centre,
                Line {
                    speed: 1.0,
                    ..fitted
                },
                0.0,
                u32::MAX,
            );
            let line = if 100 * inliers_of(&s.inliers, &unchanged, tolerance).len()
                >= 97 * inliers_of(&s.inliers, &fitted, tolerance).len()
            {
                unchanged
            } else {
                fitted
            };
            let (q0, q1) = (
                f64::from(s.inliers[0].q),
                f64::from(s.inliers[s.inliers.len() - 1].q),
            );
            let fs = self.frame_seconds;
            let clamp = |r: f64| r.clamp(0.0, f64::from(track_frames));
            let score = anchors_of(&s.inliers);
            let speed = (line.speed * 1000.0).round() / 1000.0;
            let mut pitch = f64::from(s.pitch) / 4.0;
            let mut confidence = s.confidence;
            let mut peak_check = None;
            if checked {
                // The cheap test first: the pitches do not depend on the shift the check finds.
                // A line of fewer anchors than that cannot show them all; its heard peaks must
                // show a figure instead (`verify::MIN_HEARD_SEMITONES`).
                let short = score < q.min_pitches_checked as usize;
                if !short && pitches_of(&s.inliers) < q.min_pitches_checked as usize {
                    continue;
                }
                let (c, shift) = self.check_peaks(peaks, &line, (q0, q1), pitch, &mut check);
                if short && check.heard_semitones() < verify::MIN_HEARD_SEMITONES {
                    continue;
                }
                // The peaks measure the shift more finely than the hits' consensus does.
                pitch = shift;
                // A line below the candidate score (an unchanged copy's) needs more evidence.
                let extra = if score < q.candidate_score as usize {
                    SHORT_LINE_EVIDENCE
                } else {
                    0.0
                };
                if score < Transform::of(speed, pitch).candidate_score(q)
                    || c.evidence() < q.min_peak_evidence + extra
                {
                    continue;
                }
                confidence = 1.0 - 10f64.powf(-c.evidence());
                peak_check = Some(c);
            } else if score < Transform::of(speed, pitch).min_score(q)
                || pitches_of(&s.inliers) < q.min_pitches as usize
            {
                continue;
            }
            let m = Match {
                track,
                score: score as u32,
                confidence,
                item_start: q0 * fs,
                item_end: q1 * fs,
                track_start: clamp(line.at(q0)) * fs,
                track_end: clamp(line.at(q1)) * fs,
                speed,
                pitch,
                also_at: Vec::new(),
                peak_check,
            };
            found.push(Candidate::new(m, &s.inliers));
        }
        out.extend(fold_repeats(found));
    }
}

/// How a match's copy was changed, judged from its speed and pitch. The classes differ in how
/// much of the searched speed-and-pitch space a chance line could have fallen in, so each needs
/// its own evidence: on the issue-3 corpus, of the answers scoring 6 to 9, unchanged ones were
/// right 17 times in 18 and pitch-only ones 13 times in 23, while all 17 scoring 6 to 12 with
/// pitch and tempo changed independently were false (ARCHITECTURE.md, "Thresholds by transform").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Speed 1, pitch 0.
    Unchanged,
    /// Pitch shifted, tempo kept.
    Pitch,
    /// Tempo changed, pitch kept.
    Tempo,
    /// Played faster or slower: pitch moved by 12·log2(speed), as resampling does.
    Speed,
    /// Pitch and tempo changed independently.
    PitchAndTempo,
}

impl Transform {
    /// Pitch within this many semitones of 12·log2(speed) counts as a plain speed change (two
    /// quarter-semitone steps of the pitch measure).
    const SPEED_PITCH_TOLERANCE: f64 = 0.5;

    /// The class of a match with this speed and pitch shift (semitones).
    pub fn of(speed: f64, pitch: f64) -> Self {
        match (speed == 1.0, pitch == 0.0) {
            (true, true) => Transform::Unchanged,
            (true, false) => Transform::Pitch,
            (false, true) => Transform::Tempo,
            (false, false)
                if (pitch - 12.0 * speed.log2()).abs() <= Self::SPEED_PITCH_TOLERANCE =>
            {
                Transform::Speed
            }
            (false, false) => Transform::PitchAndTempo,
        }
    }

    /// The score a candidate of this class needs to be checked against the track's peaks:
    /// twice as much when pitch and tempo changed independently, as for [`Self::min_score`];
    /// one less (but at least 2, a line's fewest points) for an unchanged copy in an item read
    /// at every key, whose line is searched on its own odds (`Matcher::unchanged_line`).
    pub fn candidate_score(self, q: &QueryParams) -> usize {
        let floor = q.candidate_score.max(1) as usize;
        match self {
            Transform::PitchAndTempo => 2 * floor,
            Transform::Unchanged if q.key_sample <= 1 => floor.saturating_sub(1).max(2).min(floor),
            _ => floor,
        }
    }

    /// The score a match of this class needs without a peak check.
    pub fn min_score(self, q: &QueryParams) -> usize {
        match self {
            // Never more than a changed copy needs, whatever the two options say.
            Transform::Unchanged => q.min_evidence(),
            Transform::Pitch | Transform::Tempo | Transform::Speed => q.min_inliers as usize,
            Transform::PitchAndTempo => 2 * q.min_inliers as usize,
        }
    }
}

/// The speeds a line search tries where hits lie at most `half_span` frames from the line's
/// centre ([`line::speeds`]).
struct SpeedGrid {
    half_span: u32,
    speeds: Vec<f64>,
}

impl SpeedGrid {
    /// The whole window's grid, then one for each halving of its half span down to an unsampled
    /// window's ([`QueryParams::window_seconds`]): with `--key-sample 1` there is just the
    /// one, and a clip's search is the same as before coarser grids existed.
    fn all(q: &QueryParams, frame_seconds: f64) -> Vec<SpeedGrid> {
        let smallest = (f64::from(q.window_seconds) / frame_seconds / 2.0) as u32;
        let mut half_span = window_frames(q, frame_seconds) / 2;
        let mut grids = Vec::new();
        loop {
            grids.push(SpeedGrid {
                half_span,
                speeds: line::speeds(
                    f64::from(q.max_tempo_change),
                    f64::from(half_span),
                    f64::from(q.inlier_tolerance_frames),
                ),
            });
            if half_span / 2 < smallest.max(1) {
                return grids;
            }
            half_span /= 2;
        }
    }

    /// The coarsest of `grids` fine enough for hits reaching `reach` frames from their middle.
    fn for_reach(grids: &[SpeedGrid], reach: u32) -> &SpeedGrid {
        grids
            .iter()
            .rev()
            .find(|g| g.half_span >= reach)
            .unwrap_or(&grids[0])
    }
}

/// Whether a matcher on `index` checks candidates against the tracks' stored peaks (given the
/// item's peaks).
fn peak_check_on<D: AsRef<[u8]>>(index: &Index<D>, query: &QueryParams) -> bool {
    index.has_peaks() && query.min_peak_evidence > 0.0
}

/// The verification window in frames.
fn window_frames(q: &QueryParams, frame_seconds: f64) -> u32 {
    (f64::from(q.window()) / frame_seconds).max(16.0) as u32
}

/// The query frame before which every hit of the windows starting before `to` lies.
fn chunk_end(to: u32, window: u32) -> u32 {
    (to - window / 2).saturating_add(window)
}

/// What the line search of one track needs: computed once per track, and the first three
/// fields again for each window.
struct LineSearch<'s> {
    /// The current window's speeds, the odds of a chance line among its hits, and the hits a
    /// line needs there ([`ChanceLine::needed`]).
    speeds: &'s [f64],
    chance: ChanceLine,
    needed: usize,
    /// The same for an unchanged copy's line, at speed 1 among the window's hits that show no
    /// change ([`Matcher::unchanged_line`]); and how many those are.
    unchanged_chance: ChanceLine,
    unchanged_needed: usize,
    unchanged_hits: usize,
    /// Widest spread of hit offsets one line can show within a window at the searched speeds.
    drift: f64,
    /// Fewest query frames over which a line's speed is re-estimated.
    min_span: u32,
    buffers: &'s mut LineBuffers,
}

/// The line search's buffers, kept from track to track and chunk to chunk (a query at 10^8
/// postings searches thousands of chance tracks).
#[derive(Default)]
struct LineBuffers {
    scratch: line::LineScratch,
    /// A window's hits that no segment explains yet.
    rest: Vec<Hit>,
    /// [`split_by_pitch`]'s shifts, scratch and groups.
    shifts: Vec<i32>,
    group_of: Vec<u16>,
    groups: Vec<Vec<Hit>>,
    /// [`offsets_cluster`]'s offsets and [`line::may_reach`]'s speed intervals.
    offsets: Vec<i64>,
    events: Vec<(f64, i32)>,
    /// The hits of [`Matcher::unchanged_line`].
    same: Vec<Hit>,
}

/// Window matches of one track that lie on one line, merged.
struct Segment {
    inliers: Vec<Hit>,
    line: Line,
    confidence: f64,
    /// The pitch shift all its hits share, quarter semitones.
    pitch: i16,
}

impl Segment {
    /// Whether a window whose first hit is at query frame `q` is close enough to continue this
    /// segment (overlapping or adjacent to its last inlier).
    fn reaches(&self, q: u32, window: u32) -> bool {
        self.inliers
            .last()
            .is_some_and(|h| u64::from(q) <= u64::from(h.q) + u64::from(window))
    }
}

/// Folds a segment into an overlapping, stronger one of the same track when most of its hits lie
/// on the stronger one's line: two windows that saw the same passage, one with a worse fit.
fn merge_overlapping(mut segments: Vec<Segment>, tolerance: f64) -> Vec<Segment> {
    segments.sort_by_key(|s| std::cmp::Reverse(s.inliers.len()));
    let mut kept: Vec<Segment> = Vec::with_capacity(segments.len());
    for s in segments {
        let (q0, q1) = (
            s.inliers.iter().map(|h| h.q).min().unwrap_or(0),
            s.inliers.iter().map(|h| h.q).max().unwrap_or(0),
        );
        let host = kept.iter_mut().find(|k| {
            let (k0, k1) = (
                k.inliers.iter().map(|h| h.q).min().unwrap_or(0),
                k.inliers.iter().map(|h| h.q).max().unwrap_or(0),
            );
            q0 <= k1
                && k0 <= q1
                && 2 * inliers_of(&s.inliers, &k.line, tolerance).len() >= s.inliers.len()
        });
        match host {
            Some(k) => {
                let on_line = inliers_of(&s.inliers, &k.line, tolerance);
                k.inliers.extend(on_line);
                k.confidence = k.confidence.max(s.confidence);
            }
            None => kept.push(s),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::below;

    #[test]
    fn speed_grids_coarsen_for_hits_that_span_part_of_a_long_window() {
        let fs = crate::config::FingerprintParams::default().frame_seconds();
        let tolerance = 3.0;
        // An unsampled window has one grid, the one every window searched before.
        let clip = QueryParams::default();
        let grids = SpeedGrid::all(&clip, fs);
        assert_eq!(grids.len(), 1);
        let half = window_frames(&clip, fs) / 2;
        assert_eq!(
            grids[0].speeds,
            line::speeds(0.1, f64::from(half), tolerance)
        );
        // A sampled window's grids halve down to the unsampled window's half span.
        let sampled = QueryParams {
            key_sample: 64,
            ..QueryParams::default()
        };
        let grids = SpeedGrid::all(&sampled, fs);
        let spans: Vec<u32> = grids.iter().map(|g| g.half_span).collect();
        assert_eq!(spans.len(), 7, "{spans:?}");
        assert!(spans.windows(2).all(|w| w[1] == w[0] / 2), "{spans:?}");
        assert_eq!(spans[0], window_frames(&sampled, fs) / 2);
        assert!(*spans.last().unwrap() >= half);
        assert!(
            grids
                .windows(2)
                .all(|w| w[1].speeds.len() < w[0].speeds.len())
        );
        // The coarsest grid that reaches the hits; the finest where none is coarse enough.
        for reach in [1, 400, 3000, 5500, 11_000, 20_000, 24_000, 30_000] {
            let g = SpeedGrid::for_reach(&grids, reach);
            assert!(
                g.half_span >= reach || std::ptr::eq(g, &grids[0]),
                "{reach}"
            );
            assert!(
                grids
                    .iter()
                    .all(|o| o.half_span < reach || o.half_span >= g.half_span)
            );
        }
        // A 3-minute copy slowed by 4 % inside one 12.8-minute window: its coarse grid, about the
        // hits' middle, finds every hit of its line, as the finest grid does about the window's
        // centre.
        let mut below = below(17);
        let mut hits: Vec<Hit> = (0..11_000u32)
            .step_by(37)
            .map(|q| Hit {
                q,
                r: (1000.0 + 0.96 * f64::from(q)).round() as u32,
                ..Hit::default()
            })
            .collect();
        let on_line = hits.len();
        hits.extend((0..200).map(|_| Hit {
            q: below(11_000) as u32,
            r: below(12_000) as u32,
            ..Hit::default()
        }));
        hits.sort_unstable();
        let (first, last) = (hits[0].q, hits[hits.len() - 1].q);
        let reach = (last - first).div_ceil(2);
        let coarse = SpeedGrid::for_reach(&grids, reach);
        assert!(coarse.speeds.len() * 4 <= grids[0].speeds.len());
        let mut scratch = line::LineScratch::default();
        let centre = f64::from(first + reach);
        let found =
            line::best_line(&hits, centre, &coarse.speeds, tolerance, 3, &mut scratch).unwrap();
        let fine =
            line::reference_best_line(&hits, f64::from(spans[0]), &grids[0].speeds, tolerance, 3)
                .unwrap();
        assert!(
            found.count >= on_line && fine.count >= on_line,
            "{found:?} {fine:?}"
        );
        assert!((found.speed - 0.96).abs() < 2e-3, "{found:?}");
    }

    #[test]
    fn transforms_are_told_apart_and_need_their_own_evidence() {
        use Transform::*;
        assert_eq!(Transform::of(1.0, 0.0), Unchanged);
        assert_eq!(Transform::of(1.0, -1.5), Pitch);
        assert_eq!(Transform::of(0.92, 0.0), Tempo);
        // Resampling to 0.95 lowers pitch by 0.89 semitones; measured to a quarter semitone.
        assert_eq!(Transform::of(0.95, -0.75), Speed);
        assert_eq!(Transform::of(1.05, 0.5), Speed);
        assert_eq!(Transform::of(1.05, -0.5), PitchAndTempo);
        assert_eq!(Transform::of(0.96, 2.0), PitchAndTempo);
        let q = QueryParams::default();
        assert!(Unchanged.min_score(&q) < Pitch.min_score(&q));
        assert_eq!(Tempo.min_score(&q), Speed.min_score(&q));
        assert_eq!(PitchAndTempo.min_score(&q), 2 * Pitch.min_score(&q));
        assert_eq!(q.min_evidence(), Unchanged.min_score(&q));
        let loose = QueryParams {
            min_inliers: 5,
            ..q
        };
        assert_eq!(
            Unchanged.min_score(&loose),
            5,
            "an unchanged copy never needs more"
        );
    }

    /// A figure of one or two notes repeated at a steady tempo lines up with any such figure of a
    /// catalogue track at a similar tempo and gathers one hit per repeat; a copy's hits start
    /// from many pitches. The same line of 16 hits, with its query anchors on two pitches and
    /// then on sixteen.
    #[test]
    fn a_line_resting_on_a_note_or_two_is_not_a_match() {
        let index = fixture_index();
        let find = |cells: &dyn Fn(u32) -> u8, query: QueryParams| {
            let mut m = Matcher::new(&index, query);
            m.hits = (0..16u32)
                .map(|i| {
                    let q = 40 + 14 * i;
                    let h = Hit {
                        q,
                        r: q + 300,
                        anchor: cells(i),
                        ..Hit::default()
                    };
                    (0, h)
                })
                .collect();
            m.finish()
        };
        let (octave, melody) = (
            |i: u32| if i.is_multiple_of(2) { 97 } else { 143 },
            |i: u32| 60 + 5 * i as u8,
        );
        let q = QueryParams::default();
        assert!(find(&octave, q).is_empty());
        let found = find(&melody, q);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].track, found[0].score), (TrackId(0), 16));
        let off = QueryParams {
            min_pitches: 1,
            ..q
        };
        assert_eq!(find(&octave, off).len(), 1, "the rule is what drops it");
    }

    /// A pitch-shifted copy's line among more chance hits of its own track at another pitch
    /// shift (the dense layer is looked up unshifted only, so its chance hits all share shift 0):
    /// the line is found whichever shift holds more hits.
    #[test]
    fn a_line_is_found_at_a_pitch_shift_that_other_hits_outnumber() {
        let index = fixture_index();
        let frames = index.track_frames(TrackId(0)).unwrap();
        let mut next = below(7);
        let find = |chance: u32, next: &mut dyn FnMut(u64) -> u64| {
            let line = (0..16u32).map(|i| {
                let q = 40 + 14 * i;
                Hit {
                    q,
                    r: q + 300,
                    pitch: -8,
                    anchor: 60 + 5 * i as u8,
                    ..Hit::default()
                }
            });
            let noise = (0..chance).map(|_| Hit {
                q: 40 + next(16 * 14) as u32,
                r: next(u64::from(frames)) as u32,
                anchor: next(200) as u8,
                ..Hit::default()
            });
            let mut hits: Vec<Hit> = line.chain(noise).collect();
            hits.sort_by_key(|h| h.q);
            let mut m = Matcher::new(&index, QueryParams::default());
            m.hits = hits.into_iter().map(|h| (0, h)).collect();
            m.finish()
        };
        for chance in [0, 20, 100] {
            let found = find(chance, &mut next);
            assert_eq!(found.len(), 1, "{chance} chance hits: {found:?}");
            assert_eq!((found[0].score, found[0].pitch), (16, -2.0), "{chance}");
        }
    }

    /// The hits (sorted, without repeats) of a shipped dump clip against the v3 fixture index,
    /// looked up with `query`.
    fn fixture_hits<D: AsRef<[u8]>>(
        index: &Index<D>,
        clip: &str,
        query: QueryParams,
    ) -> Vec<(u32, Hit)> {
        use crate::fingerprint::{Density, fingerprint};
        let params = *index.params();
        let bytes = std::fs::read(format!("testdata/dump/{clip}")).unwrap();
        let limits = crate::config::Limits::default();
        let (samples, _) =
            crate::audio::decode_to_vec(&bytes, Some("mp3"), params.sample_rate, &limits).unwrap();
        let mut m = Matcher::new(index, query);
        m.add(fingerprint(&samples, &params, Density::query(&query)));
        m.lookup();
        let mut hits = std::mem::take(&mut m.hits);
        hits.sort_unstable();
        hits.dedup();
        hits
    }

    fn fixture_index() -> Index<memmap2::Mmap> {
        Index::open(std::path::Path::new("testdata/index-v3.earmark")).unwrap()
    }

    /// Reading every triplet at its fourth peaks keeps some of the hits of reading them whole,
    /// and nothing else, on real music.
    #[test]
    fn triplets_read_at_their_fourth_peaks_keep_a_subset_of_their_hits() {
        let index = fixture_index();
        let hits = |fourth_peak_above: u64| {
            let query = QueryParams {
                fourth_peak_above,
                ..QueryParams::default()
            };
            fixture_hits(&index, "clip-mp3.mp3", query)
        };
        let (narrow, whole) = (hits(0), hits(u64::MAX));
        assert!(!narrow.is_empty() && narrow.len() < whole.len());
        assert!(
            narrow.iter().all(|h| whole.binary_search(h).is_ok()),
            "a hit that reading the triplets whole does not find"
        );
    }

    /// Far time-ratio cells, on real music under noise: they keep every coincidence the near
    /// cells find and add some on the true line; and they are read only where some near probe
    /// met a rare triplet, so reading every triplet as common reads none of them.
    #[test]
    fn far_ratio_cells_add_true_hits_where_triplets_are_rare() {
        let index = fixture_index();
        // testdata/truth.tsv: this clip is deep-path.ogg from 5.5 s, under white noise at 10 dB.
        let track = fixture_track(&index, "deep-path.ogg");
        let hits = |ratio_jitter_frames: f32, fourth_peak_above: u64| {
            let query = QueryParams {
                ratio_jitter_frames,
                fourth_peak_above,
                ..QueryParams::default()
            };
            fixture_hits(&index, "clip-noisy.mp3", query)
        };
        let (near, all) = (hits(0.0, 64), hits(0.5, 64));
        assert!(near.iter().all(|h| !h.1.far));
        let found = |h: &(u32, Hit)| {
            all.iter()
                .any(|a| a.0 == h.0 && a.1.same_coincidence(&h.1) && !a.1.far)
        };
        assert!(near.iter().all(found), "a near hit went missing");
        let far: Vec<(u32, Hit)> = all.iter().copied().filter(|h| h.1.far).collect();
        let true_far = on_line(&far, track, 5.5, index.params().frame_seconds());
        assert!(true_far >= 3, "{true_far} far hits on the true line");
        assert!(hits(0.5, 0).iter().all(|h| !h.1.far));
    }

    /// The index's track whose id ends with `name`.
    pub(super) fn fixture_track<D: AsRef<[u8]>>(index: &Index<D>, name: &str) -> u32 {
        (0..index.tracks())
            .find(|&t| index.track(TrackId(t)).unwrap().id.ends_with(name))
            .unwrap()
    }

    /// Hits of `track` within 3 frames (the inlier tolerance) of the line `r = q + offset`,
    /// offset in seconds.
    fn on_line(hits: &[(u32, Hit)], track: u32, offset: f64, frame_seconds: f64) -> usize {
        let offset = offset / frame_seconds;
        hits.iter()
            .filter(|(t, h)| *t == track && (f64::from(h.r) - f64::from(h.q) - offset).abs() <= 3.0)
            .count()
    }

    /// Hits on the true line of the quiet-speech clip (testdata/truth.tsv: siege.ogg from
    /// 11.75 s, under speech 6 dB quieter) looked up with `fewer` and with `more`, after checking
    /// that `more` keeps every hit of `fewer`.
    fn speech_clip_true_hits(fewer: QueryParams, more: QueryParams) -> (usize, usize) {
        let index = fixture_index();
        let track = fixture_track(&index, "siege.ogg");
        let clip = "clip-quiet-speech.m4a";
        let (a, b) = (
            fixture_hits(&index, clip, fewer),
            fixture_hits(&index, clip, more),
        );
        assert!(
            a.iter().all(|h| b.binary_search(h).is_ok()),
            "a hit went missing"
        );
        let frame = index.params().frame_seconds();
        (
            on_line(&a, track, 11.75, frame),
            on_line(&b, track, 11.75, frame),
        )
    }

    /// The dense layer, on real music under speech: it keeps every coincidence of the core
    /// layer and adds some on the true line.
    #[test]
    fn the_dense_layer_adds_true_hits_under_speech() {
        let core = QueryParams {
            dense_fanout: 0,
            ..QueryParams::default()
        };
        let (before, after) = speech_clip_true_hits(core, QueryParams::default());
        assert!(
            after >= before + 8,
            "{before} true-line hits, {after} with the dense layer"
        );
    }

    /// In a large catalogue nearly every triplet is read only at its fourth peaks, and a passage
    /// masked by speech rarely keeps all four; the dense layer's triplets are read whole below
    /// their own, higher limit. On the fixture index, with every core triplet read at its fourth
    /// peaks as in a large catalogue: reading the dense ones whole keeps every coincidence and
    /// adds true ones under speech.
    #[test]
    fn dense_triplets_read_whole_add_true_hits_where_triplets_are_common() {
        let large = QueryParams {
            fourth_peak_above: 0,
            ..QueryParams::default()
        };
        let narrow = QueryParams {
            dense_fourth_peak_above: 0,
            ..large
        };
        let (before, after) = speech_clip_true_hits(narrow, large);
        // 19 and 23 when written.
        assert!(
            after >= before + 3,
            "{before} true-line hits, {after} with dense triplets read whole"
        );
    }

    /// Two catalogue tracks sharing a passage, on real music: a query cut from the passage names
    /// only the track that explains it best, while a second recording mixed into the query is
    /// still named beside it.
    #[test]
    fn a_shared_passage_names_the_track_that_explains_it_and_mixes_name_both() {
        use crate::fingerprint::{Density, fingerprint};
        use crate::test_support::index_of;
        let params = crate::config::FingerprintParams::default();
        let rate = params.sample_rate as usize;
        let decode =
            |name: &str| crate::test_support::decode(&format!("testdata/catalogue/{name}"));
        let (battle, siege, basrah) = (
            decode("wesnoth/battle.ogg"),
            decode("wesnoth/siege.ogg"),
            decode("ufoai/basrah.mp3"),
        );
        let secs = |audio: &[f32], from: usize, to: usize| audio[from * rate..to * rate].to_vec();
        // "borrowed" opens with 5 s of battle, from 10 s, then goes on with siege.
        let borrowed = [secs(&battle, 10, 15), secs(&siege, 0, 25)].concat();
        let dir = tempfile::tempdir().unwrap();
        let build = |tracks: &[(&str, &[f32])]| {
            index_of(
                &dir.path().join(format!("{}.earmark", tracks.len())),
                params,
                tracks,
            )
        };
        let named = |index: &Index<memmap2::Mmap>, query: &[f32]| {
            let q = QueryParams::default();
            let mut matcher = Matcher::new(index, q);
            matcher.add(fingerprint(query, &params, Density::query(&q)));
            let mut names: Vec<String> = matcher
                .finish()
                .iter()
                .map(|m| index.track(m.track).unwrap().id.to_string())
                .collect();
            names.sort();
            names.dedup();
            names
        };
        // 10 s of battle from 8 s: the 5 s that "borrowed" holds lie inside.
        let passage = secs(&battle, 8, 18);
        let alone = build(&[("borrowed", &borrowed)]);
        assert_eq!(named(&alone, &passage), ["borrowed"], "the passage fits it");
        let index = build(&[
            ("battle", &battle),
            ("borrowed", &borrowed),
            ("basrah", &basrah),
        ]);
        assert_eq!(named(&index, &passage), ["battle"]);
        // Mixed under basrah at 0.7 against 0.3, battle is the weaker match (about a third of
        // basrah's score), yet it rests on peaks of its own: both are named.
        let mixed: Vec<f32> = passage
            .iter()
            .zip(secs(&basrah, 10, 20))
            .map(|(a, b)| 0.3 * a + 0.7 * b)
            .collect();
        assert_eq!(named(&index, &mixed), ["basrah", "battle"]);
    }

    /// A long item resolved a chunk of windows at a time, as its landmarks stream in, gives
    /// exactly the matches of resolving it whole, and the matcher holds only the hits that
    /// windows not yet searched need. The item: the five shipped tracks, basrah sped up 4 %,
    /// noise between them, and battle twice (its lines span chunks and recur far apart).
    #[test]
    fn a_long_item_resolved_in_chunks_finds_what_resolving_it_whole_does() {
        use crate::fingerprint::{Density, fingerprint};
        use crate::test_support::{catalogue, decode, noise};
        let dir = tempfile::tempdir().unwrap();
        let index = catalogue(dir.path());
        let params = *index.params();
        let track = |name: &str| decode(&format!("testdata/catalogue/{name}"));
        let basrah = track("ufoai/basrah.mp3");
        let sped: Vec<f32> = (0..(basrah.len() as f64 / 1.04) as usize - 1)
            .map(|i| {
                let x = i as f64 * 1.04;
                let (j, f) = (x as usize, x.fract() as f32);
                basrah[j] * (1.0 - f) + basrah[j + 1] * f
            })
            .collect();
        let gap = |seed| {
            let n = noise(3 * params.sample_rate as usize, seed);
            n.iter().map(|x| 0.05 * x).collect::<Vec<f32>>()
        };
        let battle = track("wesnoth/battle.ogg");
        let item = [
            battle.clone(),
            gap(1),
            track("wesnoth/siege.ogg"),
            sped,
            gap(2),
            track("ufoai/psymong.mp3"),
            track("wesnoth/deep-path.ogg"),
            gap(3),
            battle,
        ]
        .concat();
        for key_sample in [1, 2] {
            let q = QueryParams {
                key_sample,
                ..QueryParams::default()
            };
            let landmarks = fingerprint(&item, &params, Density::query(&q));
            let run = |chunk_window_starts: u32, hit_budget: usize| {
                let mut m = Matcher::new(&index, q);
                m.chunk_window_starts = chunk_window_starts;
                m.hit_budget = hit_budget;
                for piece in landmarks.chunks(37) {
                    m.add(piece.iter().copied());
                    assert!(m.hits.iter().all(|(_, h)| h.q >= m.searched_to));
                }
                let chunked = m.searched_to > 0;
                (m.finish(), chunked)
            };
            let (whole, _) = run(u32::MAX, usize::MAX);
            let tracks: std::collections::BTreeSet<_> = whole.iter().map(|m| m.track).collect();
            assert_eq!(tracks.len(), 5, "K = {key_sample}: {whole:#?}");
            // Past the budget, chunks of every complete window and of the usual size alternate.
            for (n, budget) in [
                (1, HIT_BUDGET),
                (2, HIT_BUDGET),
                (CHUNK_WINDOW_STARTS, 2_000),
            ] {
                let (matches, chunked) = run(n, budget);
                let case = format!("K = {key_sample}, {n} window starts a chunk, budget {budget}");
                assert!(chunked, "{case}");
                assert_eq!(matches, whole, "{case}");
            }
        }
    }

    /// One matcher serves item after item (a worker's): each answer is a fresh matcher's.
    #[test]
    fn a_matcher_reused_for_another_item_answers_as_a_fresh_one() {
        use crate::fingerprint::{Density, Fingerprinter};
        use crate::test_support::{catalogue, decode};
        let dir = tempfile::tempdir().unwrap();
        let index = catalogue(dir.path());
        let params = *index.params();
        let q = QueryParams::default();
        let items: Vec<_> = ["medley.mp3", "clip-noisy.mp3", "clip-mp3.mp3"]
            .iter()
            .map(|name| {
                let mut f = Fingerprinter::new(&params, Density::query(&q)).keeping_peaks();
                f.push(&decode(&format!("testdata/dump/{name}")));
                let (landmarks, peaks, _) = f.finish_with_peaks();
                (landmarks, peaks)
            })
            .collect();
        let answer = |m: &mut Matcher<'_, memmap2::Mmap>, (landmarks, peaks): &(_, _)| {
            m.add(Vec::clone(landmarks));
            m.add_peaks(Vec::clone(peaks));
            m.finish()
        };
        let mut reused = Matcher::new(&index, q);
        for item in &items {
            let fresh = answer(&mut Matcher::new(&index, q), item);
            assert!(!fresh.is_empty());
            assert_eq!(answer(&mut reused, item), fresh);
        }
    }
}

#[cfg(test)]
mod peak_check_tests {
    use super::tests::fixture_track;
    use super::*;
    use crate::fingerprint::{Density, Fingerprinter};
    use crate::test_support::decode;

    fn matches(index: &Index<memmap2::Mmap>, samples: &[f32], query: QueryParams) -> Vec<Match> {
        let params = *index.params();
        let mut f = Fingerprinter::new(&params, Density::query(&query)).keeping_peaks();
        f.push(samples);
        let rest = f.finish_all();
        let mut m = Matcher::new(index, query);
        m.add(rest.landmarks);
        m.add_peaks(rest.peaks);
        m.add_fine_peaks(rest.fine_peaks);
        m.finish()
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    /// `music` with `other` added `db` dB louder.
    fn mix(music: &[f32], other: &[f32], db: f32) -> Vec<f32> {
        let gain = rms(music) / rms(&other[..music.len()]) * 10f32.powf(db / 20.0);
        music.iter().zip(other).map(|(a, b)| a + gain * b).collect()
    }

    /// `x` played `speed` times as fast by linear interpolation: tempo and pitch change together,
    /// as a resampled copy's do.
    fn resample(x: &[f32], speed: f64) -> Vec<f32> {
        let len = ((x.len() - 1) as f64 / speed) as usize;
        (0..len)
            .map(|i| {
                let at = i as f64 * speed;
                let (j, frac) = (at as usize, (at - at.floor()) as f32);
                x[j] + frac * (x[(j + 1).min(x.len() - 1)] - x[j])
            })
            .collect()
    }

    /// A track that plays a passage 32 times transposed (sped up 8 %, 1.3 semitones higher,
    /// under noise 10 dB down) and once as it is. A copy of the passage lies on one strong line
    /// at no shift, and on a weaker one at each transposed place, at a shift that their number
    /// makes the commonest. Searching the commonest shift first filled the window's lines with
    /// transposed places and answered one of them (checked); the strongest line is the passage
    /// as it is.
    #[test]
    fn the_strongest_line_is_found_whatever_shift_the_most_hits_show() {
        let dir = tempfile::tempdir().unwrap();
        let battle = decode("testdata/catalogue/wesnoth/battle.ogg");
        let passage = &battle[4 * 8000..8 * 8000];
        let transposed = resample(passage, 1.08);
        let noisy = mix(
            &transposed,
            &crate::test_support::noise(transposed.len(), 3),
            -10.0,
        );
        let mut track: Vec<f32> = noisy.repeat(32);
        let original_at = track.len() as f64 / 8000.0;
        track.extend_from_slice(passage);
        let params = crate::config::FingerprintParams::default();
        let index = crate::test_support::index_of(
            &dir.path().join("repeats.earmark"),
            params,
            &[("repeats", &track)],
        );
        let found = matches(&index, passage, QueryParams::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let m = &found[0];
        assert!(
            (m.track_start - m.item_start - original_at).abs() < 0.1,
            "{m:?}"
        );
        assert_eq!((m.speed, m.pitch), (1.0, 0.0), "{m:?}");
    }

    /// Real music buried under white noise 8 dB louder, or under another song 5 dB louder: its
    /// true line gathers 5 or 6 hashes, too few (or from too few pitches) for a match without
    /// the check, but the item holds enough of the track's peaks where that line puts them.
    /// Neither the noise nor the other song alone is taken for a catalogue track.
    #[test]
    fn a_copy_too_faint_for_its_hashes_is_found_by_its_peaks() {
        let dir = tempfile::tempdir().unwrap();
        let index = crate::test_support::catalogue(dir.path());
        let deep_path = fixture_track(&index, "wesnoth/deep-path.ogg");
        let track = decode("testdata/catalogue/wesnoth/deep-path.ogg");
        let excerpt = &track[12 * 8000..22 * 8000];
        let song = decode("testdata/dump/not-in-catalogue.mp3");
        let noise = crate::test_support::noise(excerpt.len(), 1);
        // Without triplets of fine peaks, which find more of the noisy copy's hashes: this test
        // holds the check to what hashes alone cannot do.
        let query = QueryParams {
            fine_fanout: 0,
            ..QueryParams::default()
        };
        let unchecked = QueryParams {
            min_peak_evidence: 0.0,
            ..query
        };
        for (what, item) in [
            ("noise at +8 dB", mix(excerpt, &noise, 8.0)),
            ("a song at +5 dB", mix(excerpt, &song, 5.0)),
        ] {
            let found = matches(&index, &item, query);
            assert_eq!(found.len(), 1, "{what}: {found:?}");
            let m = &found[0];
            let c = m.peak_check.expect("checked against the track's peaks");
            assert_eq!(m.track.0, deep_path, "{what}");
            assert!(
                (m.track_start - m.item_start - 12.0).abs() < 0.5,
                "{what}: {m:?}"
            );
            assert_eq!(m.pitch, 0.0, "{what}");
            assert!(c.matched as f64 > 2.0 * c.expected, "{what}: {c:?}");
            assert!(
                matches(&index, &item, unchecked).is_empty(),
                "{what}: found without the check"
            );
        }
        for (what, item) in [("the noise", noise), ("the song", song)] {
            let found = matches(&index, &item, QueryParams::default());
            assert!(found.is_empty(), "{what}: {found:?}");
        }
    }

    /// Real music under a voice 6 dB louder (a synthetic one, `test_support::voice`): its
    /// peaks are still the maxima of a few bins, but rarely of the wider neighbourhood that
    /// ordinary peaks need, since a louder harmonic lies within it. Triplets holding fine peaks
    /// find its line, and the check, reading fine peaks too, confirms it; without fine peaks it
    /// is not found, and the voice alone is taken for nothing.
    #[test]
    fn music_under_a_louder_voice_is_found_by_its_fine_peaks() {
        let dir = tempfile::tempdir().unwrap();
        let index = crate::test_support::catalogue(dir.path());
        let siege = fixture_track(&index, "wesnoth/siege.ogg");
        let track = decode("testdata/catalogue/wesnoth/siege.ogg");
        let excerpt = &track[12 * 8000..22 * 8000];
        let voice = crate::test_support::voice(excerpt.len(), 5);
        let item = mix(excerpt, &voice, 6.0);
        let found = matches(&index, &item, QueryParams::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let m = &found[0];
        assert_eq!(m.track.0, siege);
        assert!((m.track_start - m.item_start - 12.0).abs() < 0.5, "{m:?}");
        assert_eq!((m.speed, m.pitch), (1.0, 0.0), "{m:?}");
        for without in [
            QueryParams {
                fine_peaks_per_second: 0.0,
                ..QueryParams::default()
            },
            QueryParams {
                fine_fanout: 0,
                ..QueryParams::default()
            },
        ] {
            let found = matches(&index, &item, without);
            assert!(found.is_empty(), "{without:?}: {found:?}");
        }
        let alone = matches(&index, &voice, QueryParams::default());
        assert!(alone.is_empty(), "{alone:?}");
    }

    /// Real music under another song 11 dB louder, or under white noise 12 dB louder: its
    /// true line keeps two hashes, which an unchanged copy's own line search takes to the peak
    /// check (a line of any other class needs three), and the item holds the track's peaks
    /// where that line puts them.
    #[test]
    fn an_unchanged_copy_with_two_hashes_left_is_found_by_its_peaks() {
        let dir = tempfile::tempdir().unwrap();
        let index = crate::test_support::catalogue(dir.path());
        let battle = fixture_track(&index, "wesnoth/battle.ogg");
        let track = decode("testdata/catalogue/wesnoth/battle.ogg");
        let song = decode("testdata/dump/not-in-catalogue.mp3");
        // Without triplets of fine peaks, which keep more of these copies' hashes.
        let query = QueryParams {
            fine_fanout: 0,
            ..QueryParams::default()
        };
        for (what, start, masker, db) in [
            ("a song at +11 dB", 4, song, 11.0),
            (
                "noise at +12 dB",
                18,
                crate::test_support::noise(80_000, 1),
                12.0,
            ),
        ] {
            let excerpt = &track[start * 8000..(start + 10) * 8000];
            let found = matches(&index, &mix(excerpt, &masker, db), query);
            assert_eq!(found.len(), 1, "{what}: {found:?}");
            let m = &found[0];
            assert_eq!(m.track.0, battle, "{what}");
            assert!(
                (m.track_start - m.item_start - start as f64).abs() < 0.5,
                "{what}: {m:?}"
            );
            assert_eq!((m.speed, m.pitch), (1.0, 0.0), "{what}");
            // 2 for both when written.
            assert!(
                (m.score as usize) < Transform::Pitch.candidate_score(&query),
                "{what}: {m:?}"
            );
            let c = m.peak_check.expect("checked");
            assert!(
                c.evidence() >= 2.0 * query.min_peak_evidence,
                "{what}: {c:?}"
            );
            let alone = matches(&index, &masker[..excerpt.len()], QueryParams::default());
            assert!(alone.is_empty(), "{what} alone: {alone:?}");
        }
    }

    /// Three hits on one offset among 15 chance hits of the track: too few for a line of the
    /// search over every speed and shift (about 24 speeds' chance lines), enough for an
    /// unchanged copy's line, tried at one speed among the hits that show no change. The same
    /// hits shifted by two semitones are not believed.
    #[test]
    fn an_unchanged_line_is_believed_on_its_own_odds() {
        let dir = tempfile::tempdir().unwrap();
        let index = crate::test_support::catalogue(dir.path());
        let frames = index.track_frames(TrackId(0)).unwrap();
        let query = QueryParams::default();
        let segments = |pitch: i16| {
            let mut next = crate::test_support::below(11);
            let line = (0..3u32).map(|i| (40 + 200 * i, 340 + 200 * i, 60 + 7 * i as u8));
            let chance = (0..15).map(|_| {
                let r = next(u64::from(frames)) as u32;
                (40 + next(560) as u32, r, next(200) as u8)
            });
            let mut hits: Vec<Hit> = line
                .chain(chance)
                .map(|(q, r, anchor)| Hit {
                    q,
                    r,
                    pitch,
                    anchor,
                    ..Hit::default()
                })
                .collect();
            hits.sort_by_key(|h| h.q);
            let mut m = Matcher::new(&index, query);
            let tolerance = f64::from(query.inlier_tolerance_frames);
            let speeds = m.speed_grids[0].speeds.len();
            let n = hits.len();
            // The premise: 3 hits are too few among these for the search over every speed, and
            // enough for one speed.
            assert!(ChanceLine::new(speeds, frames, tolerance).needed(3, n) > 3);
            assert!(ChanceLine::new(1, frames, tolerance).needed(2, n) <= 3);
            m.hits = hits.into_iter().map(|h| (0, h)).collect();
            m.resolve_chunk(u32::MAX);
            m.open.remove(&0).unwrap_or_default()
        };
        let found = segments(0);
        assert_eq!(found.len(), 1, "{} lines", found.len());
        let s = &found[0];
        assert_eq!((s.line.speed, s.pitch, anchors_of(&s.inliers)), (1.0, 0, 3));
        assert!(s.inliers.iter().all(|h| h.r == h.q + 300));
        assert!(segments(-8).is_empty());
    }

    /// A line of two hashes is checked against the track's peaks, and the item must hear them on
    /// [`verify::MIN_HEARD_SEMITONES`] semitones: two hashes cannot show the pitches that
    /// `min_pitches_checked` asks of longer lines, and a figure of a few notes repeated at a
    /// steady tempo lines up with another such figure well enough to pass the check's chance
    /// model. The item here is the track's own peaks at one place: all of them, or only those
    /// on its four commonest semitones.
    #[test]
    fn a_two_hash_line_must_hear_the_track_on_several_semitones() {
        let dir = tempfile::tempdir().unwrap();
        let index = crate::test_support::catalogue(dir.path());
        let (track, at) = (TrackId(0), 300.0);
        let peaks: Vec<verify::QueryPeak> = index
            .track_peaks(track)
            .iter()
            .filter(|p| (300..925).contains(&p.frame()))
            .map(|p| verify::QueryPeak {
                time: p.frame() as f32 - at as f32,
                pitch: p.pitch() as f32,
                fine: false,
            })
            .collect();
        let semitone = |p: &verify::QueryPeak| (p.pitch / 16.0).round() as i32;
        let mut counts = BTreeMap::new();
        for p in &peaks {
            *counts.entry(semitone(p)).or_insert(0) += 1;
        }
        let mut common: Vec<(i32, i32)> = counts.into_iter().map(|(s, n)| (-n, s)).collect();
        common.sort_unstable();
        let figure: Vec<i32> = common.iter().take(4).map(|&(_, s)| s).collect();
        let found = |item: Vec<verify::QueryPeak>| {
            let mut m = Matcher::new(&index, QueryParams::default());
            let inliers: Vec<Hit> = [(100, 20), (400, 90)]
                .map(|(q, anchor)| Hit {
                    q,
                    r: q + at as u32,
                    anchor,
                    ..Hit::default()
                })
                .to_vec();
            let line = Line {
                speed: 1.0,
                offset: 100.0 + at,
                centre: 100.0,
                count: 2,
            };
            let segment = Segment {
                inliers,
                line,
                confidence: 0.999,
                pitch: 0,
            };
            m.open.insert(track.0, vec![segment]);
            m.checks_peaks = true;
            m.query_peaks = item;
            m.finish()
        };
        let all = found(peaks.clone());
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!((all[0].track, all[0].score), (track, 2));
        let few: Vec<verify::QueryPeak> = peaks
            .into_iter()
            .filter(|p| figure.contains(&semitone(p)))
            .collect();
        // Evidence enough on its own: only the semitones turn it down.
        let alignment = verify::Alignment {
            item_at: 0.0,
            track_at: at,
            speed: 1.0,
            pitch: 0.0,
            item_from: 0.0,
            item_to: 625.0,
        };
        let mut scratch = verify::CheckScratch::default();
        let (c, _) = verify::best_check(index.track_peaks(track), &few, &alignment, &mut scratch);
        assert!(
            c.evidence() >= QueryParams::default().min_peak_evidence,
            "{c:?}"
        );
        assert!(scratch.heard_semitones() < verify::MIN_HEARD_SEMITONES);
        let rejected = found(few);
        assert!(rejected.is_empty(), "{rejected:?}");
    }
}
