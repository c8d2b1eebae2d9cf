//! Decoding: any supported file or archive member in, mono `f32` at the analysis rate out.
//!
//! [`decode`] probes the container by content (the extension is only a hint), picks the first
//! audio track, decodes it with symphonia (or [`opus::OpusStream`] for Opus), downmixes every
//! buffer to mono and pushes it through [`resample::MonoResampler`] into the caller's sink. The
//! fingerprinter downstream sees nothing of codecs, channels or rates.
//!
//! A stream that breaks part-way is not an error if some audio came out: the audio is used and
//! [`Decoded::problem`] says what went wrong, so the scanner can report both.

pub mod opus;
pub mod resample;
mod riff;

use std::io::ErrorKind;

use symphonia::core::audio::{Audio, GenericAudioBufferRef};
use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::common::Limit;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use crate::error::{Error, Failure, FailureKind, Result};
use crate::limits::Limits;
use opus::OpusStream;
use resample::MonoResampler;

/// Consecutive undecodable packets after which a stream is given up.
const MAX_CONSECUTIVE_BAD_PACKETS: u32 = 64;
/// Times a demuxer may ask for a decoder reset (chained Ogg streams) before we stop.
const MAX_RESETS: u32 = 16;

/// What decoding one item produced, besides the samples themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// Seconds of audio delivered to the sink.
    pub seconds: f64,
    /// The rate the decoder produced before resampling, Hz.
    pub source_rate: u32,
    /// Channels before the downmix.
    pub channels: usize,
    /// Set when the stream ended in an error or hit a limit after some audio was decoded: the
    /// audio before it was delivered, and the item is reported with this as a warning.
    pub problem: Option<Failure>,
}

enum TrackDecoder {
    Symphonia(Box<dyn AudioDecoder>),
    Opus(OpusStream),
}

