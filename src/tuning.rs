//! What a scan looks for and how hard it looks: a [`Profile`] names a measured preset of
//! [`QueryParams`], every query-time setting, each listed once in [`SETTINGS`] with its unit,
//! its valid range and what it does. A `--tuning` file (TOML) and `--tune KEY=VALUE` override
//! single settings; a value outside its range is refused with the range. None of this changes
//! the index: what shapes the hashes is [`FingerprintParams`](crate::FingerprintParams),
//! recorded in each index.

use crate::error::{Error, Result};

/// A preset: what kind of dump is scanned. Each is a measured choice (BENCHMARKS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Profile {
    /// Clips and anything modified: every key is read, a voice over the music and pitch and
    /// tempo changes are looked for. The default.
    #[default]
    Clips,
    /// Whole songs against very large catalogues: one key in 8 is read and matches are
    /// verified over 8 times longer stretches (about 1/8 of the lookups); damaged copies
    /// shorter than a minute or two may be missed.
    Songs,
    /// Clips, without the fine peaks that find music under a louder voice: about a fifth less
    /// CPU, and some music under speech is missed.
    Fast,
}

impl Profile {
    pub fn name(self) -> &'static str {
        match self {
            Profile::Clips => "clips",
            Profile::Songs => "songs",
            Profile::Fast => "fast",
        }
    }

    /// The settings this profile starts from.
    pub fn params(self) -> QueryParams {
        let clips = QueryParams::default();
        match self {
            Profile::Clips => clips,
            Profile::Songs => QueryParams {
                key_sample: 8,
                candidate_score: 4,
                fine_peaks_per_second: 0.0,
                // A whole song has landmarks to spare: reading common triplets whole found no
                // song more among 10^9 postings and cost 2.4 times the time (0038).
                fourth_peak_share: 0.0,
                ..clips
            },
            Profile::Fast => QueryParams {
                fine_peaks_per_second: 0.0,
                ..clips
            },
        }
    }
}

