//! Steps 2 and 3 of matching: a track's hits, a window at a time, become lines. Per window
//! the strongest time line (speed and offset) of any pitch shift is searched
//! ([`line::best_line`]), believed only when chance would rarely give one as strong
//! ([`ChanceLine`]); an unchanged copy's line is also tried on its own odds. Windows start
//! every half window; a long item's are searched a chunk at a time as its hits arrive, and the
//! hits only they needed are dropped, so memory does not grow with the item.

use std::collections::BTreeMap;

use super::Matcher;
use super::chance::ChanceLine;
use super::groups::{
    Grouping, anchors_of, densest_pitch, for_each_track, inliers_of, is_inlier, offsets_cluster,
    split_by_pitch, unchanged, unchanged_cluster,
};
use super::line::{self, Hit, Line};
use super::lookup::{PITCH_TOLERANCE, SPAN_TOLERANCE};
use super::segments::Segment;
use super::thresholds::MIN_CONFIDENCE;
use crate::index::TrackId;
use crate::tuning::QueryParams;

/// Lines a window may start besides those its segments already follow. A 10 s query cut from
/// a passage looped every 2 s (ufoai's MarineUrbanWarfare) fits 13 of its repeats almost
/// equally, and lines are found in order of raw hit count, not score: with 8, the true
/// position was left out once (docs/decisions/0010-several-lines-per-window). The strongest
/// line of any pitch shift is found first ([`Matcher::new_line`]), so the cap drops the weakest.
const MAX_NEW_LINES_PER_WINDOW: usize = 16;
/// Window starts searched per chunk of an item. A long item's hits are resolved a chunk at a
/// time, as they arrive, and then dropped, so that a worker holds about `n + 1` half windows of
/// hits instead of the whole item's: among 10^10 postings' chance hits a 9-minute song held
/// 3 GB at `--key-sample 8` (docs/decisions/0026-long-items-in-chunks). The half window that two
/// chunks share is grouped by track twice.
pub(super) const CHUNK_WINDOW_STARTS: u32 = 4;
/// Held hits (20 bytes each) beyond which every window already complete is searched, however
/// few: the heaviest songs among 10^10 postings' chance hits gather 80 million hits in 4
/// window starts.
pub(super) const HIT_BUDGET: usize = 1 << 24;
/// The windows searched so far and the lines they found.
pub(super) struct Windows {
    /// Query frames of a window ([`window_frames`]); windows start every half window.
    pub(super) window: u32,
    /// Windows starting before this query frame (a multiple of half a window) are searched,
    /// and the hits only they needed are dropped.
    pub(super) searched_to: u32,
    /// The lines found so far, by track, until `finish` reports them.
    pub(super) open: BTreeMap<u32, Vec<Segment>>,
    /// [`CHUNK_WINDOW_STARTS`]; `u32::MAX` resolves the whole item at its end.
    pub(super) chunk_window_starts: u32,
    /// [`HIT_BUDGET`].
    pub(super) hit_budget: usize,
    pub(super) grouping: Grouping,
    pub(super) line_buffers: LineBuffers,
    /// The speeds a window's line search tries, for hits reaching `half_span` frames either
    /// side of the line's centre: finest first, for the whole window, then coarser for hits
    /// spanning a half, a quarter... of it (they depend on the query settings only).
    pub(super) speed_grids: Vec<SpeedGrid>,
    /// The fewest hits a line may gather and still be pursued: a candidate's, when checked.
    pub(super) min_line: usize,
    /// The same for an unchanged copy's line, where that line is searched on its own odds
    /// ([`Matcher::unchanged_line`]): one fewer. Never more than `min_line`.
    pub(super) min_unchanged_line: Option<usize>,
}

impl Windows {
    pub(super) fn new(
        query: &QueryParams,
        frame_seconds: f64,
        min_line: usize,
        min_unchanged_line: Option<usize>,
    ) -> Self {
        Windows {
            window: window_frames(query, frame_seconds),
            searched_to: 0,
            open: BTreeMap::new(),
            chunk_window_starts: CHUNK_WINDOW_STARTS,
            hit_budget: HIT_BUDGET,
            grouping: Grouping::default(),
            line_buffers: LineBuffers::default(),
            speed_grids: SpeedGrid::all(query, frame_seconds),
            min_line,
            min_unchanged_line,
        }
    }
}