/// Decodes `source` to mono at `rate` Hz, pushing samples to `sink` as they are produced.
///
/// `extension` is a hint for the prober; content decides. Fails when no audio at all could be
/// decoded, or less than `limits.min_audio_seconds`.
pub fn decode<'s>(
    source: Box<dyn MediaSource + 's>,
    extension: Option<&str>,
    rate: u32,
    limits: &Limits,
    sink: &mut dyn FnMut(&[f32]),
) -> Result<Decoded> {
    let source = riff::repair(source).map_err(|e| {
        Error::Item(Failure::new(
            FailureKind::Unreadable,
            format!("cannot read: {e}"),
        ))
    })?;
    let mss = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = extension {
        hint.with_extension(ext);
    }
    // Tags and cover art are skipped; a hostile tag size must not become an allocation.
    let meta_opts = MetadataOptions::default()
        .limit_tag_bytes(Limit::Maximum(1 << 20))
        .limit_visual_bytes(Limit::Maximum(0));
    let fmt_opts = FormatOptions::default().prebuild_seek_index(false);
    let mut format = symphonia::default::get_probe()
        .probe(&hint, mss, fmt_opts, meta_opts)
        .map_err(|_| Error::UnsupportedAudio {
            reason: "no audio container or stream that earmark knows".into(),
        })?;

    let (mut track_id, mut decoder, mut channels, declared) = open_track(format.as_ref())?;
    // Seconds decoded at the source rate, to compare with what the header declares.
    let mut source_seconds = 0.0f64;
    let mut resampler = MonoResampler::new(rate);
    let mut out = Capped {
        sink,
        room: (limits.max_audio_seconds * f64::from(rate)) as u64,
        delivered: 0,
        full: false,
    };

    let mut mono: Vec<f32> = Vec::new();
    let mut planes: Vec<Vec<f32>> = Vec::new();
    let mut source_rate = 0;
    let mut problem = None;
    let mut bad_run = 0u32;
    let mut resets = 0u32;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymphoniaError::ResetRequired) if resets < MAX_RESETS => {
                resets += 1;
                // A chained stream's next link: what the links before it gave is kept, even
                // where this one cannot be decoded.
                match open_track(format.as_ref()) {
                    Ok(next) => (track_id, decoder, channels, _) = next,
                    Err(e) => {
                        problem = Some(Failure::new(
                            FailureKind::Unsupported,
                            format!("a chained stream's next part cannot be decoded: {e}"),
                        ));
                        break;
                    }
                }
                continue;
            }
            Err(SymphoniaError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => {
                problem = Some(Failure::new(
                    FailureKind::Truncated,
                    "stream ends early: the file looks truncated",
                ));
                break;
            }
            Err(e) => {
                problem = Some(Failure::new(
                    FailureKind::Corrupt,
                    format!("demuxing stopped: {e}"),
                ));
                break;
            }
        };
        if packet.track_id != track_id {
            continue;
        }
        let decoded_rate = match &mut decoder {
            TrackDecoder::Symphonia(d) => match d.decode(&packet) {
                Ok(buf) => {
                    let spec = buf.spec();
                    let (r, ch) = (spec.rate(), spec.channels().count().max(1));
                    // Decoders that produce f32 (MP3, AAC, Vorbis) are read in place; the
                    // others are converted first.
                    if let GenericAudioBufferRef::F32(b) = &buf {
                        downmix((0..ch).filter_map(|i| b.plane(i)), &mut mono);
                    } else {
                        buf.copy_to_vecs_planar(&mut planes);
                        downmix(planes.iter().take(ch).map(Vec::as_slice), &mut mono);
                    }
                    channels = ch;
                    Ok(r)
                }
                Err(e) => Err(e.to_string()),
            },
            TrackDecoder::Opus(d) => match d.decode(&packet.data) {
                Ok(samples) => {
                    mono.clear();
                    mono.extend_from_slice(samples);
                    Ok(d.rate())
                }
                Err(e) => Err(e.to_string()),
            },
        };
        match decoded_rate {
            Ok(r) => {
                bad_run = 0;
                if mono.is_empty() {
                    continue;
                }
                source_rate = r;
                source_seconds += mono.len() as f64 / f64::from(r);
                resampler.push(r, &mono, &mut |s| out.push(s))?;
                if out.full {
                    break;
                }
            }
            Err(reason) => {
                bad_run += 1;
                if bad_run >= MAX_CONSECUTIVE_BAD_PACKETS {
                    problem = Some(Failure::new(
                        FailureKind::Corrupt,
                        format!("gave up after {bad_run} undecodable packets in a row ({reason})"),
                    ));
                    break;
                }
            }
        }
    }
    resampler.finish(&mut |s| out.push(s));
    if out.full {
        problem = Some(Failure::new(
            FailureKind::TooLong,
            format!(
                "longer than the {} s limit: only the start was scanned (raise --max-seconds)",
                limits.max_audio_seconds
            ),
        ));
    }
    if let Some(declared) = declared.filter(|_| problem.is_none() && !out.full) {
        // A cut file often decodes cleanly up to the cut; only its header knows better.
        if source_seconds + (0.05 * declared).max(1.0) < declared {
            problem = Some(Failure::new(
                FailureKind::Truncated,
                format!(
                    "stream ends early: decoded {source_seconds:.1} s of the {declared:.1} s its header declares (truncated?)"
                ),
            ));
        }
    }
    let delivered = out.delivered;
    let seconds = delivered as f64 / f64::from(rate);
    if delivered == 0 {
        return Err(match problem {
            Some(failure) => Error::Item(failure),
            None => Error::TooShort {
                seconds: 0.0,
                min_seconds: limits.min_audio_seconds,
            },
        });
    }
    if seconds < limits.min_audio_seconds {
        return Err(Error::TooShort {
            seconds,
            min_seconds: limits.min_audio_seconds,
        });
    }
    Ok(Decoded {
        seconds,
        source_rate,
        channels,
        problem,
    })
}

/// Forwards samples to the sink until the duration limit is reached.
struct Capped<'a> {
    sink: &'a mut dyn FnMut(&[f32]),
    room: u64,
    delivered: u64,
    full: bool,
}

impl Capped<'_> {
    fn push(&mut self, samples: &[f32]) {
        let n = samples.len().min((self.room - self.delivered) as usize);
        if n > 0 {
            (self.sink)(&samples[..n]);
        }
        self.delivered += n as u64;
        self.full |= n < samples.len();
    }
}

