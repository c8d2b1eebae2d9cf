//! What a file's first bytes say it is: [`Content::sniff`].
//!
//! Content decides what earmark does with a file, never the extension alone: a `.mp3` that is
//! really Ogg decodes, a `changelog.gz` that is gzipped text is no tar archive, and an MP3
//! given where an index belongs is named as an MP3 in the error. The walker, the index reader
//! and the output guard all ask this one module.

use std::io::Read;

/// The kinds of file earmark tells apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// No bytes at all.
    Empty,
    /// An audio container or bare stream; the name says which ("an MP3 file").
    Audio(&'static str),
    Zip,
    Tar,
    /// gzip-compressed data; whether a tar lies inside is [`gzip_holds_tar`]'s question.
    Gzip,
    Parquet,
    EarmarkIndex,
    /// JSON, CSV, TSV, plain text.
    Text,
    /// Anything else.
    Other,
}

/// Bytes that [`Content::sniff`] reads: a tar header block.
pub const SNIFF_BYTES: usize = 512;

impl Content {
    /// Recognises `head`, the first [`SNIFF_BYTES`] of a file (or all of it, if shorter).
    pub fn sniff(head: &[u8]) -> Content {
        let starts = |magic: &[u8]| head.starts_with(magic);
        if head.is_empty() {
            Content::Empty
        } else if starts(b"EARMARK\0") {
            Content::EarmarkIndex
        } else if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
            Content::Zip
        } else if starts(&[0x1f, 0x8b]) {
            Content::Gzip
        } else if starts(b"PAR1") {
            Content::Parquet
        } else if is_tar_header(head) {
            Content::Tar
        } else if let Some(name) = audio_format(head) {
            Content::Audio(name)
        } else if looks_like_text(head) {
            Content::Text
        } else {
            Content::Other
        }
    }

    /// The kind in words, for messages: "an MP3 file", "a zip archive".
    pub fn describe(self) -> &'static str {
        match self {
            Content::Empty => "an empty file",
            Content::Audio(name) => name,
            Content::Zip => "a zip archive",
            Content::Tar => "a tar archive",
            Content::Gzip => "gzip-compressed data",
            Content::Parquet => "a Parquet file",
            Content::EarmarkIndex => "an earmark index",
            Content::Text => "a text file",
            Content::Other => "a file of unknown kind",
        }
    }
}

fn audio_format(head: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    Some(if starts(b"ID3") {
        // ID3v2 tags open MP3 files, and sometimes FLAC or AAC ones: what follows the tag says
        // which, where the head reaches that far.
        match id3_end(head).and_then(|end| head.get(end..)) {
            Some(rest) if rest.len() >= 4 => audio_format(rest).unwrap_or("an MP3 file"),
            _ => "an MP3 file",
        }
    } else if starts(b"fLaC") {
        "a FLAC file"
    } else if starts(b"OggS") {
        "an Ogg file"
    } else if starts(b"RIFF") && (at(8, b"WAVE") || at(8, b"RF64")) || starts(b"RF64") {
        "a WAV file"
    } else if starts(b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        "an AIFF file"
    } else if starts(b"caff") {
        "a CAF file"
    } else if at(4, b"ftyp") {
        "an MP4/M4A file"
    } else if starts(&[0x1a, 0x45, 0xdf, 0xa3]) {
        "a Matroska/WebM file"
    } else if is_mpeg_audio_frame(head) {
        "an MP3 file"
    } else if is_adts_frame(head) {
        "an AAC (ADTS) file"
    } else {
        return None;
    })
}

/// Where an ID3v2 tag that opens `head` ends: 10 header bytes, a size in four 7-bit bytes, and
/// a 10-byte footer when its flag says so.
fn id3_end(head: &[u8]) -> Option<usize> {
    let h = head.get(..10)?;
    let size = h[6..10].iter().try_fold(0usize, |n, &b| {
        (b < 0x80).then_some(n << 7 | usize::from(b))
    })?;
    let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

/// An MPEG audio frame header: sync, a layer, a bitrate and a sample rate that exist.
fn is_mpeg_audio_frame(h: &[u8]) -> bool {
    h.len() >= 4
        && h[0] == 0xff
        && h[1] & 0xe0 == 0xe0
        && (h[1] >> 3) & 3 != 1
        && (h[1] >> 1) & 3 != 0
        && h[2] >> 4 != 15
        && (h[2] >> 2) & 3 != 3
}

/// An ADTS (raw AAC) frame header: 12 sync bits and layer 0.
fn is_adts_frame(h: &[u8]) -> bool {
    h.len() >= 7 && h[0] == 0xff && h[1] & 0xf6 == 0xf0
}

/// A tar header block: the "ustar" magic, or (old v7 archives) a name and a valid checksum.
pub fn is_tar_header(block: &[u8]) -> bool {
    if block.len() < 512 {
        return false;
    }
    if &block[257..262] == b"ustar" {
        return true;
    }
    // The checksum field (148..156) holds octal digits; the sum counts it as eight spaces.
    let field = &block[148..156];
    let digits: Vec<u8> = field
        .iter()
        .copied()
        .skip_while(|b| *b == b' ')
        .take_while(|b| (b'0'..=b'7').contains(b))
        .collect();
    if digits.is_empty() || block[0] == 0 {
        return false;
    }
    let stored = digits.iter().fold(0u32, |n, d| n * 8 + u32::from(d - b'0'));
    let sum: u32 = block[..512]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(b)
            }
        })
        .sum();
    sum == stored
}

