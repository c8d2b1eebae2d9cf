//! [`Landmarker`]: groups peaks into triplets — an anchor and two later peaks of its target
//! zone — and describes each by features that survive speed, tempo and pitch changes.
//!
//! A [`Landmark`] keeps its features continuous; [`super::hash`] quantises them. Keeping the
//! two apart lets a query look up the neighbouring cells of a feature that lies near a cell
//! edge, or every anchor band a pitch shift could have moved it to, without the index storing
//! anything twice.

use std::collections::VecDeque;

use super::peaks::Peak;
use crate::config::FingerprintParams;

/// A triplet of peaks A (anchor), B, C with `tA < tB < tC`, described by:
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Landmark {
    /// Frame of the anchor: the time a match is placed at.
    pub frame: u32,
    /// Anchor frequency in semitones above `min_freq_hz` (moves with pitch and speed).
    pub anchor: f32,
    /// Frequency of B minus frequency of A, semitones (unchanged by pitch, speed and tempo).
    pub interval_b: f32,
    /// Frequency of C minus frequency of A, semitones.
    pub interval_c: f32,
    /// `(tB - tA) / (tC - tA)` (unchanged by tempo and speed).
    pub ratio: f32,
    /// `tC - tA` in frames (scales with tempo and speed).
    pub span: f32,
}

/// Streaming triplet builder: peaks in, landmarks out, in anchor order.
pub struct Landmarker {
    zone_frames: u32,
    zone_semitones: f32,
    fanout: usize,
    bin_hz: f32,
    min_freq_hz: f32,
    /// Peaks whose target zone may still receive peaks, with their frequency in semitones.
    window: VecDeque<(Peak, f32)>,
    chosen: Vec<usize>,
}

impl Landmarker {
    pub fn new(params: &FingerprintParams, fanout: u32) -> Self {
        Landmarker {
            zone_frames: params.zone_frames,
            zone_semitones: params.zone_semitones,
            fanout: fanout as usize,
            bin_hz: params.bin_hz(),
            min_freq_hz: params.min_freq_hz,
            window: VecDeque::new(),
            chosen: Vec::with_capacity(16),
        }
    }

    fn semitones(&self, peak: &Peak) -> f32 {
        12.0 * (peak.freq.max(0.5) * self.bin_hz / self.min_freq_hz).log2()
    }

    /// Adds a peak (peaks must arrive in time order); finished landmarks go to `out`.
    pub fn push(&mut self, peak: Peak, out: &mut Vec<Landmark>) {
        while let Some((front, _)) = self.window.front() {
            if peak.frame <= front.frame + self.zone_frames {
                break;
            }
            self.emit_front(out);
        }
        let st = self.semitones(&peak);
        self.window.push_back((peak, st));
    }

    /// Emits the landmarks of every peak still waiting.
    pub fn finish(&mut self, out: &mut Vec<Landmark>) {
        while !self.window.is_empty() {
            self.emit_front(out);
        }
    }

    fn emit_front(&mut self, out: &mut Vec<Landmark>) {
        let (a, sa) = self.window.pop_front().expect("caller checked");
        self.chosen.clear();
        for (i, (p, s)) in self.window.iter().enumerate() {
            if self.chosen.len() == self.fanout || p.frame > a.frame + self.zone_frames {
                break;
            }
            if p.frame > a.frame && (s - sa).abs() <= self.zone_semitones {
                self.chosen.push(i);
            }
        }
        for (k, &i) in self.chosen.iter().enumerate() {
            let (b, sb) = self.window[i];
            for &j in &self.chosen[k + 1..] {
                let (c, sc) = self.window[j];
                if c.frame <= b.frame {
                    continue;
                }
                let span = (c.time - a.time).max(1.0);
                out.push(Landmark {
                    frame: a.frame,
                    anchor: sa,
                    interval_b: sb - sa,
                    interval_c: sc - sa,
                    ratio: ((b.time - a.time) / span).clamp(0.0, 1.0),
                    span,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peak(frame: u32, bin: f32) -> Peak {
        Peak {
            frame,
            bin: bin as u16,
            time: frame as f32,
            freq: bin,
            power: 1.0,
        }
    }

    #[test]
    fn forms_triplets_from_the_first_peaks_of_the_zone() {
        let p = FingerprintParams::default();
        let mut l = Landmarker::new(&p, 3);
        let mut out = Vec::new();
        // 16 bins is 125 Hz at 7.8125 Hz per bin, so frequency 32 bins is 12 semitones up.
        for pk in [
            peak(0, 16.0),
            peak(10, 32.0),
            peak(20, 16.0),
            peak(30, 24.0),
            peak(40, 20.0),
            peak(200, 16.0),
        ] {
            l.push(pk, &mut out);
        }
        l.finish(&mut out);
        let first: Vec<_> = out.iter().filter(|m| m.frame == 0).collect();
        assert_eq!(first.len(), 3, "three chosen peaks make three pairs");
        let m = first[0];
        assert!((m.anchor - 0.0).abs() < 1e-4);
        assert!((m.interval_b - 12.0).abs() < 1e-4);
        assert!(m.interval_c.abs() < 1e-4);
        assert!((m.ratio - 0.5).abs() < 1e-6);
        assert!((m.span - 20.0).abs() < 1e-6);
        assert!(
            out.iter().all(|m| m.frame != 200),
            "a lone peak makes no triplet"
        );
    }

    #[test]
    fn peaks_outside_the_zone_are_ignored() {
        let p = FingerprintParams::default();
        let mut l = Landmarker::new(&p, 3);
        let mut out = Vec::new();
        // 13 semitones up is outside the ±12 semitone zone.
        let far = 16.0 * 2f32.powf(13.0 / 12.0);
        for pk in [peak(0, 16.0), peak(5, far), peak(6, 17.0), peak(7, 18.0)] {
            l.push(pk, &mut out);
        }
        l.finish(&mut out);
        assert_eq!(out.iter().filter(|m| m.frame == 0).count(), 1);
    }
}