/// Decodes a whole in-memory item into one buffer (tests, `earmark query`, benchmarks).
pub fn decode_to_vec(
    bytes: &[u8],
    extension: Option<&str>,
    rate: u32,
    limits: &Limits,
) -> Result<(Vec<f32>, Decoded)> {
    let mut out = Vec::new();
    let info = decode(
        Box::new(std::io::Cursor::new(bytes)),
        extension,
        rate,
        limits,
        &mut |s| out.extend_from_slice(s),
    )?;
    Ok((out, info))
}

/// The first audio track's id, a decoder for it, its channel count, and the length its header
/// declares in seconds (when it declares one).
fn open_track(format: &dyn FormatReader) -> Result<(u32, TrackDecoder, usize, Option<f64>)> {
    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| Error::UnsupportedAudio {
            reason: "the container holds no audio track".to_string(),
        })?;
    let params: &AudioCodecParameters = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| Error::UnsupportedAudio {
            reason: "the audio track has no codec parameters".to_string(),
        })?;
    let channels = params.channels.as_ref().map_or(0, |c| c.count());
    let decoder = if params.codec == CODEC_ID_OPUS {
        TrackDecoder::Opus(OpusStream::new(
            params.extra_data.as_deref(),
            Some(channels).filter(|&c| c > 0),
        )?)
    } else {
        let d = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(|e| Error::UnsupportedAudio {
                reason: format!("no decoder for codec {} ({e})", params.codec),
            })?;
        TrackDecoder::Symphonia(d)
    };
    let declared = match (track.num_frames, params.sample_rate) {
        (Some(n), Some(r)) if r > 0 => Some(n as f64 / f64::from(r)),
        _ => None,
    };
    Ok((track.id, decoder, channels, declared))
}

