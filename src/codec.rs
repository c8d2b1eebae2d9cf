//! Every bit and byte earmark stores, owned by this one module: the hash of a landmark
//! ([`Hash`], laid out by [`KeyLayout`]), the [`Detail`] kept beside it, a packed posting
//! ([`PostingLayout`]), a stored peak ([`PeakCode`]) and the fingerprint parameter block
//! recorded in every index ([`FingerprintParams::to_bytes`]). It depends on nothing else in
//! the crate but the parameters it encodes. docs/index-format.md draws the same layouts for
//! people; `index::format` places them in the file.
//!
//! A hash is a triplet key followed by the fourth peak (31 bits at the defaults):
//!
//! ```text
//! | scrambled triplet key (25)                                          | fourth peak (6) |
//!   triplet key before scrambling:
//! | anchor band (5) | interval B (6) | interval C (6) | time ratio (4) | span (4) |
//! ```
//!
//! The triplet key is scrambled by a bijection (odd multiply, xor-shift) so the index's
//! directory, which is addressed by the top bits, fills evenly. The fourth peak is not: every
//! posting of one triplet lies in one contiguous range ([`KeyLayout::triplet_range`]).
//!
//! Changing anything here changes what indexes hold: bump `index::format::VERSION` with it
//! (a test over a committed index fixture fails until then).

use crate::config::{FingerprintParams, FourthPeak};
use crate::error::{Error, Result};

/// A quantised landmark, `HashLayout::total_bits` wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash(pub u32);

/// What the index keeps of a landmark besides its hash: the anchor's pitch (high byte, quarter
/// semitones) and the triplet's span (low byte, log-scaled), finely quantised. A hit found
/// through a coarse hash cell is then checked for the same pitch shift and time scale as the
/// other hits of its match, which random hits almost never share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Detail(pub u16);

impl Detail {
    /// How a query landmark's detail differs from a stored one: the pitch shift in quarter
    /// semitones and the log span ratio in span-byte units (query minus stored, for both).
    pub fn since(self, stored: Detail) -> (i16, i16) {
        let pitch = i16::from(self.anchor_cell()) - i16::from(stored.anchor_cell());
        let span = (self.0 & 0xff) as i16 - (stored.0 & 0xff) as i16;
        (pitch, span)
    }

    /// The anchor's pitch cell, quarter semitones above `min_freq_hz`.
    pub fn anchor_cell(self) -> u8 {
        (self.0 >> 8) as u8
    }
}

/// Bits of a [`Detail`].
pub const DETAIL_BITS: u32 = 16;

/// A landmark as the index stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Keyed {
    pub hash: Hash,
    /// Anchor frame.
    pub frame: u32,
    pub detail: Detail,
}

/// Quantisation of one feature: `cells` cells of equal width, `bits` wide in the key.
#[derive(Debug, Clone, Copy)]
pub struct Axis {
    pub cells: u32,
    pub bits: u32,
}

impl Axis {
    pub fn new(cells: u32) -> Self {
        Axis {
            cells,
            bits: 32 - (cells.max(2) - 1).leading_zeros(),
        }
    }

    pub fn cell(&self, x: f32) -> u32 {
        (x.floor().max(0.0) as u32).min(self.cells - 1)
    }

    /// Cells overlapping `[lo, hi]` (in cell units).
    pub fn range(&self, lo: f32, hi: f32) -> std::ops::RangeInclusive<u32> {
        self.cell(lo)..=self.cell(hi)
    }
}

/// The cells of a hash: how many each feature has and how wide each is in the key.
#[derive(Debug, Clone, Copy)]
pub struct KeyLayout {
    pub anchor: Axis,
    pub interval: Axis,
    pub ratio: Axis,
    pub span: Axis,
    /// Interval cells of the fourth peak plus one for "none" (`None`: no fourth peak).
    pub fourth: Option<Axis>,
}

