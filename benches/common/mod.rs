//! Shared by the benchmarks.

use std::io::Cursor;
use std::path::Path;

use earmark::index::catalogue::fingerprint_track;
use earmark::index::{Index, IndexBuilder, TrackEntry};
use earmark::{FingerprintParams, Limits};

use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;

/// The benchmark clip: 10 s of 128 kbit/s stereo MP3 at 44.1 kHz.
pub const CLIP: &str = "testdata/dump/clip-mp3.mp3";

/// Decoding alone: demux and decode every packet, touching the samples once.
pub fn decode_only(bytes: &[u8]) -> f32 {
    let mss = MediaSourceStream::new(Box::new(Cursor::new(bytes.to_vec())), Default::default());
    let mut format = symphonia::default::get_probe()
        .probe(
            &Hint::new(),
            mss,
            FormatOptions::default(),
            Default::default(),
        )
        .unwrap();
    let track = format.default_track(TrackType::Audio).unwrap();
    let id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(
            track.codec_params.as_ref().unwrap().audio().unwrap(),
            &AudioDecoderOptions::default(),
        )
        .unwrap();
    let mut samples: Vec<f32> = Vec::new();
    let mut acc = 0.0;
    while let Ok(Some(packet)) = format.next_packet() {
        if packet.track_id == id
            && let Ok(buf) = decoder.decode(&packet)
        {
            buf.copy_to_vec_interleaved(&mut samples);
            acc += samples[0];
        }
    }
    acc
}

/// The shipped catalogue (testdata/catalogue), indexed as `earmark index` indexes it.
pub fn catalogue_index(dir: &Path) -> Index {
    let params = FingerprintParams::default();
    let mut builder = IndexBuilder::new(params, 1 << 28, dir.join("runs")).unwrap();
    for name in [
        "wesnoth/battle.ogg",
        "wesnoth/deep-path.ogg",
        "wesnoth/siege.ogg",
        "ufoai/psymong.mp3",
        "ufoai/basrah.mp3",
    ] {
        let path = Path::new("testdata/catalogue").join(name);
        let ext = path.extension().and_then(|e| e.to_str());
        let bytes = std::fs::read(&path).unwrap();
        let track = fingerprint_track(bytes, ext, &params, &Limits::default()).unwrap();
        let entry = TrackEntry {
            id: name.into(),
            external_id: String::new(),
            frames: track.frames,
            source: track.source,
        };
        builder
            .add_track(entry, &track.hashes, &track.peaks)
            .unwrap();
    }
    let path = dir.join("bench.earmark");
    builder.finish(&path).unwrap();
    Index::open(&path).unwrap()
}

/// The whole pipeline on the clip; returns the number of matches.
pub fn identify(index: &earmark::index::Index, bytes: &[u8]) -> usize {
    let (query, limits) = (earmark::QueryParams::default(), earmark::Limits::default());
    let (found, _) = earmark::scan::identify(
        index,
        Box::new(Cursor::new(bytes.to_vec())),
        Some("mp3"),
        &query,
        &limits,
    )
    .unwrap();
    found.len()
}
