//! WAV files whose RIFF lengths disagree with their bytes, read as ffmpeg reads them:
//! [`repair`].
//!
//! Writers that stream (recorders, pipes, old game tools) leave the RIFF size at 0 or
//! `0xFFFFFFFF`, or a few bytes short, and the `data` size at 0 or `0xFFFFFFFF`; a `LIST`
//! chunk after the audio may claim more than the file holds. The audio itself is intact, and
//! ffmpeg plays it, but symphonia's RIFF reader refuses a chunk that overruns its parent.
//! Where such a disagreement is found, the decoder is given a canonical header (the file's own
//! `fmt ` chunk, sizes that fit) followed by the file's audio bytes, read in place. A `data`
//! size larger than the file, other than the "unknown" values, is kept: that file was cut,
//! and the decoder reports it truncated.

use std::io::{self, Read, Seek, SeekFrom};

use symphonia::core::io::MediaSource;

/// The largest `fmt ` chunk taken as one (a `WAVE_FORMAT_EXTENSIBLE` one is 40 bytes).
const MAX_FMT_BYTES: u32 = 1024;
/// Chunks walked looking for `data` before giving up (a hostile file may hold millions).
const MAX_CHUNKS: usize = 64;

/// `source` itself, or, for a WAV whose lengths disagree with its bytes, a view of it that a
/// strict RIFF reader accepts. Leaves the source at its start either way.
pub fn repair<'s>(mut source: Box<dyn MediaSource + 's>) -> io::Result<Box<dyn MediaSource + 's>> {
    match plan(source.as_mut())? {
        None => {
            source.seek(SeekFrom::Start(0))?;
            Ok(source)
        }
        Some(view) => Ok(Box::new(Spliced::new(source, view)?)),
    }
}

/// Where the audio bytes lie, and the header that describes them truly.
struct View {
    header: Vec<u8>,
    data_at: u64,
    data_len: u64,
}

/// Reads the chunk headers; `None` when the file is not a WAV or its lengths agree.
fn plan(source: &mut dyn MediaSource) -> io::Result<Option<View>> {
    let mut head = [0u8; 12];
    if read_full(source, &mut head)? < 12 || &head[..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Ok(None);
    }
    let file_len = source.seek(SeekFrom::End(0))?;
    let riff_size = u32_le(&head[4..8]);
    let riff_end = 8 + u64::from(riff_size);
    let mut fmt = None;
    let mut at = 12u64;
    for _ in 0..MAX_CHUNKS {
        if at + 8 > file_len {
            return Ok(None);
        }
        source.seek(SeekFrom::Start(at))?;
        let mut chunk = [0u8; 8];
        read_full(source, &mut chunk)?;
        let size = u32_le(&chunk[4..8]);
        let body = at + 8;
        match &chunk[..4] {
            b"fmt " if size <= MAX_FMT_BYTES => {
                let mut bytes = vec![0u8; size as usize];
                if read_full(source, &mut bytes)? < bytes.len() {
                    return Ok(None);
                }
                fmt = Some(bytes);
            }
            b"data" => {
                let Some(fmt) = fmt else { return Ok(None) };
                let available = file_len - body;
                let unknown = size == 0 || size == u32::MAX;
                let data_len = if unknown { available } else { u64::from(size) };
                let fits = !unknown
                    && riff_size != 0
                    && riff_size != u32::MAX
                    && body + data_len <= riff_end;
                if fits {
                    return Ok(None);
                }
                return Ok(Some(View {
                    header: canonical_header(&fmt, data_len),
                    data_at: body,
                    data_len: data_len.min(available),
                }));
            }
            _ => {}
        }
        at = body + u64::from(size) + u64::from(size & 1);
    }
    Ok(None)
}

/// `RIFF` `WAVE` `fmt ` (as given) `data` (of `data_len`), with every size consistent.
fn canonical_header(fmt: &[u8], data_len: u64) -> Vec<u8> {
    let data_size = u32::try_from(data_len).unwrap_or(u32::MAX - 1) & !1;
    let pad = fmt.len() & 1;
    let riff = 4 + 8 + fmt.len() + pad + 8;
    let mut h = Vec::with_capacity(12 + riff);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(riff as u32).saturating_add(data_size).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&(fmt.len() as u32).to_le_bytes());
    h.extend_from_slice(fmt);
    h.resize(h.len() + pad, 0);
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_size.to_le_bytes());
    h
}

fn u32_le(b: &[u8]) -> u32 {
    u32::from_le_bytes(b.try_into().expect("four bytes"))
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// A header in memory followed by a stretch of the source: one seekable stream.
struct Spliced<'s> {
    header: Vec<u8>,
    source: Box<dyn MediaSource + 's>,
    data_at: u64,
    data_len: u64,
    /// Position in the spliced stream.
    pos: u64,
}

impl<'s> Spliced<'s> {
    fn new(source: Box<dyn MediaSource + 's>, view: View) -> io::Result<Self> {
        let mut s = Spliced {
            header: view.header,
            source,
            data_at: view.data_at,
            data_len: view.data_len,
            pos: 0,
        };
        s.seek(SeekFrom::Start(0))?;
        Ok(s)
    }

    fn len(&self) -> u64 {
        self.header.len() as u64 + self.data_len
    }
}