/// Query-time settings: how densely a query is fingerprinted, how widely each hash is probed,
/// and when a candidate counts as a match. They do not change the index. [`SETTINGS`] gives
/// each one's unit and range; docs/tuning.md explains them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct QueryParams {
    /// Peaks kept per second of query audio. Denser than the index so that the index's peaks
    /// are (mostly) a subset of the query's even after degradation.
    pub peaks_per_second: f32,
    /// Anchor fan-out at query time (see [`FingerprintParams::fanout`](crate::FingerprintParams)).
    pub fanout: u32,
    /// Peaks per second of the query's dense layer (none where this is at most
    /// `peaks_per_second` or `dense_fanout` is below 2). Its weaker peaks form triplets of their
    /// own, looked up in their own cells only ([`QueryParams::at_own_cells`]): where speech or
    /// a narrow band masks the music, the music's peaks are still local maxima but no longer
    /// among the strongest.
    pub dense_peaks_per_second: f32,
    /// Zone peaks paired per anchor in the dense layer (every pair not already a core
    /// triplet).
    pub dense_fanout: u32,
    /// Fine peaks per second: picked in a smaller neighbourhood
    /// ([`FINE_PEAK_RADIUS`](crate::fingerprint::FINE_PEAK_RADIUS)), they form dense triplets
    /// of their own (`fine_fanout`) and the peak check reads them (0: none). Under speech a
    /// track's peak is often no longer the maximum of the wide neighbourhood that ordinary
    /// peaks need, because a louder harmonic lies within it, but still a maximum of its own few
    /// bins; the check weighs such a peak, heard where no ordinary one is, as weaker evidence.
    pub fine_peaks_per_second: f32,
    /// Zone peaks, fine ones included, that each anchor pairs into the dense layer's triplets
    /// holding a fine peak (below 2, or without a dense layer: fine peaks form no triplets).
    pub fine_fanout: u32,
    /// Largest pitch shift searched for, semitones (a speed change of s shifts pitch by 12·log2 s).
    pub max_pitch_semitones: f32,
    /// Largest tempo or speed change searched for, as a fraction (0.1 = ±10 %).
    pub max_tempo_change: f32,
    /// A quantised feature this close to a cell edge (fraction of a cell) is also looked up in
    /// the neighbouring cell, so small jitter does not lose the hash.
    pub probe_margin: f32,
    /// Peak-time error, frames, that a query's rare triplets are looked up across: their
    /// time-ratio cells within reach of B or C moved by this much are read too (only where a
    /// triplet holds at most `fourth_peak_above` postings). Peak times of sustained notes move
    /// by a frame or two under noise, echo and pitch shifts, and a short triplet's ratio moves
    /// by several cells with them.
    pub ratio_jitter_frames: f32,
    /// Triplets holding more than this share of the index's postings (and more than
    /// [`COMMON_HASH_FLOOR`] postings) are skipped, whatever their fourth peak: they carry
    /// little information, and real music's most common triplets bring most of the chance
    /// postings a query meets. A share, not a count, so the same triplets are skipped whatever
    /// the catalogue's size.
    pub common_hash_share: f64,
    /// In an index whose hashes carry a fourth peak: a triplet with more postings than this is
    /// read only where the fourth peak agrees with one of the query's. A probe of a common
    /// triplet then costs a few fourth-peak cells' postings rather than all of them, however
    /// large the catalogue grows; below it, a triplet is read whole and the fourth peak need not
    /// have survived.
    pub fourth_peak_above: u64,
    /// ...or than this share of the index's postings, if more: a triplet's postings grow with
    /// the catalogue, and reading only the fourth-peak cells of triplets a few times commoner
    /// than `fourth_peak_above` lost copies whose fourth peak moved (pitch shifts, noise): among
    /// 10^8 postings 16 of 1,254 corpus clips, all found again at this share
    /// (docs/decisions/0038-whole-triplets-by-share-of-the-index.md). Below
    /// `fourth_peak_above / fourth_peak_share` postings the share does nothing.
    pub fourth_peak_share: f64,
    /// The same limit for the dense layer's triplets, higher: a dense landmark is looked up in
    /// its own cells only, one probe where a core landmark has about 17, so reading its
    /// triplets whole costs little, and under speech or noise a masked passage's fourth peak
    /// rarely survives with the other three. A dense triplet is read whole up to the larger of
    /// the two limits.
    pub dense_fourth_peak_above: u64,
    /// The query's candidates for the index's fourth peak: the top this many zone peaks after C
    /// by the index's fourth-peak rule (the query is denser than the index, and a degradation
    /// adds and removes peaks, so the index's fourth peak may rank second or third).
    pub fourth_peak_candidates: u32,
    /// Length of the sliding window over which a match is verified, seconds (times
    /// `key_sample`).
    pub window_seconds: f32,
    /// Looks up one triplet key in this many (1: all), chosen by the key, so the index's copy of
    /// a kept query landmark is always read and a match keeps one in `key_sample` of its
    /// evidence, as chance lines do. The verification window grows by the same factor, so a
    /// window's evidence, and the odds of a chance line, stay as they were: a recording is then
    /// found as reliably as before once it lasts about `key_sample` times as long, at about
    /// `1 / key_sample` of the matching cost.
    pub key_sample: u32,
    /// Matched landmarks (inliers on one time line) needed to report a match changed in one way:
    /// pitch-shifted, time-stretched, or sped up (pitch and tempo together), where the index
    /// holds no peaks or the peak check is off. A match changed in two ways at once (pitch and
    /// tempo independently) needs twice as many.
    pub min_inliers: u32,
    /// Matched landmarks needed to report an unchanged copy (speed 1, pitch 0) without a peak
    /// check. Fewer suffice: a chance line must fall in the one unchanged cell of the
    /// speed-and-pitch space searched, not anywhere in it.
    pub min_inliers_unchanged: u32,
    /// Distinct pitches (quarter-semitone cells of the query's anchor peaks) a match's inliers
    /// must start from, without a peak check. A repeated note, or a note and its octave, played
    /// at some tempo lines up with any other such figure at a similar tempo, once pitch and
    /// tempo may change, and gathers as many inliers as it has repeats.
    pub min_pitches: u32,
    /// Where the index stores its tracks' peaks: hits on one time line that make a candidate
    /// worth checking against them (twice as many when pitch and tempo changed independently;
    /// one fewer for an unchanged copy when every key is read). A line this weak is common by
    /// chance; the peak check, not the count, tells a copy from it.
    pub candidate_score: u32,
    /// Evidence a checked candidate needs: −log10 of the chance (bounded from above) that a
    /// recording unrelated to the track would hold its peaks where the line puts them as well
    /// as the item does, each heard peak weighted by how rarely chance would put an item peak
    /// there. 0 turns the check off, and every match then needs `min_inliers` and
    /// `min_pitches` as in an index without peaks.
    pub min_peak_evidence: f64,
    /// [`Self::min_pitches`] for a checked candidate. The check's chance model places the
    /// item at random against the track, which a figure repeated at a steady tempo defeats: it
    /// lines up with a similar figure of another track at every repeat. Right answers rest on 3
    /// or more pitches. A line of fewer landmarks than this cannot show them; its heard peaks
    /// must lie on several semitones instead.
    pub min_pitches_checked: u32,
    /// Time tolerance of an inlier around the fitted line, frames.
    pub inlier_tolerance_frames: f32,
}

