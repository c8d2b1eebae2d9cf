//! [`HashLayout`]: how a [`Landmark`]'s continuous features become the cells of a
//! [`Hash`], and the [`Detail`] kept beside it. The bits those cells occupy are
//! [`KeyLayout`]'s (`codec`); which cells a query looks up is the matcher's (`matcher::probes`).
//!
//! The fourth peak (the interval of the strongest zone peak after C, or
//! [`KeyLayout::no_fourth`] when the zone has none) sits below the triplet key, so every
//! posting of one triplet lies in one contiguous range and a query can read a rare triplet
//! whole and, of a common one, only the fourth peaks it names. Real music's triplets carry
//! about 19 usable bits of their 25, so in a large catalogue most probes meet common triplets,
//! and the fourth peak is what narrows them.
//!
//! Changing anything here changes every hash: bump `index::format::VERSION` with it.

use super::landmark::Landmark;
use crate::codec::{Detail, Hash, KeyLayout, Keyed};
use crate::config::FingerprintParams;

/// Quarter semitones per unit of the pitch byte.
const PITCH_UNITS_PER_SEMITONE: f32 = 4.0;

/// Turns landmarks into hashes for a given set of fingerprint parameters.
#[derive(Debug, Clone)]
pub struct HashLayout {
    /// The cells and their bits.
    pub keys: KeyLayout,
    anchor_band: f32,
    interval_step: f32,
    zone_semitones: f32,
    ln_zone: f32,
}

impl HashLayout {
    pub fn new(params: &FingerprintParams) -> Self {
        HashLayout {
            keys: KeyLayout::new(params),
            anchor_band: params.anchor_band_semitones,
            interval_step: params.interval_step_semitones,
            zone_semitones: params.zone_semitones,
            ln_zone: (params.zone_frames as f32).ln(),
        }
    }

    /// Width of a hash in bits.
    pub fn total_bits(&self) -> u32 {
        self.keys.total_bits()
    }

    /// Width of the fourth peak's cell (0 without one).
    pub fn fourth_bits(&self) -> u32 {
        self.keys.fourth_bits()
    }

    /// The fourth-peak cell of a triplet whose zone holds no peak after C.
    pub fn no_fourth(&self) -> u32 {
        self.keys.no_fourth()
    }

    /// The smallest and largest hash sharing `hash`'s triplet key: every fourth peak.
    pub fn triplet_range(&self, hash: Hash) -> (Hash, Hash) {
        self.keys.triplet_range(hash)
    }

    /// Feature positions in cell units: anchor, interval B, interval C, ratio, span.
    pub fn coordinates(&self, m: &Landmark) -> [f32; 5] {
        [
            m.anchor / self.anchor_band,
            (m.interval_b + self.zone_semitones) / self.interval_step,
            (m.interval_c + self.zone_semitones) / self.interval_step,
            m.ratio * self.keys.ratio.cells as f32,
            self.span_coordinate(m.span),
        ]
    }

    fn span_coordinate(&self, span: f32) -> f32 {
        span.max(1.0).ln() / self.ln_zone * self.keys.span.cells as f32
    }

    /// A fourth peak's interval, semitones, in cell units.
    pub fn fourth_coordinate(&self, interval: f32) -> f32 {
        (interval + self.zone_semitones) / self.interval_step
    }

    /// Anchor cells a pitch shift of `semitones` moves a landmark across.
    pub fn pitch_cells(&self, semitones: f32) -> f32 {
        semitones / self.anchor_band
    }

    /// Span cells a tempo change of `change` (0.1 = ±10 %) moves a landmark across.
    pub fn tempo_cells(&self, change: f32) -> f32 {
        (1.0 + change).ln() / self.ln_zone * self.keys.span.cells as f32
    }

    fn span_byte(&self, span: f32) -> f32 {
        span.max(1.0).ln() / self.ln_zone * 255.0
    }

    /// The fine pitch and span kept beside the hash.
    pub fn detail(&self, m: &Landmark) -> Detail {
        let pitch = (m.anchor * PITCH_UNITS_PER_SEMITONE)
            .round()
            .clamp(0.0, 255.0) as u16;
        let span = self.span_byte(m.span).round().clamp(0.0, 255.0) as u16;
        Detail(pitch << 8 | span)
    }

    /// A landmark keyed for the index.
    pub fn keyed(&self, m: &Landmark) -> Keyed {
        Keyed {
            hash: self.hash(m),
            frame: m.frame,
            detail: self.detail(m),
        }
    }

    /// The span-byte difference a playback speed change of `speed` produces (a query played
    /// faster has shorter spans).
    pub fn span_units_for_speed(&self, speed: f64) -> f64 {
        -speed.ln() / f64::from(self.ln_zone) * 255.0
    }