impl<D: AsRef<[u8]>> Matcher<'_, D> {
    /// Searches the chunks of windows whose hits all lie before query frame `frame`.
    pub(super) fn resolve_before(&mut self, frame: u32) {
        let half = self.windows.window / 2;
        loop {
            let starts = self.windows.chunk_window_starts.max(1);
            let mut to = self
                .windows
                .searched_to
                .saturating_add(starts.saturating_mul(half));
            if self.hits.len() >= self.windows.hit_budget {
                // Over the budget: every window already complete, however few.
                let complete = frame
                    .saturating_add(half)
                    .saturating_sub(self.windows.window)
                    / half
                    * half;
                if complete > self.windows.searched_to {
                    to = complete;
                }
            }
            if to == u32::MAX || chunk_end(to, self.windows.window) > frame {
                return;
            }
            self.resolve_chunk(to);
        }
    }

    /// Searches the windows starting from `searched_to` up to `to`, and drops the hits that
    /// later windows do not need. Lines carry over to the next chunk in `open`, so the windows
    /// and lines are those of resolving the whole item at once (tested).
    pub(super) fn resolve_chunk(&mut self, to: u32) {
        let from = self.windows.searched_to;
        self.windows.searched_to = to;
        let below = if to == u32::MAX {
            u32::MAX
        } else {
            chunk_end(to, self.windows.window)
        };
        let min = self.windows.min_line;
        let min_unchanged = self.windows.min_unchanged_line.unwrap_or(usize::MAX);
        let tolerance = f64::from(self.query.inlier_tolerance_frames);
        let mut hits = std::mem::take(&mut self.hits);
        let mut open = std::mem::take(&mut self.windows.open);
        let mut grouping = std::mem::take(&mut self.windows.grouping);
        let mut buffers = std::mem::take(&mut self.windows.line_buffers);
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
        self.windows.open = open;
        self.windows.grouping = grouping;
        self.windows.line_buffers = buffers;
        self.hits = hits;
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
        let min = self.windows.min_line;
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
        let evidence = search.chance.evidence(best.count, window_hits);
        let line = line::refit(&inliers, centre, best, max_change, search.min_span);
        Some(Segment {
            inliers,
            line,
            confidence,
            evidence,
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
    /// them (docs/decisions/0029-unchanged-copies-searched-on-their-own-odds).
    fn unchanged_line(
        &self,
        hits: &[Hit],
        centre: f64,
        search: &mut LineSearch<'_>,
    ) -> Option<Segment> {
        let min = self.windows.min_unchanged_line?;
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
        let evidence = search
            .unchanged_chance
            .evidence(best.count, search.unchanged_hits);
        let (inliers, pitch) = self.consistent(inliers_of(same, &best, tolerance), &best, Some(0));
        (anchors_of(&inliers) >= min).then_some(Segment {
            inliers,
            line: best,
            confidence,
            evidence,
            pitch,
        })
    }

    /// The fewest anchors that extend a segment on `line` at `pitch` (quarter semitones) into
    /// another window: an unchanged copy's line may hold one fewer.
    fn min_line_for(&self, line: &Line, pitch: i16) -> usize {
        match self.windows.min_unchanged_line {
            Some(min) if line.speed == 1.0 && pitch == 0 => min,
            _ => self.windows.min_line,
        }
    }

    /// The hits that agree with the line's time scale and with one pitch shift: `pitch` when
    /// given, else the most common one. Returns them and that pitch shift.
    fn consistent(&self, hits: Vec<Hit>, line: &Line, pitch: Option<i16>) -> (Vec<Hit>, i16) {
        let span = self.lookup.layout.span_units_for_speed(line.speed);
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
        let window = self.windows.window;
        let tolerance = f64::from(q.inlier_tolerance_frames);
        let max_change = f64::from(q.max_tempo_change);
        let track_frames = self.index.track_frames(track).map_or(1, |f| f.max(1));
        let min = self.windows.min_line;
        let min_unchanged = self.windows.min_unchanged_line.unwrap_or(usize::MAX);
        // Speed is only measured over stretches long enough to show it.
        let min_span = window / 4;
        let mut rest = std::mem::take(&mut buffers.rest);
        let mut search = LineSearch {
            speeds: &self.windows.speed_grids[0].speeds,
            chance: ChanceLine::new(
                self.windows.speed_grids[0].speeds.len(),
                track_frames,
                tolerance,
            ),
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
            let grid = SpeedGrid::for_reach(&self.windows.speed_grids, reach);
            if !std::ptr::eq(grid, &self.windows.speed_grids[0]) {
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
}

/// The speeds a line search tries where hits lie at most `half_span` frames from the line's
/// centre ([`line::speeds`]).
pub(super) struct SpeedGrid {
    half_span: u32,
    pub(super) speeds: Vec<f64>,
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
pub(super) struct LineBuffers {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::testing::*;
    use crate::test_support::{below, decode};
    use crate::tuning::QueryParams;

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
            let speeds = m.windows.speed_grids[0].speeds.len();
            let n = hits.len();
            // The premise: 3 hits are too few among these for the search over every speed, and
            // enough for one speed.
            assert!(ChanceLine::new(speeds, frames, tolerance).needed(3, n) > 3);
            assert!(ChanceLine::new(1, frames, tolerance).needed(2, n) <= 3);
            m.hits = hits.into_iter().map(|h| (0, h)).collect();
            m.resolve_chunk(u32::MAX);
            m.windows.open.remove(&0).unwrap_or_default()
        };
        let found = segments(0);
        assert_eq!(found.len(), 1, "{} lines", found.len());
        let s = &found[0];
        assert_eq!((s.line.speed, s.pitch, anchors_of(&s.inliers)), (1.0, 0, 3));
        assert!(s.inliers.iter().all(|h| h.r == h.q + 300));
        assert!(segments(-8).is_empty());
    }
}
