//! Matching: query landmarks in, [`Match`]es — track, time ranges, speed, score — out.
//!
//! 1. **Lookup** (`lookup`, `probes`). Each landmark's probe triplets are looked up: a rare
//!    triplet whole, a common one (more than [`QueryParams::fourth_peak_limit`] postings) only
//!    where its fourth peak is one the query offers. A short triplet's far time-ratio cells
//!    ([`QueryParams::ratio_jitter_frames`]) are read only where they are rare and their near
//!    sibling (the same other cells) was too. A dense-layer landmark ([`Landmark::dense`]) is
//!    looked up in its own cells only ([`QueryParams::at_own_cells`]). Every posting becomes a
//!    [`Hit`] `(query frame, reference frame)` for its track.
//! 2. **Votes** (`windows`, `groups`, `line`). Per track, hits are cut into overlapping
//!    windows of the query; in each the [`line::best_line`] search finds the time line (speed
//!    and offset) most hits agree with. A long item's windows are searched a chunk at a time as
//!    its hits arrive, and the hits dropped, so memory does not grow with the item.
//! 3. **Verification** (`windows`, `chance`, `thresholds`, `verify`). A window's line must
//!    gather enough hits, improbably many by chance (one minus the chance that the best of all
//!    the lines searched would gather as many hits if this track's hits were spread at random
//!    must reach 0.99). Where the index stores the track's peaks, a line of
//!    [`QueryParams::candidate_score`] hits is then checked against them ([`verify`]): the
//!    track's peaks that the item holds where the line puts them, each weighted by how rarely
//!    chance puts an item peak there, must be improbable for a recording unrelated to the track
//!    ([`QueryParams::min_peak_evidence`]). Without stored peaks, a line must gather the score
//!    of its transform from several pitches ([`QueryParams::min_pitches`]).
//! 4. **Segments** (`segments`). Consecutive windows of one track on the same line merge into
//!    one match, refitted by least squares; separate lines of a track (a track played twice) or
//!    separate tracks (a medley) stay separate matches.
//! 5. **Shadows** (`candidates`). A weaker match of another track under a stronger one is
//!    dropped when it is four times weaker, or clearly weaker and resting on the stronger one's
//!    query peaks (a passage two catalogue tracks share).

mod alignment;
mod candidates;
mod chance;
mod groups;
pub mod line;
mod lookup;
pub mod probes;
mod segments;
mod thresholds;
pub mod verify;
mod windows;

use crate::fingerprint::{Landmark, Peak};
use crate::index::{Index, TrackId};
use crate::tuning::QueryParams;
pub use alignment::{MAX_PAIRS, MatchAlignment, Repeat};
use candidates::suppress_shadows;
pub use line::{Hit, Line};
use lookup::Lookup;
pub use thresholds::Transform;
pub use verify::PeakCheck;
use windows::Windows;

/// Bumped with every change to which matches an index and a query yield: a scan's resume
/// journal records it, and refuses to mix two revisions' answers in one output.
pub const REVISION: u32 = 9;

/// A catalogue track heard in a query item.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Match {
    pub track: TrackId,
    /// Hits on the match's time line (distinct anchor pairs).
    pub score: u32,
    /// 0..1: one minus the chance behind [`Self::evidence`]. Every match reported has a chance
    /// far below 10^-4, so it reads 1 to four decimals: `evidence` tells strong from weak.
    pub confidence: f64,
    /// −log10 of a bound on the chance that a recording unrelated to the track matches as well:
    /// the peak check's evidence where the track's peaks were checked ([`PeakCheck::evidence`]),
    /// else that of the line's hits ([`MIN_CONFIDENCE`](thresholds::MIN_CONFIDENCE)'s odds).
    #[serde(default)]
    pub evidence: f64,
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
    /// The landmark pairs, line and repeats behind the match, for plots.
    #[serde(default)]
    pub alignment: MatchAlignment,
}

/// Looks up landmarks and turns hits into matches. Cheap to create; one per worker or per item.
pub struct Matcher<'i, D: AsRef<[u8]>> {
    index: &'i Index<D>,
    query: QueryParams,
    frame_seconds: f64,
    /// Landmarks to hits (`lookup`).
    lookup: Lookup,
    /// Hits with their track not yet resolved, unordered until a chunk groups them by track.
    hits: Vec<(u32, Hit)>,
    /// Hits to lines, window by window (`windows`).
    windows: Windows,
    /// The item's peaks, for the peak check; sorted by time in `finish`.
    item_peaks: Vec<verify::QueryPeak>,
    /// Whether candidates are checked against stored peaks, where a track has them: the index
    /// stores peaks, the check is on, and the caller gave the item's peaks.
    checks_peaks: bool,
}

/// What a matcher allocates in proportion to its item's hits, handed from one item's matcher to
/// the next on a thread: among 10^9 postings a 10 s clip gathers 20 million hits (400 MB with
/// their grouping), and faulting that memory in afresh for every item cost about a tenth of its
/// time (docs/decisions/0043). A worker keeps what its largest item needed.
#[derive(Default)]
struct Spare {
    hits: Vec<(u32, Hit)>,
    grouping: groups::Grouping,
    line_buffers: windows::LineBuffers,
}

thread_local! {
    static SPARE: std::cell::Cell<Option<Spare>> = const { std::cell::Cell::new(None) };
}