impl KeyLayout {
    pub fn new(params: &FingerprintParams) -> Self {
        let octaves = (params.max_freq_hz / params.min_freq_hz).log2().max(0.0);
        let anchor_cells = ((12.0 * octaves) / params.anchor_band_semitones)
            .ceil()
            .max(1.0) as u32;
        let interval_cells = (2.0 * params.zone_semitones / params.interval_step_semitones)
            .ceil()
            .max(1.0) as u32
            + 1;
        KeyLayout {
            anchor: Axis::new(anchor_cells),
            interval: Axis::new(interval_cells),
            ratio: Axis::new(params.ratio_levels),
            span: Axis::new(params.span_levels),
            fourth: params
                .fourth_peak
                .is_on()
                .then(|| Axis::new(interval_cells + 1)),
        }
    }

    /// Refuses parameters whose hashes would not fit: more than 32 bits, or more than 63
    /// fourth-peak cells (a set of cells is a `u64`).
    pub fn check(params: &FingerprintParams) -> Result<()> {
        let layout = KeyLayout::new(params);
        let bad = |what: &str| {
            Err(Error::Invalid(format!(
                "invalid fingerprint parameters: {what}"
            )))
        };
        if layout.total_bits() > 32 {
            return bad("the hash quantisation needs more than 32 bits");
        }
        if layout.no_fourth() > 63 {
            return bad(
                "fourth_peak allows at most 63 interval cells (2 zone_semitones / \
                 interval_step_semitones + 1)",
            );
        }
        Ok(())
    }

    /// Width of a hash in bits.
    pub fn total_bits(&self) -> u32 {
        self.triplet_bits() + self.fourth_bits()
    }

    /// Width of the triplet key.
    pub fn triplet_bits(&self) -> u32 {
        self.anchor.bits + 2 * self.interval.bits + self.ratio.bits + self.span.bits
    }

    /// Width of the fourth peak's cell (0 without one).
    pub fn fourth_bits(&self) -> u32 {
        self.fourth.map_or(0, |a| a.bits)
    }

    /// The fourth-peak cell of a triplet whose zone holds no peak after C (at most 63).
    pub fn no_fourth(&self) -> u32 {
        self.fourth.map_or(0, |a| a.cells - 1)
    }

    /// The smallest and largest hash sharing `hash`'s triplet key: every fourth peak.
    pub fn triplet_range(&self, hash: Hash) -> (Hash, Hash) {
        let mask = (1u32 << self.fourth_bits()) - 1;
        (Hash(hash.0 & !mask), Hash(hash.0 | mask))
    }

    /// The hash of a triplet key's cells (anchor, interval B, interval C, ratio, span), with
    /// fourth-peak cell 0.
    pub fn pack(&self, cells: [u32; 5]) -> Hash {
        let mut h = cells[0];
        h = (h << self.interval.bits) | cells[1];
        h = (h << self.interval.bits) | cells[2];
        h = (h << self.ratio.bits) | cells[3];
        h = (h << self.span.bits) | cells[4];
        Hash(scramble(h, self.triplet_bits()) << self.fourth_bits())
    }
}

/// A bijection on `bits`-bit values that spreads structured keys over the top bits.
fn scramble(h: u32, bits: u32) -> u32 {
    let mask = if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    };
    let mut x = h.wrapping_mul(0x9E37_79B1) & mask;
    x ^= x >> (bits / 2).max(1);
    x
}

/// How a posting's bits are split, most significant first:
/// `[hash low bits | track | frame | detail (16)]`. Postings lie `width()` bits apart in the
/// posting list, least significant bit first (docs/index-format.md); format versions 3 and 4
/// wrote 64-bit postings, the frame taking whatever the other fields left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostingLayout {
    pub hash_bits: u32,
    pub dir_bits: u32,
    pub track_bits: u32,
    pub time_bits: u32,
}

