//! Deterministic test data shared by the unit tests.

/// Uniform in [-1, 1), from a fixed seed (xorshift64).
pub fn noise(len: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

/// A synthetic voice at 8 kHz: voiced syllables, about 4 a second with a gap after each, on a
/// pitch gliding about 115 Hz, each with its own two formants; the harmonics reach 3.8 kHz. It
/// masks music as voiced speech does: a strong harmonic every 80–150 Hz, moving.
pub fn voice(len: usize, seed: u64) -> Vec<f32> {
    use std::f32::consts::TAU;
    let mut below = below(seed);
    let rate = 8000.0;
    let syllable = (rate / 4.2) as usize;
    let (mut phase, mut f1, mut f2) = (0f32, 0f32, 0f32);
    (0..len)
        .map(|i| {
            if i % syllable == 0 {
                f1 = 350.0 + below(450) as f32;
                f2 = 900.0 + below(1300) as f32;
            }
            let t = i as f32 / rate;
            let f0 = 115.0 + 25.0 * (TAU * 0.6 * t).sin() + 12.0 * (TAU * 3.1 * t).sin();
            phase = (phase + f0 / rate).fract();
            let s = (i % syllable) as f32 / syllable as f32;
            if s >= 0.8 {
                return 0.0;
            }
            let formants = |f: f32| {
                1.0 / (1.0 + ((f - f1) / 120.0).powi(2))
                    + 0.6 / (1.0 + ((f - f2) / 180.0).powi(2))
                    + 0.05
            };
            let harmonics = (1..)
                .map(|k| k as f32)
                .take_while(|k| k * f0 < 3800.0)
                .map(|k| formants(k * f0) * (TAU * k * phase).sin())
                .sum::<f32>();
            (std::f32::consts::PI * s / 0.8).sin() * harmonics
        })
        .collect()
}

/// A xorshift generator of numbers below `n`, for randomised tests.
pub fn below(mut x: u64) -> impl FnMut(u64) -> u64 {
    move |n| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    }
}

/// The audio file at `path` (from the repository root), decoded at the analysis rate.
pub fn decode(path: &str) -> Vec<f32> {
    let ext = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str());
    let rate = crate::config::FingerprintParams::default().sample_rate;
    let bytes = std::fs::read(path).unwrap();
    crate::audio::decode_to_vec(&bytes, ext, rate, &Default::default())
        .unwrap()
        .0
}

/// An index at `path` of `tracks` (id, mono samples at the analysis rate), with their hashes
/// and peaks, as `earmark index` builds it.
pub fn index_of(
    path: &std::path::Path,
    params: crate::config::FingerprintParams,
    tracks: &[(&str, &[f32])],
) -> crate::index::Index {
    use crate::index::{Index, IndexBuilder, TrackEntry};
    let mut builder = IndexBuilder::new(params, 1 << 30, path.with_extension("runs")).unwrap();
    for (id, audio) in tracks {
        let track = crate::index::catalogue::fingerprint_samples(audio, &params);
        let entry = TrackEntry {
            id: (*id).into(),
            external_id: String::new(),
            frames: track.frames,
            source: 0,
        };
        builder
            .add_track(entry, &track.hashes, &track.peaks)
            .unwrap();
    }
    builder.finish(path).unwrap();
    Index::open(path).unwrap()
}

/// An index of the five catalogue tracks in testdata/, with their hashes and peaks.
pub fn catalogue(dir: &std::path::Path) -> crate::index::Index {
    let tracks: Vec<(&str, Vec<f32>)> = [
        "wesnoth/battle.ogg",
        "wesnoth/deep-path.ogg",
        "wesnoth/siege.ogg",
        "ufoai/psymong.mp3",
        "ufoai/basrah.mp3",
    ]
    .into_iter()
    .map(|id| (id, decode(&format!("testdata/catalogue/{id}"))))
    .collect();
    let tracks: Vec<(&str, &[f32])> = tracks.iter().map(|(id, a)| (*id, &a[..])).collect();
    index_of(
        &dir.join("catalogue.earmark"),
        crate::config::FingerprintParams::default(),
        &tracks,
    )
}
