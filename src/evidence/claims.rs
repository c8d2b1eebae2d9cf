//! Claims: every match of one catalogue track in one item, taken together as video sites take
//! them ([`Claim`]), with the figures a claims list states: where in the item and the track,
//! the matching duration, the longest match, speed and pitch, the evidence. [`Claims`] groups
//! the match records of a whole report by item and track; the tracks claimed are numbered once
//! ([`TrackEntry`]), so a claim holds a number, not the track's names.

use std::collections::HashMap;

use super::records::{LineAt, MatchRecord, PeakCheckRecord};

/// A claim's identity, the same in every report of the same scan whatever the order of its
/// records: the first 64 bits of BLAKE3 over its item, member and track, in hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimId(pub u64);

impl ClaimId {
    pub fn of(item: &str, member: Option<&str>, track: &str) -> Self {
        let mut h = blake3::Hasher::new();
        for part in [item, member.unwrap_or(""), track] {
            h.update(part.as_bytes());
            h.update(&[0]);
        }
        let bytes: [u8; 8] = h.finalize().as_bytes()[..8]
            .try_into()
            .expect("8 bytes of 32");
        ClaimId(u64::from_be_bytes(bytes))
    }
}

impl std::fmt::Display for ClaimId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// One match of a claim: where, how, how sure, and where its record is (for its alignment).
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimMatch {
    pub item_start: f64,
    pub item_end: f64,
    pub track_start: f64,
    pub track_end: f64,
    pub speed: f64,
    pub pitch: f64,
    pub score: u32,
    pub evidence: Option<f64>,
    pub peak_check: Option<PeakCheckRecord>,
    pub also_at: Vec<f64>,
    pub at: LineAt,
}

impl ClaimMatch {
    pub fn seconds(&self) -> f64 {
        (self.item_end - self.item_start).max(0.0)
    }
}

/// A catalogue track heard in one item: every match of it there.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub id: ClaimId,
    /// The track's number in [`Claims::tracks`].
    pub track: u32,
    pub item: String,
    pub member: Option<String>,
    /// The item's seconds of audio, where its records say.
    pub seconds: Option<f64>,
    pub bytes: Option<u64>,
    pub blake3: Option<String>,
    pub dataset_id: Option<String>,
    pub dataset_title: Option<String>,
    /// In item order.
    pub matches: Vec<ClaimMatch>,
}

impl Claim {
    /// The item as people read it: `file`, or `archive :: member`.
    pub fn item_name(&self) -> String {
        match &self.member {
            Some(m) => format!("{} :: {m}", self.item),
            None => self.item.clone(),
        }
    }

    /// From the first match's start to the last's end, in the item.
    pub fn item_range(&self) -> (f64, f64) {
        range(self.matches.iter().map(|m| (m.item_start, m.item_end)))
    }

    /// From the earliest place in the track to the latest.
    pub fn track_range(&self) -> (f64, f64) {
        range(self.matches.iter().map(|m| (m.track_start, m.track_end)))
    }

    /// Seconds of the item that some match covers.
    pub fn matching_seconds(&self) -> f64 {
        let mut spans: Vec<(f64, f64)> = self
            .matches
            .iter()
            .map(|m| (m.item_start, m.item_end))
            .collect();
        spans.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut total = 0.0;
        let mut open: Option<(f64, f64)> = None;
        for (s, e) in spans {
            open = match open {
                Some((os, oe)) if s <= oe => Some((os, oe.max(e))),
                Some((os, oe)) => {
                    total += oe - os;
                    Some((s, e))
                }
                None => Some((s, e)),
            };
        }
        total + open.map_or(0.0, |(s, e)| e - s)
    }

    /// The longest match: its speed and pitch are the claim's.
    pub fn longest(&self) -> &ClaimMatch {
        self.matches
            .iter()
            .reduce(|a, b| if b.seconds() > a.seconds() { b } else { a })
            .expect("a claim holds a match")
    }

    /// The strongest evidence among its matches.
    pub fn evidence(&self) -> Option<f64> {
        self.matches
            .iter()
            .filter_map(|m| m.evidence)
            .reduce(f64::max)
    }
}