impl Default for QueryParams {
    /// The `clips` profile.
    fn default() -> Self {
        QueryParams {
            peaks_per_second: 15.0,
            fanout: 5,
            dense_peaks_per_second: 30.0,
            dense_fanout: 4,
            fine_peaks_per_second: 45.0,
            fine_fanout: 6,
            max_pitch_semitones: 2.5,
            max_tempo_change: 0.1,
            probe_margin: 0.1,
            ratio_jitter_frames: 0.5,
            common_hash_share: 5e-5,
            fourth_peak_above: 64,
            fourth_peak_share: 1e-5,
            dense_fourth_peak_above: 1024,
            fourth_peak_candidates: 3,
            window_seconds: 12.0,
            key_sample: 1,
            min_inliers: 7,
            min_inliers_unchanged: 6,
            min_pitches: 5,
            candidate_score: 3,
            min_peak_evidence: 7.0,
            min_pitches_checked: 3,
            inlier_tolerance_frames: 3.0,
        }
    }
}

/// A hash is never skipped as common while it holds this many postings or fewer.
pub const COMMON_HASH_FLOOR: u64 = 32;

impl QueryParams {
    /// The most postings a hash may hold in an index of `postings` and still be looked up.
    /// The postings above which a core triplet is read only at its fourth-peak cells, in an
    /// index of `postings`.
    pub fn fourth_peak_limit(&self, postings: u64) -> u64 {
        self.fourth_peak_above
            .max((self.fourth_peak_share.max(0.0) * postings as f64) as u64)
    }

    pub fn max_postings_per_hash(&self, postings: u64) -> u64 {
        ((self.common_hash_share.max(0.0) * postings as f64) as u64).max(COMMON_HASH_FLOOR)
    }

    /// The fewest matched landmarks any match may have: candidates weaker than this are not
    /// pursued, whatever their transform.
    pub fn min_evidence(&self) -> usize {
        self.min_inliers.min(self.min_inliers_unchanged) as usize
    }

    /// Whether a query looks up this triplet key (a hash with fourth-peak cell 0) under
    /// [`key_sample`](Self::key_sample). The key is mixed first: its low bits are structured.
    pub fn samples_key(&self, triplet: u32) -> bool {
        self.key_sample <= 1
            || (u64::from(triplet).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32)
                % u64::from(self.key_sample)
                == 0
    }

    /// The same query looking up only the cells of an unchanged copy: no anchor band or span
    /// cell beyond the probe margin, and no far time-ratio cell. How the dense layer's
    /// triplets are looked up.
    pub fn at_own_cells(&self) -> Self {
        QueryParams {
            max_pitch_semitones: 0.0,
            max_tempo_change: 0.0,
            ratio_jitter_frames: 0.0,
            ..*self
        }
    }

    /// The verification window, seconds: `window_seconds` stretched by the key sample.
    pub fn window(&self) -> f32 {
        self.window_seconds * self.key_sample.max(1) as f32
    }

