//! What the matcher's tests share: a fixture index, the hits and matches of real clips, and
//! ways to degrade audio.

use super::{Hit, Match, Matcher};
use crate::fingerprint::{Density, Fingerprinter, fingerprint};
use crate::index::{Index, TrackId};
use crate::tuning::QueryParams;

/// The hits (sorted, without repeats) of a shipped dump clip against the v3 fixture index,
/// looked up with `query`.
pub(super) fn fixture_hits<D: AsRef<[u8]>>(
    index: &Index<D>,
    clip: &str,
    query: QueryParams,
) -> Vec<(u32, Hit)> {
    let params = *index.params();
    let bytes = std::fs::read(format!("testdata/dump/{clip}")).unwrap();
    let limits = crate::limits::Limits::default();
    let (samples, _) =
        crate::audio::decode_to_vec(&bytes, Some("mp3"), params.sample_rate, &limits).unwrap();
    let mut m = Matcher::new(index, query);
    m.add(fingerprint(&samples, &params, Density::query(&query)));
    m.look_up();
    let mut hits = std::mem::take(&mut m.hits);
    hits.sort_unstable();
    hits.dedup();
    hits
}

pub(super) fn fixture_index() -> Index<memmap2::Mmap> {
    Index::open(std::path::Path::new("testdata/index-v3.earmark")).unwrap()
}

/// The index's track whose id ends with `name`.
pub(super) fn fixture_track<D: AsRef<[u8]>>(index: &Index<D>, name: &str) -> u32 {
    (0..index.tracks())
        .find(|&t| index.track(TrackId(t)).unwrap().id.ends_with(name))
        .unwrap()
}

/// Hits of `track` within 3 frames (the inlier tolerance) of the line `r = q + offset`,
/// offset in seconds.
pub(super) fn on_line(hits: &[(u32, Hit)], track: u32, offset: f64, frame_seconds: f64) -> usize {
    let offset = offset / frame_seconds;
    hits.iter()
        .filter(|(t, h)| *t == track && (f64::from(h.r) - f64::from(h.q) - offset).abs() <= 3.0)
        .count()
}

/// Hits on the true line of the quiet-speech clip (testdata/truth.tsv: siege.ogg from
/// 11.75 s, under speech 6 dB quieter) looked up with `fewer` and with `more`, after checking
/// that `more` keeps every hit of `fewer`.
pub(super) fn speech_clip_true_hits(fewer: QueryParams, more: QueryParams) -> (usize, usize) {
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

pub(super) fn matches(
    index: &Index<memmap2::Mmap>,
    samples: &[f32],
    query: QueryParams,
) -> Vec<Match> {
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

pub(super) fn rms(x: &[f32]) -> f32 {
    (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
}

/// `music` with `other` added `db` dB louder.
pub(super) fn mix(music: &[f32], other: &[f32], db: f32) -> Vec<f32> {
    let gain = rms(music) / rms(&other[..music.len()]) * 10f32.powf(db / 20.0);
    music.iter().zip(other).map(|(a, b)| a + gain * b).collect()
}

/// `x` played `speed` times as fast by linear interpolation: tempo and pitch change together,
/// as a resampled copy's do.
pub(super) fn resample(x: &[f32], speed: f64) -> Vec<f32> {
    let len = ((x.len() - 1) as f64 / speed) as usize;
    (0..len)
        .map(|i| {
            let at = i as f64 * speed;
            let (j, frac) = (at as usize, (at - at.floor()) as f32);
            x[j] + frac * (x[(j + 1).min(x.len() - 1)] - x[j])
        })
        .collect()
}