fn range(spans: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    spans.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), (s, e)| {
        (a.min(s), b.max(e))
    })
}

/// A catalogue track that some claim names, with what the records (or the index) say of it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrackEntry {
    pub id: String,
    pub external_id: String,
    pub title: Option<String>,
    pub artist: Option<String>,
    /// Its length, where `--index` gave it.
    pub seconds: Option<f64>,
}

/// The claims of a report: matches grouped by item and track.
#[derive(Debug, Default)]
pub struct Claims {
    pub tracks: Vec<TrackEntry>,
    pub claims: Vec<Claim>,
    track_numbers: HashMap<String, u32>,
    by_id: HashMap<ClaimId, u32>,
    /// Match records seen twice (an output given twice, shards merged and given again).
    pub duplicates: u64,
}

impl Claims {
    /// Adds a match record found at `at`.
    pub fn add(&mut self, m: MatchRecord, at: LineAt) {
        let track = self.track_number(&m);
        let id = ClaimId::of(&m.about.item, m.about.member.as_deref(), &m.track);
        let about = &m.about;
        let n = *self.by_id.entry(id).or_insert_with(|| {
            self.claims.push(Claim {
                id,
                track,
                item: about.item.clone(),
                member: about.member.clone(),
                seconds: about.seconds,
                bytes: about.bytes,
                blake3: about.blake3.clone(),
                dataset_id: about.dataset_field("id"),
                dataset_title: about.dataset_field("title"),
                matches: Vec::new(),
            });
            (self.claims.len() - 1) as u32
        });
        let claim = &mut self.claims[n as usize];
        let same = |c: &ClaimMatch| {
            (c.item_start, c.item_end, c.track_start) == (m.item_start, m.item_end, m.track_start)
        };
        if claim.matches.iter().any(same) {
            self.duplicates += 1;
            return;
        }
        claim.matches.push(ClaimMatch {
            item_start: m.item_start,
            item_end: m.item_end,
            track_start: m.track_start,
            track_end: m.track_end,
            speed: m.speed,
            pitch: m.pitch,
            score: m.score,
            evidence: m.evidence,
            peak_check: m.peak_check,
            also_at: m.also_at,
            at,
        });
    }

