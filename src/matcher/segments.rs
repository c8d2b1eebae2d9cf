//! Steps 4 and 5 of matching: the lines one track's windows found become [`Match`]es.
//! Segments on one line merge and are refitted; each is checked against the track's stored
//! peaks ([`verify`]) or held to the score of its transform ([`Transform`]); a track's repeats
//! of one passage fold into one match (`candidates`).

use super::candidates::{Candidate, fold_repeats};
use super::groups::{anchors_of, inliers_of, pitches_of};
use super::line::{self, Hit, Line};
use super::thresholds::{SHORT_LINE_EVIDENCE, Transform};
use super::verify::{self, MIN_CHECK_SECONDS, PeakCheck};
use super::{Match, MatchAlignment, Matcher};
use crate::index::TrackId;
use crate::index::reader::TrackPeaks;

impl<D: AsRef<[u8]>> Matcher<'_, D> {
    /// Reports the lines one track's windows found: merged, refitted, checked against the
    /// track's stored peaks (or held to the score of their transform), repeats folded.
    pub(super) fn report_track(
        &self,
        track: TrackId,
        segments: Vec<Segment>,
        out: &mut Vec<Candidate>,
    ) {
        let q = &self.query;
        let tolerance = f64::from(q.inlier_tolerance_frames);
        let max_change = f64::from(q.max_tempo_change);
        let track_frames = self.index.track_frames(track).map_or(1, |f| f.max(1));
        let peaks = self.index.track_peaks(track);
        let checked = self.checks_peaks && !peaks.is_empty();
        let min_span = self.windows.window / 4;
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
            let mut evidence = s.evidence;
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
                evidence = c.evidence();
                confidence = 1.0 - 10f64.powf(-evidence);
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
                evidence,
                item_start: q0 * fs,
                item_end: q1 * fs,
                track_start: clamp(line.at(q0)) * fs,
                track_end: clamp(line.at(q1)) * fs,
                speed,
                pitch,
                also_at: Vec::new(),
                peak_check,
                alignment: MatchAlignment::of(&s.inliers, &line, fs),
            };
            found.push(Candidate::new(m, &s.inliers));
        }
        out.extend(fold_repeats(found));
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
        let item_frames = self.item_peaks.last().map_or(0.0, |p| f64::from(p.time));
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
        let (c, sixteenths) = verify::best_check(peaks, &self.item_peaks, &alignment, scratch);
        (c, sixteenths / 16.0)
    }
}

/// Window matches of one track that lie on one line, merged.
pub(super) struct Segment {
    pub(super) inliers: Vec<Hit>,
    pub(super) line: Line,
    pub(super) confidence: f64,
    /// The same chance on a log scale ([`ChanceLine::evidence`](super::chance::ChanceLine)).
    pub(super) evidence: f64,
    /// The pitch shift all its hits share, quarter semitones.
    pub(super) pitch: i16,
}

impl Segment {
    /// Whether a window whose first hit is at query frame `q` is close enough to continue this
    /// segment (overlapping or adjacent to its last inlier).
    pub(super) fn reaches(&self, q: u32, window: u32) -> bool {
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
                k.evidence = k.evidence.max(s.evidence);
            }
            None => kept.push(s),
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::line::Line;
    use crate::matcher::testing::*;
    use crate::test_support::decode;
    use crate::tuning::QueryParams;
    use std::collections::BTreeMap;

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
                evidence: 3.0,
                pitch: 0,
            };
            m.windows.open.insert(track.0, vec![segment]);
            m.checks_peaks = true;
            m.item_peaks = item;
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