impl PostingLayout {
    /// Chooses the widths for an index of `postings` postings over `tracks` tracks whose
    /// longest track has `max_frames` frames: no field wider than it must be, since every bit
    /// of a posting is paid for by every posting. The directory gets about one bucket per
    /// sixteen postings: half a byte per posting, and a bucket small enough for a short search.
    pub fn choose(hash_bits: u32, postings: u64, tracks: u64, max_frames: u64) -> Result<Self> {
        let bits_for = |n: u64| 64 - n.saturating_sub(1).leading_zeros().min(63);
        let track_bits = bits_for(tracks).max(1);
        let time_bits_needed = bits_for(max_frames + 1);
        let mut dir_bits = bits_for(postings / 16)
            .clamp(8, hash_bits.max(8))
            .min(hash_bits);
        while (hash_bits - dir_bits) + track_bits + time_bits_needed + DETAIL_BITS > 64 {
            if dir_bits == hash_bits {
                return Err(Error::Build {
                    reason: format!(
                        "{tracks} tracks of up to {max_frames} frames do not fit a 64-bit posting"
                    ),
                });
            }
            dir_bits += 1;
        }
        Ok(PostingLayout {
            hash_bits,
            dir_bits,
            track_bits,
            time_bits: time_bits_needed,
        })
    }

    pub fn low_bits(&self) -> u32 {
        self.hash_bits - self.dir_bits
    }

    /// Bits of one posting.
    pub fn width(&self) -> u32 {
        self.low_bits() + self.track_bits + self.time_bits + DETAIL_BITS
    }

    /// Bytes of a posting list of `postings` postings: their bits, rounded up to a byte, then
    /// [`PACKED_PADDING`] zero bytes so that the last posting's 16-byte load stays inside the
    /// list. 64-bit postings are whole words, read as such, and need no padding.
    pub fn list_bytes(&self, postings: u64) -> Option<u64> {
        let w = u64::from(self.width());
        if w == 64 {
            return postings.checked_mul(8);
        }
        postings
            .checked_mul(w)?
            .div_ceil(8)
            .checked_add(PACKED_PADDING)
    }

    /// Byte of the posting list where posting `i` starts.
    pub fn byte_of(&self, i: u64) -> usize {
        (i * u64::from(self.width()) / 8) as usize
    }

    /// The packed posting `i` of `list`, a posting list laid out by [`Self::list_bytes`].
    #[inline]
    pub fn read(&self, list: &[u8], i: u64) -> u64 {
        let w = self.width();
        if w == 64 {
            let at = i as usize * 8;
            return u64::from_le_bytes(list[at..at + 8].try_into().expect("8 bytes"));
        }
        // A posting starts anywhere in its first byte, so up to 7 + 63 bits are loaded.
        let bit = i * u64::from(w);
        let at = (bit / 8) as usize;
        let bytes = u128::from_le_bytes(list[at..at + 16].try_into().expect("16 bytes"));
        (bytes >> (bit % 8)) as u64 & mask(w)
    }

    pub fn bucket(&self, hash: u32) -> usize {
        (hash >> self.low_bits()) as usize
    }

    pub fn buckets(&self) -> usize {
        1usize << self.dir_bits
    }

    /// Bits below the hash low bits.
    fn low_shift(&self) -> u32 {
        self.track_bits + self.time_bits + DETAIL_BITS
    }

    /// The posting, `width()` bits, or `None` where the track or frame does not fit its field.
    pub fn pack(&self, hash: u32, track: u32, frame: u32, detail: Detail) -> Option<u64> {
        if u64::from(track) > mask(self.track_bits) || u64::from(frame) > mask(self.time_bits) {
            return None;
        }
        let low = u64::from(hash) & mask(self.low_bits());
        let high = if self.low_bits() == 0 {
            0
        } else {
            low << self.low_shift()
        };
        Some(
            high | (u64::from(track) << (self.time_bits + DETAIL_BITS))
                | (u64::from(frame) << DETAIL_BITS)
                | u64::from(detail.0),
        )
    }