    fn track_number(&mut self, m: &MatchRecord) -> u32 {
        if let Some(&n) = self.track_numbers.get(&m.track) {
            return n;
        }
        let field = |name: &str| {
            m.catalogue
                .as_ref()
                .and_then(|c| c.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        self.tracks.push(TrackEntry {
            id: m.track.clone(),
            external_id: m.external_id.clone(),
            title: field("title"),
            artist: field("artist"),
            seconds: None,
        });
        let n = (self.tracks.len() - 1) as u32;
        self.track_numbers.insert(m.track.clone(), n);
        n
    }

    /// The track numbered by name.
    pub fn track_named(&self, id: &str) -> Option<u32> {
        self.track_numbers.get(id).copied()
    }

    /// Puts tracks in order of their ids, claims in order of track, then item and member, and
    /// each claim's matches in item order: the same report whatever order the records came in.
    pub fn sort(&mut self) {
        let mut order: Vec<u32> = (0..self.tracks.len() as u32).collect();
        order.sort_by(|&a, &b| self.tracks[a as usize].id.cmp(&self.tracks[b as usize].id));
        let mut renumber = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            renumber[old as usize] = new as u32;
        }
        let mut tracks = std::mem::take(&mut self.tracks);
        self.tracks = order
            .iter()
            .map(|&old| std::mem::take(&mut tracks[old as usize]))
            .collect();
        for (id, n) in &mut self.track_numbers {
            *n = renumber[*n as usize];
            debug_assert_eq!(&self.tracks[*n as usize].id, id);
        }
        for c in &mut self.claims {
            c.track = renumber[c.track as usize];
            c.matches.sort_by(|a, b| {
                a.item_start
                    .total_cmp(&b.item_start)
                    .then(a.track_start.total_cmp(&b.track_start))
            });
        }
        self.claims
            .sort_by(|a, b| (a.track, &a.item, &a.member).cmp(&(b.track, &b.item, &b.member)));
        self.by_id = (self.claims.iter().enumerate())
            .map(|(i, c)| (c.id, i as u32))
            .collect();
    }

    /// The claims of each track, in track order (after [`Self::sort`]).
    pub fn by_track(&self) -> impl Iterator<Item = (&TrackEntry, &[Claim])> {
        let mut rest = &self.claims[..];
        self.tracks.iter().enumerate().map(move |(n, t)| {
            let k = rest.partition_point(|c| c.track as usize == n);
            let (these, after) = rest.split_at(k);
            rest = after;
            (t, these)
        })
    }

    /// Items holding at least one claim.
    pub fn items(&self) -> usize {
        let mut items: Vec<(&str, Option<&str>)> = self
            .claims
            .iter()
            .map(|c| (c.item.as_str(), c.member.as_deref()))
            .collect();
        items.sort_unstable();
        items.dedup();
        items.len()
    }

    /// Match records taken into claims.
    pub fn matches(&self) -> usize {
        self.claims.iter().map(|c| c.matches.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::records::ItemRecord;

    fn record(item: &str, track: &str, start: f64, end: f64, track_start: f64) -> MatchRecord {
        MatchRecord {
            about: ItemRecord {
                item: item.into(),
                ..ItemRecord::default()
            },
            track: track.into(),
            external_id: String::new(),
            catalogue: None,
            score: 10,
            evidence: Some(end - start),
            peak_check: None,
            item_start: start,
            item_end: end,
            track_start,
            track_end: track_start + end - start,
            speed: if end - start > 5.0 { 1.0 } else { 0.95 },
            pitch: 0.0,
            also_at: Vec::new(),
        }
    }

    const AT: LineAt = LineAt {
        input: 0,
        offset: 0,
        len: 0,
    };

    #[test]
    fn matches_of_one_track_in_one_item_make_one_claim_with_its_figures() {
        let mut claims = Claims::default();
        // The track twice in one item (8 s, then 3 s overlapping it by 1 s), once elsewhere,
        // and another track; one record given twice.
        claims.add(record("b.mp3", "t2", 0.0, 4.0, 1.0), AT);
        claims.add(record("a.mp3", "t1", 20.0, 23.0, 50.0), AT);
        claims.add(record("a.mp3", "t1", 13.0, 21.0, 10.0), AT);
        claims.add(record("c.mp3", "t1", 0.0, 2.0, 0.0), AT);
        claims.add(record("a.mp3", "t1", 13.0, 21.0, 10.0), AT);
        claims.sort();
        assert_eq!(claims.duplicates, 1);
        assert_eq!(
            (claims.claims.len(), claims.matches(), claims.items()),
            (3, 4, 3)
        );
        let names: Vec<(&str, &str)> = claims
            .claims
            .iter()
            .map(|c| (claims.tracks[c.track as usize].id.as_str(), c.item.as_str()))
            .collect();
        assert_eq!(names, [("t1", "a.mp3"), ("t1", "c.mp3"), ("t2", "b.mp3")]);
        let a = &claims.claims[0];
        assert_eq!(a.item_range(), (13.0, 23.0));
        assert_eq!(a.track_range(), (10.0, 53.0));
        assert_eq!(a.matching_seconds(), 10.0);
        assert_eq!((a.longest().seconds(), a.longest().speed), (8.0, 1.0));
        assert_eq!(a.evidence(), Some(8.0));
        assert_eq!(a.matches[0].item_start, 13.0, "matches in item order");
        let per_track: Vec<usize> = claims.by_track().map(|(_, c)| c.len()).collect();
        assert_eq!(per_track, [2, 1]);
        assert_eq!(claims.track_named("t2"), Some(1));
    }

    #[test]
    fn a_claim_id_names_its_item_member_and_track_and_nothing_else() {
        let id = ClaimId::of("dump/a.tar", Some("0001.mp3"), "t1");
        assert_eq!(id, ClaimId::of("dump/a.tar", Some("0001.mp3"), "t1"));
        assert_ne!(id, ClaimId::of("dump/a.tar", Some("0001.mp3"), "t2"));
        assert_ne!(id, ClaimId::of("dump/a.tar0001.mp3", None, "t1"));
        assert_eq!(id.to_string().len(), 16);
    }
}
