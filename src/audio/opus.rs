//! [`OpusStream`]: Opus packets (demuxed by symphonia from Ogg or WebM) decoded by the pure-Rust
//! `opus-decoder` crate, because symphonia has no Opus decoder and libopus bindings need cmake
//! or a system library.
//!
//! The decoder always runs at 48 kHz and downmixes to mono itself; the resampler brings the
//! result to the analysis rate. opus-decoder 0.1 can also output 8 to 24 kHz directly, but its
//! SILK and hybrid frames come out wrong at those rates (correlation 0.3 with libopus on a
//! 32 kbit/s music clip, against 0.98 or better at 48 kHz), so that shortcut is not taken.

use opus_decoder::{OpusDecoder, OpusMultistreamDecoder};

use crate::error::{Error, Result};

/// The only output rate whose SILK and hybrid frames decode correctly (see above).
const OPUS_RATE: u32 = 48000;

/// Fields of the `OpusHead` identification header (RFC 7845 §5.1) that decoding needs.
#[derive(Debug, Clone, PartialEq)]
struct OpusHead {
    channels: u8,
    pre_skip: u16,
    /// `None` for mapping family 0 (mono or stereo in one stream).
    multistream: Option<(u8, u8, Vec<u8>)>,
}

fn parse_head(extra: &[u8], channels_hint: Option<usize>) -> Result<OpusHead> {
    let bad = |why: &str| Error::Decode {
        reason: format!("Opus header: {why}"),
    };
    if extra.len() >= 19 && &extra[..8] == b"OpusHead" {
        let channels = extra[9];
        let pre_skip = u16::from_le_bytes([extra[10], extra[11]]);
        let family = extra[18];
        if channels == 0 {
            return Err(bad("zero channels"));
        }
        let multistream = if family == 0 {
            if channels > 2 {
                return Err(bad("mapping family 0 with more than two channels"));
            }
            None
        } else {
            let table = extra
                .get(19..21 + channels as usize)
                .ok_or_else(|| bad("channel mapping table cut short"))?;
            Some((table[0], table[1], table[2..].to_vec()))
        };
        return Ok(OpusHead {
            channels,
            pre_skip,
            multistream,
        });
    }
    // Matroska files from some muxers carry no CodecPrivate: assume the channel count.
    let channels = channels_hint.unwrap_or(2).clamp(1, 2) as u8;
    Ok(OpusHead {
        channels,
        pre_skip: 0,
        multistream: None,
    })
}

enum Inner {
    Simple(Box<OpusDecoder>),
    Multi(OpusMultistreamDecoder, usize),
}

/// Decodes one Opus stream to mono `f32`.
pub struct OpusStream {
    inner: Inner,
    rate: u32,
    /// Samples at the output rate still to drop from the start (the encoder's pre-skip).
    skip: usize,
    pcm: Vec<f32>,
}

impl OpusStream {
    /// `extra_data` is the `OpusHead` packet (Ogg) or CodecPrivate (Matroska).
    pub fn new(extra_data: Option<&[u8]>, channels_hint: Option<usize>) -> Result<Self> {
        let head = parse_head(extra_data.unwrap_or(&[]), channels_hint)?;
        let rate = OPUS_RATE;
        let err = |e: opus_decoder::OpusError| Error::Decode {
            reason: format!("Opus decoder: {e}"),
        };
        let inner = match &head.multistream {
            None => Inner::Simple(Box::new(OpusDecoder::new(rate, 1).map_err(err)?)),
            Some((streams, coupled, mapping)) => Inner::Multi(
                OpusMultistreamDecoder::new(
                    rate,
                    head.channels as usize,
                    *streams as usize,
                    *coupled as usize,
                    mapping,
                )
                .map_err(err)?,
                head.channels as usize,
            ),
        };
        let channels = match inner {
            Inner::Simple(_) => 1,
            Inner::Multi(_, c) => c,
        };
        Ok(OpusStream {
            inner,
            rate,
            skip: head.pre_skip as usize * rate as usize / 48000,
            // 120 ms is the longest Opus packet.
            pcm: vec![0.0; (rate as usize * 120 / 1000) * channels],
        })
    }

    /// The rate of the samples [`decode`](Self::decode) produces.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Decodes one packet; returns the mono samples (empty while the pre-skip is dropped).
    pub fn decode(&mut self, packet: &[u8]) -> Result<&[f32]> {
        let err = |e: opus_decoder::OpusError| Error::Decode {
            reason: format!("Opus packet: {e}"),
        };
        let mono_len = match &mut self.inner {
            Inner::Simple(d) => d.decode_float(packet, &mut self.pcm, false).map_err(err)?,
            Inner::Multi(d, channels) => {
                let n = d.decode_float(packet, &mut self.pcm, false).map_err(err)?;
                let c = *channels;
                for i in 0..n {
                    let frame = &self.pcm[i * c..(i + 1) * c];
                    self.pcm[i] = frame.iter().sum::<f32>() / c as f32;
                }
                n
            }
        };
        let skip = self.skip.min(mono_len);
        self.skip -= skip;
        Ok(&self.pcm[skip..mono_len])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_family_zero_header() {
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 2, 0x38, 0x01, 0x80, 0xbb, 0, 0, 0, 0, 0]);
        let h = parse_head(&head, None).unwrap();
        assert_eq!((h.channels, h.pre_skip, h.multistream), (2, 312, None));
    }

    #[test]
    fn rejects_a_cut_mapping_table() {
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 6, 0, 0, 0x80, 0xbb, 0, 0, 0, 0, 1, 4]);
        assert!(parse_head(&head, None).is_err());
    }

    /// Opus decodes most byte strings as something: garbage must give an error, or at most
    /// one packet's worth (120 ms at 48 kHz) of finite samples, and never a panic.
    #[test]
    fn garbage_packets_give_an_error_or_bounded_audio_never_a_panic() {
        let mut s = OpusStream::new(None, Some(2)).unwrap();
        let mut errors = 0;
        for len in 0..64usize {
            let packet: Vec<u8> = (0..len).map(|i| (i * 37 + len) as u8).collect();
            match s.decode(&packet) {
                Err(e) => {
                    assert!(
                        e.to_string()
                            .starts_with("could not decode audio: Opus packet")
                    );
                    errors += 1;
                }
                Ok(samples) => {
                    assert!(samples.len() <= 5760, "{len}: {} samples", samples.len());
                    assert!(samples.iter().all(|x| x.is_finite()), "{len}");
                }
            }
        }
        assert!(errors > 0, "the empty packet, at least, is refused");
    }
}