/// Averages planar channels into `mono` (replacing its contents): plane by plane, so the loops
/// vectorise, and stereo (the common case) in one pass. The sum runs in channel order and is
/// scaled once, so every path gives the same bits.
fn downmix<'a>(planes: impl IntoIterator<Item = &'a [f32]>, mono: &mut Vec<f32>) {
    mono.clear();
    let mut planes = planes.into_iter();
    let Some(first) = planes.next() else {
        return;
    };
    let Some(second) = planes.next() else {
        mono.extend_from_slice(first);
        return;
    };
    let Some(third) = planes.next() else {
        mono.extend(first.iter().zip(second).map(|(a, b)| (a + b) * 0.5));
        return;
    };
    mono.extend(first.iter().zip(second).map(|(a, b)| a + b));
    let mut channels = 2;
    for plane in std::iter::once(third).chain(planes) {
        for (m, s) in mono.iter_mut().zip(plane) {
            *m += s;
        }
        channels += 1;
    }
    let scale = 1.0 / channels as f32;
    mono.iter_mut().for_each(|m| *m *= scale);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_channels() {
        let mut mono = Vec::new();
        downmix([&[1.0, 0.5, -1.0][..], &[0.0, 0.5, 1.0]], &mut mono);
        assert_eq!(mono, vec![0.5, 0.5, 0.0]);
        downmix([&[0.25, 0.5][..]], &mut mono);
        assert_eq!(mono, vec![0.25, 0.5]);
        downmix([&[3.0, 0.0][..], &[0.0, 3.0], &[3.0, -3.0]], &mut mono);
        assert_eq!(mono, vec![2.0, 0.0]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let junk: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert!(decode_to_vec(&junk, Some("mp3"), 8000, &Limits::default()).is_err());
        assert!(decode_to_vec(&[], Some("mp3"), 8000, &Limits::default()).is_err());
    }

    /// A 16-bit mono WAV in memory, so decoding is tested without fixtures.
    pub(crate) fn wav(rate: u32, samples: &[f32]) -> Vec<u8> {
        let data_len = (samples.len() * 2) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(b"RIFF");
        b.extend_from_slice(&(36 + data_len).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt ");
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&(rate * 2).to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&16u16.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_len.to_le_bytes());
        for s in samples {
            b.extend_from_slice(&((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes());
        }
        b
    }

    #[test]
    fn decodes_wav_by_content_and_resamples() {
        let tone: Vec<f32> = (0..32000).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
        let bytes = wav(16000, &tone);
        // The wrong extension is only a hint.
        let (out, info) = decode_to_vec(&bytes, Some("mp3"), 8000, &Limits::default()).unwrap();
        assert_eq!(info.source_rate, 16000);
        assert_eq!(info.channels, 1);
        assert!((info.seconds - 2.0).abs() < 0.01, "{}", info.seconds);
        assert_eq!(out.len(), 16000);
        assert!(info.problem.is_none());
    }

    #[test]
    fn stops_at_the_duration_limit_and_says_so() {
        let tone: Vec<f32> = (0..8000 * 5)
            .map(|i| (i as f32 * 0.05).sin() * 0.5)
            .collect();
        let limits = Limits {
            max_audio_seconds: 2.0,
            ..Limits::default()
        };
        let (out, info) = decode_to_vec(&wav(8000, &tone), None, 8000, &limits).unwrap();
        assert_eq!(out.len(), 16000);
        let problem = info.problem.unwrap();
        assert_eq!(problem.kind, FailureKind::TooLong);
        assert!(problem.message.contains("limit"));
    }

    /// CRC-32 of an Ogg page (polynomial 0x04c11db7, not reflected, the CRC field zeroed).
    fn ogg_crc(page: &[u8]) -> u32 {
        let mut crc = 0u32;
        for &b in page {
            crc ^= u32::from(b) << 24;
            for _ in 0..8 {
                crc = if crc & 0x8000_0000 != 0 {
                    crc << 1 ^ 0x04c1_1db7
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    /// `clip-opus.opus` under another serial number (both fixtures were muxed with serial 0,
    /// and one serial is one stream), its pages' checksums made anew.
    fn opus_as_another_stream() -> Vec<u8> {
        let mut opus = std::fs::read("testdata/dump/clip-opus.opus").unwrap();
        let mut page = 0;
        while page < opus.len() {
            assert_eq!(&opus[page..page + 4], b"OggS");
            let payload = page + 27 + usize::from(opus[page + 26]);
            let end = payload
                + opus[page + 27..payload]
                    .iter()
                    .map(|&n| usize::from(n))
                    .sum::<usize>();
            opus[page + 14..page + 18].copy_from_slice(&0x5eed_u32.to_le_bytes());
            opus[page + 22..page + 26].fill(0);
            let crc = ogg_crc(&opus[page..end]);
            opus[page + 22..page + 26].copy_from_slice(&crc.to_le_bytes());
            page = end;
        }
        opus
    }

    #[test]
    fn a_chained_stream_keeps_every_part_across_the_decoder_change() {
        // Vorbis, then Opus: the demuxer asks for a new decoder between them.
        let vorbis = std::fs::read("testdata/dump/clip-vorbis.ogg").unwrap();
        let opus = opus_as_another_stream();
        let mut chained = vorbis.clone();
        chained.extend_from_slice(&opus);
        let limits = Limits::default();
        let (first, _) = decode_to_vec(&vorbis, Some("ogg"), 8000, &limits).unwrap();
        let (second, _) = decode_to_vec(&opus, Some("ogg"), 8000, &limits).unwrap();
        let (both, info) = decode_to_vec(&chained, Some("ogg"), 8000, &limits).unwrap();
        assert!(info.problem.is_none(), "{:?}", info.problem);
        assert!(
            both.len().abs_diff(first.len() + second.len()) <= 8,
            "{} + {} vs {}",
            first.len(),
            second.len(),
            both.len()
        );
        assert_eq!(&both[..first.len() - 100], &first[..first.len() - 100]);
    }

    #[test]
    fn truncated_wav_keeps_what_it_has() {
        let tone: Vec<f32> = (0..8000 * 3)
            .map(|i| (i as f32 * 0.05).sin() * 0.5)
            .collect();
        let bytes = wav(8000, &tone);
        let (out, _) =
            decode_to_vec(&bytes[..bytes.len() / 2], None, 8000, &Limits::default()).unwrap();
        assert!(out.len() > 8000 && out.len() < 16000, "{}", out.len());
    }
}