    /// The hash low bits, the track, the frame and the detail of a packed posting.
    pub fn unpack(&self, p: u64) -> (u32, u32, u32, Detail) {
        let detail = Detail((p & mask(DETAIL_BITS)) as u16);
        let frame = (p >> DETAIL_BITS) & mask(self.time_bits);
        let track = (p >> (self.time_bits + DETAIL_BITS)) & mask(self.track_bits);
        let low = if self.low_bits() == 0 {
            0
        } else {
            p >> self.low_shift()
        };
        (low as u32, track as u32, frame as u32, detail)
    }

    /// The packed value range holding every posting of hash low bits `low`.
    pub fn low_range(&self, low: u32) -> (u64, u64) {
        let shift = self.low_shift();
        if shift >= 64 {
            return (0, u64::MAX);
        }
        let start = u64::from(low) << shift;
        (start, start | mask(shift))
    }
}

/// Writes postings `layout.width()` bits apart, least significant bit first, as
/// [`PostingLayout::read`] reads them.
pub struct PostingPacker {
    width: u32,
    /// Bits not yet written, at the bottom: fewer than 8 between pushes.
    pending: u128,
    pending_bits: u32,
}

/// Zero bytes after a packed posting list (narrower than 64 bits), so that every posting can be
/// read with one 16-byte load.
pub const PACKED_PADDING: u64 = 16;

impl PostingPacker {
    pub fn new(layout: PostingLayout) -> Self {
        PostingPacker {
            width: layout.width(),
            pending: 0,
            pending_bits: 0,
        }
    }

    pub fn push(&mut self, posting: u64, out: &mut impl std::io::Write) -> std::io::Result<()> {
        if self.width == 64 {
            return out.write_all(&posting.to_le_bytes());
        }
        self.pending |= u128::from(posting) << self.pending_bits;
        self.pending_bits += self.width;
        let whole = (self.pending_bits / 8) as usize;
        out.write_all(&self.pending.to_le_bytes()[..whole])?;
        self.pending >>= 8 * whole;
        self.pending_bits -= 8 * whole as u32;
        Ok(())
    }

    /// Writes the last part-byte and the padding [`PostingLayout::list_bytes`] counts.
    pub fn finish(self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        if self.width == 64 {
            return Ok(());
        }
        if self.pending_bits > 0 {
            out.write_all(&[self.pending as u8])?;
        }
        out.write_all(&[0u8; PACKED_PADDING as usize])
    }
}

fn mask(bits: u32) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Bits of a stored peak's pitch, in sixteenths of a semitone above `min_freq_hz`: 1,024 steps
/// cover 64 semitones, and the default band spans 59.
pub const PEAK_PITCH_BITS: u32 = 10;
/// Bits of a stored peak's frame: peaks after 2^22 frames (18.6 hours) are not stored.
pub const PEAK_FRAME_BITS: u32 = 32 - PEAK_PITCH_BITS;

/// One stored spectral peak of a catalogue track: `frame << 10 | pitch`, the frame rounded to
/// the nearest and the pitch in sixteenths of a semitone above `min_freq_hz`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct PeakCode(pub u32);

impl PeakCode {
    /// The code of a peak at `frame` with pitch `sixteenths`, or `None` beyond what a code holds.
    pub fn new(frame: u32, sixteenths: u32) -> Option<Self> {
        (frame < 1 << PEAK_FRAME_BITS && sixteenths < 1 << PEAK_PITCH_BITS)
            .then_some(PeakCode(frame << PEAK_PITCH_BITS | sixteenths))
    }

    pub fn frame(self) -> u32 {
        self.0 >> PEAK_PITCH_BITS
    }

    /// Sixteenths of a semitone above `min_freq_hz`.
    pub fn pitch(self) -> u32 {
        self.0 & ((1 << PEAK_PITCH_BITS) - 1)
    }
}

/// Byte length of [`FingerprintParams::to_bytes`].
pub const PARAMS_BYTES: usize = 68;