    /// Sets `key` (a [`SETTINGS`] key) to `value`, refusing an unknown key, a fraction where a
    /// whole number belongs, or a value outside the setting's range.
    pub fn set(&mut self, key: &str, value: f64) -> Result<()> {
        let setting = SETTINGS.iter().find(|s| s.key == key).ok_or_else(|| {
            Error::Invalid(format!(
                "no tuning setting `{key}`; the settings are: {} (earmark scan --help-tuning)",
                SETTINGS
                    .iter()
                    .map(|s| s.key)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
        setting.check(value)?;
        (setting.set)(self, value);
        Ok(())
    }

    /// Applies a tuning file's text: TOML, one `key = value` per setting (a `[matching]`
    /// table is not needed). `origin` names the file in messages.
    pub fn apply_toml(&mut self, text: &str, origin: &str) -> Result<()> {
        let table: toml::Table = text
            .parse()
            .map_err(|e| Error::Invalid(format!("{origin}: not TOML: {e}")))?;
        for (key, value) in &table {
            let number = match value {
                toml::Value::Integer(i) => *i as f64,
                toml::Value::Float(f) => *f,
                other => {
                    return Err(Error::Invalid(format!(
                        "{origin}: `{key}` wants a number, got {other}"
                    )));
                }
            };
            self.set(key, number)
                .map_err(|e| Error::Invalid(format!("{origin}: {e}")))?;
        }
        Ok(())
    }

    /// Every setting's value by its key, in [`SETTINGS`] order (a setting held as `f32` as
    /// the decimal it was written as: 0.1, not 0.10000000149011612).
    pub fn values(&self) -> Vec<(&'static str, f64)> {
        SETTINGS
            .iter()
            .map(|s| (s.key, shortest((s.get)(self))))
            .collect()
    }
}

/// `v`, or where `v` is an `f32` widened, the `f64` of that `f32`'s shortest decimal.
fn shortest(v: f64) -> f64 {
    let narrow = v as f32;
    if f64::from(narrow) == v {
        narrow.to_string().parse().unwrap_or(v)
    } else {
        v
    }
}

/// One query-time setting: its key in tuning files, unit, range and meaning.
pub struct Setting {
    pub key: &'static str,
    pub unit: &'static str,
    /// The valid range, both ends included.
    pub min: f64,
    pub max: f64,
    /// Whole numbers only.
    pub integer: bool,
    pub meaning: &'static str,
    pub get: fn(&QueryParams) -> f64,
    pub set: fn(&mut QueryParams, f64),
}

impl Setting {
    fn check(&self, value: f64) -> Result<()> {
        let range = if self.integer {
            format!("a whole number from {} to {}", self.min, self.max)
        } else {
            format!("from {} to {}", self.min, self.max)
        };
        if !(self.min..=self.max).contains(&value) || (self.integer && value.fract() != 0.0) {
            return Err(Error::Invalid(format!(
                "{} = {value} is out of range: it takes {range} ({})",
                self.key, self.unit
            )));
        }
        Ok(())
    }

    /// The value written as a person would: `3`, `0.5`, `0.00005`.
    pub fn show(&self, value: f64) -> String {
        if self.integer {
            format!("{value:.0}")
        } else {
            format!("{}", shortest(value))
        }
    }
}

macro_rules! setting {
    ($key:ident, $unit:expr, $min:expr, $max:expr, $int:expr, $meaning:expr) => {
        Setting {
            key: stringify!($key),
            unit: $unit,
            min: $min,
            max: $max,
            integer: $int,
            meaning: $meaning,
            get: |q| q.$key as f64,
            set: |q, v| q.$key = v as _,
        }
    };
}

/// Every query-time setting, in the order `--help-tuning` and docs/tuning.md list them.
pub const SETTINGS: &[Setting] = &[
    setting!(
        max_pitch_semitones,
        "semitones",
        0.0,
        12.0,
        false,
        "largest pitch shift searched for (--max-pitch)"
    ),
    setting!(
        max_tempo_change,
        "fraction, 0.1 = ±10 %",
        0.0,
        0.5,
        false,
        "largest speed or tempo change searched for (--max-tempo)"
    ),
    setting!(
        min_peak_evidence,
        "-log10 of a chance",
        0.0,
        100.0,
        false,
        "evidence a match needs: an unrelated recording matches this well less than once in 10^this tries (--strictness; 0 turns the peak check off)"
    ),
    setting!(
        key_sample,
        "keys",
        1.0,
        1024.0,
        true,
        "look up one triplet key in this many and verify over this many times longer windows (songs: 8)"
    ),
    setting!(
        candidate_score,
        "landmarks",
        1.0,
        100.0,
        true,
        "landmarks on one time line that make a candidate worth the peak check (songs: 4)"
    ),
    setting!(
        peaks_per_second,
        "peaks/s",
        1.0,
        200.0,
        false,
        "peaks kept per second of query audio for the core triplets"
    ),
    setting!(
        fanout,
        "peaks",
        2.0,
        16.0,
        true,
        "zone peaks each query anchor pairs into core triplets"
    ),
    setting!(
        dense_peaks_per_second,
        "peaks/s",
        0.0,
        200.0,
        false,
        "peaks per second of the dense layer, looked up at the query's own pitch and speed (0: none)"
    ),
    setting!(
        dense_fanout,
        "peaks",
        0.0,
        16.0,
        true,
        "zone peaks paired per anchor in the dense layer (below 2: none)"
    ),
    setting!(
        fine_peaks_per_second,
        "peaks/s",
        0.0,
        200.0,
        false,
        "fine peaks per second, the maxima of ±2 frames × ±3 bins, for music under a voice (0: none; songs, fast: 0)"
    ),
    setting!(
        fine_fanout,
        "peaks",
        0.0,
        16.0,
        true,
        "zone peaks paired per anchor into triplets holding a fine peak (below 2: fine peaks only serve the peak check)"
    ),
    setting!(
        probe_margin,
        "fraction of a cell",
        0.0,
        0.5,
        false,
        "a feature this close to a cell edge is also looked up in the neighbouring cell"
    ),
    setting!(
        ratio_jitter_frames,
        "frames (16 ms)",
        0.0,
        8.0,
        false,
        "peak-time error across which rare triplets' time-ratio cells are also read (0: none)"
    ),
    setting!(
        common_hash_share,
        "share of the index's postings",
        0.0,
        1.0,
        false,
        "triplets holding more than this share (and more than 32 postings) are skipped as common"
    ),
    setting!(
        fourth_peak_above,
        "postings",
        0.0,
        1e12,
        true,
        "a core triplet holding more postings is read only where its fourth peak agrees with the query's"
    ),
    setting!(
        fourth_peak_share,
        "share of the index's postings",
        0.0,
        1.0,
        false,
        "...or more than this share of the index's postings, if more (songs: 0)"
    ),
    setting!(
        dense_fourth_peak_above,
        "postings",
        0.0,
        1e12,
        true,
        "the same for dense triplets, read whole up to this"
    ),
    setting!(
        fourth_peak_candidates,
        "peaks",
        1.0,
        4.0,
        true,
        "zone peaks after C the query offers as the index's fourth peak"
    ),
    setting!(
        window_seconds,
        "seconds",
        2.0,
        120.0,
        false,
        "length of the window over which a match is verified (times key_sample)"
    ),
    setting!(
        inlier_tolerance_frames,
        "frames (16 ms)",
        0.5,
        20.0,
        false,
        "time tolerance of a landmark around a match's time line"
    ),
    setting!(
        min_pitches_checked,
        "quarter-semitone pitches",
        1.0,
        32.0,
        true,
        "distinct pitches a checked match's landmarks must start from"
    ),
    setting!(
        min_inliers,
        "landmarks",
        1.0,
        1000.0,
        true,
        "landmarks a changed copy needs where no peak check is made (twice as many for pitch and tempo changed apart)"
    ),
    setting!(
        min_inliers_unchanged,
        "landmarks",
        1.0,
        1000.0,
        true,
        "landmarks an unchanged copy needs where no peak check is made"
    ),
    setting!(
        min_pitches,
        "quarter-semitone pitches",
        1.0,
        32.0,
        true,
        "distinct pitches a match's landmarks must start from where no peak check is made"
    ),
];

/// The tuning reference: every setting with its range, unit, meaning and each profile's value
/// (`earmark scan --help-tuning`, and docs/tuning.md, which a test holds to it).
pub fn reference() -> String {
    let profiles = [Profile::Clips, Profile::Songs, Profile::Fast];
    let mut out = String::from(
        "Tuning: every query-time setting, for `--tuning FILE` (TOML: `key = value` lines) and\n\
         `--tune KEY=VALUE`. A profile sets them all; a tuning file, then --tune, then\n\
         --max-pitch, --max-tempo and --strictness change single ones. Values outside the range\n\
         are refused.\n\n",
    );
    out += "| key | clips | songs | fast | range | unit | what it does |\n";
    out += "|---|---|---|---|---|---|---|\n";
    for s in SETTINGS {
        let values: Vec<String> = profiles
            .iter()
            .map(|p| s.show((s.get)(&p.params())))
            .collect();
        out += &format!(
            "| `{}` | {} | {} | {} | {} to {} | {} | {} |\n",
            s.key,
            values[0],
            values[1],
            values[2],
            s.show(s.min),
            s.show(s.max),
            s.unit,
            s.meaning
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_a_setting_and_round_trips() {
        let q = QueryParams::default();
        let fields = serde_json::to_value(q).unwrap();
        assert_eq!(fields.as_object().unwrap().len(), SETTINGS.len());
        for s in SETTINGS {
            assert!(fields.get(s.key).is_some(), "{} is no field", s.key);
            let mut p = q;
            let v = (s.get)(&q);
            s.check(v)
                .unwrap_or_else(|e| panic!("the default is out of range: {e}"));
            p.set(s.key, v).unwrap();
            assert_eq!(p, q, "{}", s.key);
        }
    }

    #[test]
    fn profiles_are_what_they_say() {
        assert_eq!(Profile::Clips.params(), QueryParams::default());
        let songs = Profile::Songs.params();
        assert_eq!(
            (
                songs.key_sample,
                songs.candidate_score,
                songs.fine_peaks_per_second,
                songs.fourth_peak_share
            ),
            (8, 4, 0.0, 0.0)
        );
        assert_eq!(Profile::Fast.params().fine_peaks_per_second, 0.0);
        assert_eq!(Profile::Fast.params().key_sample, 1);
    }

    #[test]
    fn values_out_of_range_are_refused_with_the_range() {
        let mut q = QueryParams::default();
        let err = q.set("probe_margin", 0.9).unwrap_err().to_string();
        assert!(
            err.contains("probe_margin = 0.9 is out of range: it takes from 0 to 0.5"),
            "{err}"
        );
        let err = q.set("key_sample", 2.5).unwrap_err().to_string();
        assert!(err.contains("a whole number from 1 to 1024"), "{err}");
        let err = q.set("fourth_peak_abov", 3.0).unwrap_err().to_string();
        assert!(
            err.contains("no tuning setting `fourth_peak_abov`"),
            "{err}"
        );
        assert_eq!(q, QueryParams::default(), "nothing changed");
    }

    #[test]
    fn a_tuning_file_sets_what_it_names() {
        let mut q = QueryParams::default();
        q.apply_toml("key_sample = 4\nprobe_margin = 0.2 # wider\n", "t.toml")
            .unwrap();
        assert_eq!((q.key_sample, q.probe_margin), (4, 0.2));
        let err = q
            .apply_toml("key_sample = \"4\"", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.toml: `key_sample` wants a number"), "{err}");
        assert!(q.apply_toml("key_sample = [", "t.toml").is_err());
    }

    #[test]
    fn the_tuning_document_is_the_reference() {
        let doc = std::fs::read_to_string("docs/tuning.md").unwrap();
        assert!(
            doc.contains(&reference()),
            "docs/tuning.md must contain `earmark scan --help-tuning`'s table; regenerate it"
        );
    }

    #[test]
    fn common_hashes_are_a_share_of_the_index_with_a_floor() {
        let q = QueryParams::default();
        assert_eq!(q.max_postings_per_hash(1_000), COMMON_HASH_FLOOR);
        assert_eq!(q.max_postings_per_hash(100_000_000), 5_000);
        assert_eq!(q.max_postings_per_hash(10_000_000_000), 500_000);
    }

    #[test]
    fn triplets_are_read_whole_up_to_a_count_or_a_share_of_the_index() {
        let q = QueryParams::default();
        // The corpus catalogue (592,100 postings): the count decides, as before the share.
        assert_eq!(q.fourth_peak_limit(592_100), 64);
        assert_eq!(q.fourth_peak_limit(100_000_000), 1_000);
        let off = QueryParams {
            fourth_peak_share: 0.0,
            ..q
        };
        assert_eq!(off.fourth_peak_limit(10_000_000_000), 64);
    }

    #[test]
    fn a_key_sample_keeps_its_share_of_triplet_keys_and_widens_the_window() {
        let all = QueryParams::default();
        let quarter = QueryParams {
            key_sample: 4,
            ..all
        };
        // Triplet keys as the hash stores them: 25 bits above a zero fourth-peak cell.
        let keys = (0..100_000u32).map(|k| (k.wrapping_mul(0x01F3_5A7B) & 0x01FF_FFFF) << 6);
        let kept = keys.clone().filter(|&k| quarter.samples_key(k)).count();
        assert!((23_000..27_000).contains(&kept), "{kept}");
        assert!(keys.into_iter().all(|k| all.samples_key(k)));
        assert_eq!(quarter.window(), 4.0 * all.window());
    }
}
