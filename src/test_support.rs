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
        let (keyed, peaks, frames) = crate::fingerprint::catalogue_track(audio, &params);
        let entry = TrackEntry {
            id: (*id).into(),
            external_id: String::new(),
            frames: frames as u32,
        };
        builder.add_track(entry, &keyed, &peaks).unwrap();
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