impl FingerprintParams {
    /// Flat little-endian encoding stored in the index header (layout in docs/index-format.md).
    pub fn to_bytes(&self) -> [u8; PARAMS_BYTES] {
        let mut out = [0u8; PARAMS_BYTES];
        let fields: [u32; 17] = [
            self.sample_rate,
            self.fft_size,
            self.hop,
            self.min_freq_hz.to_bits(),
            self.max_freq_hz.to_bits(),
            self.peak_radius_frames,
            self.peak_radius_bins,
            self.peaks_per_second.to_bits(),
            self.density_block_frames,
            self.fanout,
            self.zone_frames,
            self.zone_semitones.to_bits(),
            self.anchor_band_semitones.to_bits(),
            self.interval_step_semitones.to_bits(),
            self.ratio_levels,
            self.span_levels,
            self.fourth_peak.code(),
        ];
        for (chunk, v) in out.chunks_exact_mut(4).zip(fields) {
            chunk.copy_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Inverse of [`to_bytes`](Self::to_bytes); `None` when the fourth-peak rule is unknown
    /// to this build.
    pub fn from_bytes(bytes: &[u8; PARAMS_BYTES]) -> Option<Self> {
        let mut f = [0u32; 17];
        for (v, chunk) in f.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = u32::from_le_bytes(chunk.try_into().expect("4-byte chunk"));
        }
        Some(FingerprintParams {
            sample_rate: f[0],
            fft_size: f[1],
            hop: f[2],
            min_freq_hz: f32::from_bits(f[3]),
            max_freq_hz: f32::from_bits(f[4]),
            peak_radius_frames: f[5],
            peak_radius_bins: f[6],
            peaks_per_second: f32::from_bits(f[7]),
            density_block_frames: f[8],
            fanout: f[9],
            zone_frames: f[10],
            zone_semitones: f32::from_bits(f[11]),
            anchor_band_semitones: f32::from_bits(f[12]),
            interval_step_semitones: f32::from_bits(f[13]),
            ratio_levels: f[14],
            span_levels: f[15],
            fourth_peak: FourthPeak::from_code(f[16])?,
        })
    }
}

impl FourthPeak {
    /// The code stored in the index's parameter block.
    pub fn code(self) -> u32 {
        match self {
            FourthPeak::Off => 0,
            FourthPeak::First => 1,
            FourthPeak::Strongest => 2,
        }
    }