impl Read for Spliced<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let header = self.header.len() as u64;
        if self.pos < header {
            let from = &self.header[self.pos as usize..];
            let n = from.len().min(buf.len());
            buf[..n].copy_from_slice(&from[..n]);
            self.pos += n as u64;
            if self.pos == header {
                self.source.seek(SeekFrom::Start(self.data_at))?;
            }
            return Ok(n);
        }
        let left = self.len() - self.pos;
        let want = (buf.len() as u64).min(left) as usize;
        let n = self.source.read(&mut buf[..want])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Spliced<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => p as i128,
            SeekFrom::End(d) => self.len() as i128 + d as i128,
            SeekFrom::Current(d) => self.pos as i128 + d as i128,
        };
        if target < 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start",
            ));
        }
        self.pos = (target as u64).min(self.len());
        let header = self.header.len() as u64;
        if self.pos >= header {
            self.source
                .seek(SeekFrom::Start(self.data_at + (self.pos - header)))?;
        }
        Ok(self.pos)
    }
}

impl MediaSource for Spliced<'_> {
    fn is_seekable(&self) -> bool {
        true
    }

    fn byte_len(&self) -> Option<u64> {
        Some(self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::decode_to_vec;
    use crate::limits::Limits;

    /// A 16-bit mono WAV of `seconds` at 8 kHz with the RIFF and data sizes given, and
    /// `after` appended.
    fn wav(riff_size: Option<u32>, data_size: Option<u32>, after: &[u8]) -> Vec<u8> {
        let samples: Vec<i16> = (0..16000)
            .map(|i| ((i as f32 * 0.07).sin() * 8000.0) as i16)
            .collect();
        let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        let mut fmt = Vec::new();
        for v in [1u16, 1] {
            fmt.extend_from_slice(&v.to_le_bytes());
        }
        fmt.extend_from_slice(&8000u32.to_le_bytes());
        fmt.extend_from_slice(&16000u32.to_le_bytes());
        fmt.extend_from_slice(&2u16.to_le_bytes());
        fmt.extend_from_slice(&16u16.to_le_bytes());
        let mut b = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        b.extend_from_slice(&16u32.to_le_bytes());
        b.extend_from_slice(&fmt);
        b.extend_from_slice(b"data");
        b.extend_from_slice(&data_size.unwrap_or(data.len() as u32).to_le_bytes());
        b.extend_from_slice(&data);
        b.extend_from_slice(after);
        let riff = riff_size.unwrap_or(b.len() as u32 - 8);
        b[4..8].copy_from_slice(&riff.to_le_bytes());
        b
    }

    fn decoded_seconds(bytes: &[u8]) -> (f64, bool) {
        let (_, info) = decode_to_vec(bytes, Some("wav"), 8000, &Limits::default()).unwrap();
        (info.seconds, info.problem.is_some())
    }

    #[test]
    fn lengths_that_disagree_with_the_bytes_still_give_all_the_audio() {
        let list = b"LIST\x88\x13\0\0INFOISFT";
        for (what, bytes) in [
            ("sound", wav(None, None, b"")),
            ("riff size 0", wav(Some(0), None, b"")),
            (
                "riff size unknown",
                wav(Some(u32::MAX), Some(u32::MAX), b""),
            ),
            ("riff size 4 short", wav(Some(32000 + 36 - 4), None, b"")),
            ("data size 0", wav(None, Some(0), b"")),
            ("a LIST chunk past the end", wav(None, None, list)),
        ] {
            let (seconds, problem) = decoded_seconds(&bytes);
            assert!((seconds - 2.0).abs() < 0.01, "{what}: {seconds} s");
            assert!(!problem, "{what}: reported a problem");
        }
        // A file cut short of its declared data is still reported as cut.
        let mut cut = wav(None, None, b"");
        cut.truncate(cut.len() - 8000);
        cut[4..8].copy_from_slice(&0u32.to_le_bytes());
        let (seconds, problem) = decoded_seconds(&cut);
        assert!(
            (seconds - 1.5).abs() < 0.01 && problem,
            "{seconds} {problem}"
        );
    }

    #[test]
    fn a_sound_wav_is_passed_through_untouched() {
        let bytes = wav(None, None, b"");
        let mut source: Box<dyn MediaSource> = Box::new(std::io::Cursor::new(bytes.clone()));
        assert!(plan(source.as_mut()).unwrap().is_none());
        let mut back = Vec::new();
        repair(source).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, bytes);
    }

    #[test]
    fn the_spliced_view_reads_and_seeks_like_one_file() {
        let bytes = wav(Some(0), None, b"junk");
        let source: Box<dyn MediaSource> = Box::new(std::io::Cursor::new(bytes.clone()));
        let mut view = repair(source).unwrap();
        let mut all = Vec::new();
        view.read_to_end(&mut all).unwrap();
        assert_eq!(&all[..4], b"RIFF");
        assert_eq!(u32_le(&all[4..8]) as usize, all.len() - 8);
        assert_eq!(
            &all[44..],
            &bytes[44..bytes.len() - 4],
            "the audio, without the junk"
        );
        view.seek(SeekFrom::Start(40)).unwrap();
        let mut four = [0u8; 8];
        view.read_exact(&mut four).unwrap();
        assert_eq!(&four, &all[40..48], "a read across the header's end");
        assert_eq!(view.seek(SeekFrom::End(0)).unwrap(), all.len() as u64);
    }
}