/// Whether gzip-compressed data opens with a tar header once inflated: a `.tar.gz` shard
/// rather than a gzipped changelog or save game. Reads one inflated block at most.
pub fn gzip_holds_tar(reader: impl std::io::Read) -> bool {
    let mut block = [0u8; 512];
    let mut inflated = flate2::read::GzDecoder::new(reader);
    let mut n = 0;
    while n < block.len() {
        match inflated.read(&mut block[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    is_tar_header(&block[..n])
}

/// Mostly printable ASCII or UTF-8, without NULs: JSON, CSV, logs, READMEs.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A multi-byte character cut at the end of the head is still text.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).expect("valid up to there")
        }
        Err(_) => return false,
    };
    let control = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    control * 50 < text.chars().count().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(path: &str) -> Vec<u8> {
        let bytes = std::fs::read(path).unwrap();
        bytes[..bytes.len().min(SNIFF_BYTES)].to_vec()
    }

    #[test]
    fn every_shipped_format_is_recognised_by_its_bytes() {
        for (path, want) in [
            ("testdata/dump/clip-mp3.mp3", "MP3"),
            ("testdata/dump/clip-flac.flac", "FLAC"),
            ("testdata/dump/clip-vorbis.ogg", "Ogg"),
            ("testdata/dump/clip-opus.opus", "Ogg"),
            ("testdata/dump/clip-wav.wav", "WAV"),
            ("testdata/dump/clip-aiff.aiff", "AIFF"),
            ("testdata/dump/clip-caf.caf", "CAF"),
            ("testdata/dump/clip-aac.m4a", "MP4"),
            ("testdata/dump/clip-alac.m4a", "MP4"),
            ("testdata/dump/clip-opus.webm", "Matroska"),
            ("testdata/dump/clip-vorbis.mkv", "Matroska"),
        ] {
            match Content::sniff(&head(path)) {
                Content::Audio(name) => assert!(name.contains(want), "{path}: {name}"),
                other => panic!("{path}: {other:?}"),
            }
        }
        assert_eq!(
            Content::sniff(&head("testdata/dump/fma-000.zip")),
            Content::Zip
        );
        assert_eq!(
            Content::sniff(&head("testdata/dump/shard-000000.tar")),
            Content::Tar
        );
        assert_eq!(
            Content::sniff(&head("testdata/dump/shard-000001.tar.gz")),
            Content::Gzip
        );
        assert_eq!(
            Content::sniff(&head("testdata/index-v3.earmark")),
            Content::EarmarkIndex
        );
        assert_eq!(Content::sniff(b""), Content::Empty);
        assert_eq!(Content::sniff(b"{\"item\":\"a.mp3\"}\n"), Content::Text);
        assert_eq!(Content::sniff(b"PAR1\x15\x04"), Content::Parquet);
        assert_eq!(Content::sniff(&[0u8, 1, 2, 3, 200, 9]), Content::Other);
    }

    #[test]
    fn a_gzipped_tar_is_told_from_gzipped_text() {
        let tgz = std::fs::read("testdata/dump/shard-000001.tar.gz").unwrap();
        assert!(gzip_holds_tar(&tgz[..]));
        let mut text = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(
            &mut text,
            "wesnoth (1:1.16.9-1) unstable; urgency=medium\n\n  * New upstream release.\n"
                .repeat(20)
                .as_bytes(),
        )
        .unwrap();
        assert!(!gzip_holds_tar(&text.finish().unwrap()[..]));
        assert!(!gzip_holds_tar(&b"\x1f\x8b not really gzip"[..]));
    }

    #[test]
    fn an_old_tar_without_the_ustar_magic_is_a_tar_by_its_checksum() {
        let mut header = tar::Header::new_old();
        header.set_path("a.mp3").unwrap();
        header.set_size(3);
        header.set_cksum();
        assert!(is_tar_header(header.as_bytes()));
        let mut broken = *header.as_bytes();
        broken[0] ^= 1;
        assert!(!is_tar_header(&broken));
    }
}
