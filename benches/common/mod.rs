//! Shared by the benchmarks.

use std::io::Cursor;

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