    /// The one hash the index stores for a landmark: its triplet key and its top-ranked
    /// fourth-peak candidate.
    pub fn hash(&self, m: &Landmark) -> Hash {
        let [a, b, c, r, s] = self.coordinates(m);
        let k = &self.keys;
        let triplet = k.pack([
            k.anchor.cell(a),
            k.interval.cell(b),
            k.interval.cell(c),
            k.ratio.cell(r),
            k.span.cell(s),
        ]);
        let fourth = match (k.fourth, m.fourths().first()) {
            (None, _) => 0,
            (Some(_), None) => self.no_fourth(),
            (Some(axis), Some(&d)) => axis
                .cell(self.fourth_coordinate(d))
                .min(self.no_fourth() - 1),
        };
        Hash(triplet.0 | fourth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn landmark() -> Landmark {
        Landmark {
            frame: 100,
            anchor: 20.3,
            interval_b: 3.1,
            interval_c: -5.2,
            ratio: 0.4,
            span: 20.0,
            fourths: [7.1, 0.0, 0.0, 0.0],
            fourth_count: 1,
            dense: false,
            fine: false,
        }
    }

    #[test]
    fn the_fourth_peak_sits_below_the_triplet_key() {
        let layout = HashLayout::new(&FingerprintParams::default());
        assert_eq!(layout.fourth_bits(), 6);
        let m = landmark();
        let other = Landmark {
            fourths: [-3.0, 0.0, 0.0, 0.0],
            ..m
        };
        let none = Landmark {
            fourth_count: 0,
            ..m
        };
        let range = layout.triplet_range(layout.hash(&m));
        for h in [layout.hash(&m), layout.hash(&other), layout.hash(&none)] {
            assert_eq!(layout.triplet_range(h), range, "one triplet, one range");
            assert!(range.0 <= h && h <= range.1);
        }
        assert_ne!(layout.hash(&m), layout.hash(&other));
        assert_eq!(layout.hash(&none).0 - range.0.0, layout.no_fourth());
        // Without fourth peaks the hash is the triplet key alone.
        let plain = HashLayout::new(&FingerprintParams {
            fourth_peak: crate::config::FourthPeak::Off,
            ..FingerprintParams::default()
        });
        assert_eq!(plain.total_bits(), 25);
        assert_eq!(
            plain.triplet_range(plain.hash(&m)),
            (plain.hash(&m), plain.hash(&m))
        );
    }

    #[test]
    fn details_measure_pitch_shift_and_time_scale() {
        let layout = HashLayout::new(&FingerprintParams::default());
        let original = landmark();
        let changed = Landmark {
            anchor: original.anchor + 1.0,
            span: original.span / 1.05,
            ..original
        };
        let (pitch, span) = layout.detail(&changed).since(layout.detail(&original));
        assert_eq!(pitch, 4);
        assert!(
            (f64::from(span) - layout.span_units_for_speed(1.05)).abs() <= 1.0,
            "{span}"
        );
    }

    #[test]
    fn default_layout_is_31_bits() {
        let layout = HashLayout::new(&FingerprintParams::default());
        assert_eq!((layout.keys.triplet_bits(), layout.total_bits()), (25, 31));
    }

    #[test]
    fn features_are_clamped_into_their_cells() {
        let layout = HashLayout::new(&FingerprintParams::default());
        let wild = Landmark {
            frame: 0,
            anchor: 500.0,
            interval_b: -90.0,
            interval_c: 90.0,
            ratio: 2.0,
            span: 1e6,
            fourths: [90.0, 0.0, 0.0, 0.0],
            fourth_count: 1,
            dense: false,
            fine: false,
        };
        assert!(layout.hash(&wild).0 < 1 << layout.total_bits());
    }

    /// How landmarks become hashes and details, and peaks become stored codes, pinned to the
    /// format version as the index layout is (`index::tests::the_layout_is_pinned_to_its_version`):
    /// a change here changes every index, so it fails until `index::format::VERSION` is bumped
    /// and the new version's checksum added.
    #[test]
    fn how_landmarks_and_peaks_are_keyed_is_pinned_to_the_format_version() {
        const PINNED: &[(u32, u32)] = &[(5, 0x3b31_b602)];
        let params = FingerprintParams::default();
        let layout = HashLayout::new(&params);
        let mut x = 0x2545_f491_u32;
        let mut unit = || {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as f32 / (1 << 24) as f32
        };
        let mut crc = crc32fast::Hasher::new();
        for frame in 0..500 {
            let m = Landmark {
                frame,
                anchor: unit() * 60.0,
                interval_b: unit() * 24.0 - 12.0,
                interval_c: unit() * 24.0 - 12.0,
                ratio: unit(),
                span: 1.0 + unit() * 47.0,
                fourths: [unit() * 24.0 - 12.0, 0.0, 0.0, 0.0],
                fourth_count: (frame % 2) as u8,
                dense: false,
                fine: false,
            };
            let keyed = layout.keyed(&m);
            crc.update(&keyed.hash.0.to_le_bytes());
            crc.update(&keyed.detail.0.to_le_bytes());
            let peak = crate::fingerprint::Peak {
                frame,
                bin: 0,
                time: frame as f32 + unit() - 0.5,
                freq: 16.0 + unit() * 470.0,
                power: 1.0,
                rank: 0,
            };
            crc.update(&peak.code(&params).map_or(u32::MAX, |c| c.0).to_le_bytes());
        }
        let crc = crc.finalize();
        let pinned = PINNED
            .iter()
            .find(|(v, _)| *v == crate::index::format::VERSION);
        assert_eq!(
            pinned.map(|p| p.1),
            Some(crc),
            "how hashes or peak codes are derived changed (checksum {crc:#010x}): bump \
             index::format::VERSION and pin the new version's checksum"
        );
    }
}