    /// Inverse of [`code`](Self::code); `None` for a rule this build does not know.
    pub fn from_code(code: u32) -> Option<Self> {
        match code {
            0 => Some(FourthPeak::Off),
            1 => Some(FourthPeak::First),
            2 => Some(FourthPeak::Strongest),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_round_trip_through_bytes() {
        let p = FingerprintParams {
            fanout: 4,
            min_freq_hz: 100.5,
            ..FingerprintParams::default()
        };
        assert_eq!(FingerprintParams::from_bytes(&p.to_bytes()), Some(p));
        for rule in [FourthPeak::Off, FourthPeak::First, FourthPeak::Strongest] {
            assert_eq!(FourthPeak::from_code(rule.code()), Some(rule));
        }
        let mut unknown = p.to_bytes();
        unknown[64] = 3;
        assert_eq!(FingerprintParams::from_bytes(&unknown), None);
    }

    #[test]
    fn scramble_is_a_bijection() {
        let mut seen = vec![false; 1 << 12];
        for h in 0..1u32 << 12 {
            let s = scramble(h, 12) as usize;
            assert!(!seen[s]);
            seen[s] = true;
        }
    }

    #[test]
    fn a_fourth_peak_needs_its_cells_to_fit_a_set_of_64() {
        // Quarter-semitone intervals over ±12 semitones make 97 cells (coarse time cells keep
        // the hash within 32 bits).
        let fine = FingerprintParams {
            interval_step_semitones: 0.25,
            ratio_levels: 2,
            span_levels: 1,
            ..FingerprintParams::default()
        };
        let err = KeyLayout::check(&fine).unwrap_err().to_string();
        assert!(err.contains("fourth_peak"), "{err}");
        let without = FingerprintParams {
            fourth_peak: FourthPeak::Off,
            ..fine
        };
        KeyLayout::check(&without).unwrap();
    }

    #[test]
    fn peak_codes_round_trip_and_refuse_what_they_cannot_hold() {
        let c = PeakCode::new(4_000_000, 943).unwrap();
        assert_eq!((c.frame(), c.pitch()), (4_000_000, 943));
        assert!(PeakCode::new(1 << PEAK_FRAME_BITS, 0).is_none());
        assert!(PeakCode::new(0, 1 << PEAK_PITCH_BITS).is_none());
        // Codes sort by frame first, so a track's peaks can be searched by time.
        assert!(PeakCode::new(5, 1000).unwrap() < PeakCode::new(6, 0).unwrap());
    }

    #[test]
    fn posting_packing_round_trips() {
        // 10^6 postings over 300 tracks of up to 20,000 frames: every field as narrow as it
        // can be, 49 bits in all.
        let l = PostingLayout::choose(25, 1_000_000, 300, 20_000).unwrap();
        assert_eq!(
            (l.dir_bits, l.track_bits, l.time_bits, l.width()),
            (16, 9, 15, 49)
        );
        let h = 0x1AB_CDEF;
        let p = l.pack(h, 299, 19_999, Detail(0xBEEF)).unwrap();
        assert!(p < 1 << l.width());
        let (low, track, frame, detail) = l.unpack(p);
        assert_eq!(
            (low, track, frame, detail),
            (h & ((1 << l.low_bits()) - 1), 299, 19_999, Detail(0xBEEF))
        );
        let (lo, hi) = l.low_range(low);
        assert!(lo <= p && p <= hi);
        // A track or frame wider than its field is refused, not folded into its neighbour.
        assert_eq!(l.pack(h, 512, 0, Detail(0)), None);
        assert_eq!(l.pack(h, 0, 1 << 15, Detail(0)), None);
    }

    #[test]
    fn packed_posting_lists_read_back_at_every_width() {
        let mut x = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut widths = Vec::new();
        for (tracks, frames) in [
            (2, 100),
            (300, 20_000),
            (100_000, 30_000),
            (1 << 20, 1 << 20),
            (1 << 22, 1 << 21),
        ] {
            let l = PostingLayout::choose(31, 1_000_000_000, tracks, frames).unwrap();
            let postings: Vec<u64> = (0..1000).map(|_| next() & mask(l.width())).collect();
            let mut list = Vec::new();
            let mut packer = PostingPacker::new(l);
            for &p in &postings {
                packer.push(p, &mut list).unwrap();
            }
            packer.finish(&mut list).unwrap();
            assert_eq!(Some(list.len() as u64), l.list_bytes(1000), "{l:?}");
            for (i, &p) in postings.iter().enumerate() {
                assert_eq!(l.read(&list, i as u64), p, "posting {i} of {l:?}");
            }
            widths.push(l.width());
        }
        // From the narrowest to a whole word, odd widths among them.
        assert_eq!(widths, [29, 45, 53, 62, 64]);
    }

    #[test]
    fn huge_catalogues_still_fit() {
        // 10^10 postings over 2^24 tracks with 31-bit hashes: the directory takes 30 bits
        // (about 16 postings a bucket), one hash bit stays in the posting.
        let l = PostingLayout::choose(31, 10_000_000_000, 1 << 24, 1 << 20).unwrap();
        assert_eq!(
            (l.dir_bits, l.low_bits(), l.time_bits, l.width()),
            (30, 1, 21, 62)
        );
        let p = l.pack(77, (1 << 24) - 1, 5, Detail(1)).unwrap();
        assert_eq!(l.unpack(p), (1, (1 << 24) - 1, 5, Detail(1)));
        // With 25-bit hashes (no fourth peak) the directory takes all the hash bits.
        let l = PostingLayout::choose(25, 10_000_000_000, 1 << 24, 1 << 20).unwrap();
        assert_eq!((l.dir_bits, l.low_bits()), (25, 0));
    }
}