impl<'i, D: AsRef<[u8]>> Matcher<'i, D> {
    pub fn new(index: &'i Index<D>, query: QueryParams) -> Self {
        let params = index.params();
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
        let spare = SPARE.take().unwrap_or_default();
        let mut windows =
            Windows::new(&query, params.frame_seconds(), min_line, min_unchanged_line);
        windows.grouping = spare.grouping;
        windows.line_buffers = spare.line_buffers;
        let mut hits = spare.hits;
        hits.clear();
        Matcher {
            index,
            query,
            frame_seconds: params.frame_seconds(),
            lookup: Lookup::new(index, query),
            hits,
            windows,
            item_peaks: Vec::new(),
            checks_peaks: false,
        }
    }

    /// Takes query landmarks, in anchor order; their hits are gathered as they come and
    /// searched a chunk of windows at a time.
    pub fn add(&mut self, landmarks: impl IntoIterator<Item = Landmark>) {
        let mut latest = None;
        for m in landmarks {
            debug_assert!(
                latest.is_none_or(|f| f <= m.frame),
                "chunks need landmarks in anchor order"
            );
            latest = Some(m.frame);
            self.lookup.add(m);
            self.look_up();
        }
        if let Some(frame) = latest {
            self.resolve_before(frame);
        }
    }

    /// Looks up the pending probes.
    fn look_up(&mut self) {
        if self.lookup.is_pending() {
            self.lookup.run(self.index, &mut self.hits);
        }
    }

    /// Takes the item's peaks (all those its fingerprinter picked), for checking candidates
    /// against the tracks' stored peaks.
    pub fn add_peaks(&mut self, peaks: impl IntoIterator<Item = Peak>) {
        if peak_check_on(self.index, &self.query) {
            self.checks_peaks = true;
            let params = self.index.params();
            self.item_peaks
                .extend(peaks.into_iter().map(|p| verify::QueryPeak::of(&p, params)));
        }
    }

    /// Adds the item's fine peaks ([`QueryParams::fine_peaks_per_second`]) that are not also
    /// ordinary ones (as `Fingerprinter::take_fine_peaks` gives them), which the peak check
    /// reads where the peaks of [`Self::add_peaks`] hold none of a track's.
    pub fn add_fine_peaks(&mut self, peaks: impl IntoIterator<Item = Peak>) {
        if peak_check_on(self.index, &self.query) {
            let params = self.index.params();
            self.item_peaks.extend(
                peaks
                    .into_iter()
                    .map(|p| verify::QueryPeak::fine(&p, params)),
            );
        }
    }

    /// Resolves the hits gathered so far into matches, ordered by start time in the item, and
    /// leaves the matcher ready for another item.
    pub fn finish(&mut self) -> Vec<Match> {
        self.look_up();
        self.resolve_chunk(u32::MAX);
        self.windows.searched_to = 0;
        SPARE.set(Some(Spare {
            hits: std::mem::take(&mut self.hits),
            grouping: std::mem::take(&mut self.windows.grouping),
            line_buffers: std::mem::take(&mut self.windows.line_buffers),
        }));
        self.item_peaks.sort_by(|a, b| a.time.total_cmp(&b.time));
        let mut found = Vec::new();
        for (track, segments) in std::mem::take(&mut self.windows.open) {
            self.report_track(TrackId(track), segments, &mut found);
        }
        self.item_peaks.clear();
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
}

/// Whether a matcher on `index` checks candidates against the tracks' stored peaks (given the
/// item's peaks).
fn peak_check_on<D: AsRef<[u8]>>(index: &Index<D>, query: &QueryParams) -> bool {
    index.has_peaks() && query.min_peak_evidence > 0.0
}

#[cfg(test)]
mod testing;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::windows::{CHUNK_WINDOW_STARTS, HIT_BUDGET};
    use crate::tuning::QueryParams;

    /// A matcher takes the buffers the last one on its thread left (`Spare`), and what that one
    /// held does not reach the next item's answers: real clips matched one after the other on a
    /// thread give what each gives on a fresh one.
    #[test]
    fn buffers_pass_from_item_to_item_without_changing_answers() {
        use crate::matcher::testing::matches;
        let dir = tempfile::tempdir().unwrap();
        let index = crate::test_support::catalogue(dir.path());
        let clips: Vec<Vec<f32>> = ["clip-noisy.mp3", "medley.mp3", "clip-mp3.mp3"]
            .iter()
            .map(|name| crate::test_support::decode(&format!("testdata/dump/{name}")))
            .collect();
        let query = QueryParams::default();
        let on_thread = |f: &(dyn Fn() -> Vec<Vec<Match>> + Sync)| {
            std::thread::scope(|s| s.spawn(f).join().unwrap())
        };
        let fresh: Vec<Vec<Match>> = clips
            .iter()
            .flat_map(|clip| on_thread(&|| vec![matches(&index, clip, query)]))
            .collect();
        assert!(fresh.iter().all(|found| !found.is_empty()));
        let in_turn = on_thread(&|| {
            clips
                .iter()
                .map(|clip| {
                    let found = matches(&index, clip, query);
                    let spare = SPARE.take().expect("a finished matcher leaves its buffers");
                    assert!(spare.hits.capacity() > 0);
                    SPARE.set(Some(spare));
                    found
                })
                .collect()
        });
        assert_eq!(in_turn, fresh);
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
                m.windows.chunk_window_starts = chunk_window_starts;
                m.windows.hit_budget = hit_budget;
                for piece in landmarks.chunks(37) {
                    m.add(piece.iter().copied());
                    assert!(m.hits.iter().all(|(_, h)| h.q >= m.windows.searched_to));
                }
                let chunked = m.windows.searched_to > 0;
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
