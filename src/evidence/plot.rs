//! A claim's two plots, as inline SVG drawn by `plotters` (docs/decisions/0041-plots-by-plotters):
//! [`timelines`], the item and the track each drawn to scale with the matched stretches marked
//! on both and joined, as video sites show a claim; and [`alignment`], item time against track
//! time, one point per landmark pair, with each match's fitted line and its repeats.
//! The SVG names a generic font family and carries no font: the browser lays out the text.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};

/// A stretch of the item that plays a stretch of the track, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stretch {
    pub item: (f64, f64),
    pub track: (f64, f64),
}

/// One match of a claim, as the plots draw it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MatchPlot {
    pub stretch: Option<Stretch>,
    /// Its fitted line: track seconds = `.1` + `.0` × item seconds.
    pub line: Option<(f64, f64)>,
    /// Its landmark pairs (item, track), seconds.
    pub points: Vec<(f64, f64)>,
    /// Other places in the track the same stretch fits.
    pub repeats: Vec<Stretch>,
}

/// What both plots of a claim draw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClaimPlot {
    /// The item's and the track's lengths, where known.
    pub item_seconds: Option<f64>,
    pub track_seconds: Option<f64>,
    pub matches: Vec<MatchPlot>,
}

impl ClaimPlot {
    fn stretches(&self) -> impl Iterator<Item = (Stretch, bool)> + '_ {
        self.matches.iter().flat_map(|m| {
            (m.stretch.iter().map(|&s| (s, false))).chain(m.repeats.iter().map(|&s| (s, true)))
        })
    }

    /// Points drawn on the alignment plot.
    pub fn points(&self) -> usize {
        self.matches.iter().map(|m| m.points.len()).sum()
    }
}

const MATCHED: RGBColor = RGBColor(0x1f, 0x5f, 0xa8);
const REPEAT: RGBColor = RGBColor(0xd9, 0x7a, 0x16);
const BAR: RGBColor = RGBColor(0xe4, 0xe7, 0xeb);
const LINE: RGBColor = RGBColor(0xc0, 0x24, 0x24);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// Timeline width and height, pixels (the SVG scales with the page).
pub const TIMELINES: (u32, u32) = (720, 132);
/// Alignment plot width and height, pixels.
pub const ALIGNMENT: (u32, u32) = (480, 360);

fn drawing(e: impl std::fmt::Display) -> Error {
    Error::Plot {
        reason: e.to_string(),
    }
}

/// The two timelines of a claim: the item above, the track below, each the plot's width at its
/// own scale (a four-hour item and a three-minute track are both readable), with every matched
/// stretch marked on both and joined; repeats in their own colour.
pub fn timelines(claim: &ClaimPlot) -> Result<String> {
    let (w, h) = TIMELINES;
    let (left, right) = (64.0, f64::from(w) - 16.0);
    let (item_y, track_y, bar) = (30, 92, 14);
    let lasting = |known: Option<f64>, ends: &mut dyn Iterator<Item = f64>| match known {
        Some(s) if s > 0.0 => (s, true),
        _ => (ends.fold(1.0, f64::max), false),
    };
    let (item_len, item_known) = lasting(
        claim.item_seconds,
        &mut claim.stretches().map(|(s, _)| s.item.1),
    );
    let (track_len, track_known) = lasting(
        claim.track_seconds,
        &mut claim.stretches().map(|(s, _)| s.track.1),
    );
    let x = |t: f64, len: f64| (left + (right - left) * (t / len).clamp(0.0, 1.0)) as i32;
    // Marks stay visible however short against the bar.
    let span = |(a, b): (f64, f64), len: f64| {
        let (x0, x1) = (x(a, len), x(b, len));
        (x0, x1.max(x0 + 2))
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        // plotters writes a font size of size / 1.24: 16 is 12.9 pixels.
        let label = ("sans-serif", 16).into_font().color(&INK);
        let small = ("sans-serif", 14).into_font().color(&INK);
        for (name, y, len, known) in [
            ("item", item_y, item_len, item_known),
            ("track", track_y, track_len, track_known),
        ] {
            let style = label.pos(Pos::new(HPos::Right, VPos::Center));
            root.draw(&Text::new(name, (left as i32 - 8, y + bar / 2), style))
                .map_err(drawing)?;
            root.draw(&Rectangle::new(
                [(left as i32, y), (right as i32, y + bar)],
                BAR.filled(),
            ))
            .map_err(drawing)?;
            let below = y + bar + 4;
            let end = if known {
                clock(len)
            } else {
                format!("{}, length not known", clock(len))
            };
            let top = small.pos(Pos::new(HPos::Left, VPos::Top));
            root.draw(&Text::new("0:00", (left as i32, below), top.clone()))
                .map_err(drawing)?;
            let top_right = small.pos(Pos::new(HPos::Right, VPos::Top));
            root.draw(&Text::new(end, (right as i32, below), top_right))
                .map_err(drawing)?;
        }
        // Joins first, so that the marks lie on top of them; repeats first, so that the
        // matches' own stretches lie on top of the repeats' (which share their item stretch).
        let mut stretches: Vec<(Stretch, bool)> = claim.stretches().collect();
        stretches.sort_by_key(|&(_, repeat)| !repeat);
        for &(s, repeat) in &stretches {
            let colour = if repeat { REPEAT } else { MATCHED };
            let (i0, i1) = span(s.item, item_len);
            let (t0, t1) = span(s.track, track_len);
            root.draw(&Polygon::new(
                vec![
                    (i0, item_y + bar),
                    (i1, item_y + bar),
                    (t1, track_y),
                    (t0, track_y),
                ],
                colour.mix(0.25).filled(),
            ))
            .map_err(drawing)?;
        }
        for &(s, repeat) in &stretches {
            let colour = if repeat { REPEAT } else { MATCHED };
            for (range, y, len) in [(s.item, item_y, item_len), (s.track, track_y, track_len)] {
                let (a, b) = span(range, len);
                root.draw(&Rectangle::new([(a, y), (b, y + bar)], colour.filled()))
                    .map_err(drawing)?;
            }
        }
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

/// The alignment plot: item time across, track time up, a point per landmark pair, each
/// match's fitted line over its stretch, and its repeats as dashed lines.
pub fn alignment(claim: &ClaimPlot) -> Result<String> {
    let (x0, x1, y0, y1) = extent(claim);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, ALIGNMENT).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        draw_alignment(&root, claim, (x0..x1, y0..y1)).map_err(drawing)?;
        root.present().map_err(drawing)?;
    }
    Ok(svg)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw_alignment(
    root: &Area<'_>,
    claim: &ClaimPlot,
    (xs, ys): (std::ops::Range<f64>, std::ops::Range<f64>),
) -> std::result::Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let mut chart = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .build_cartesian_2d(xs, ys)?;
    let format = |t: &f64| clock(*t);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("item")
        .y_desc("track")
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&format)
        .y_label_formatter(&format)
        .label_style(("sans-serif", 16).into_font().color(&INK))
        .axis_desc_style(("sans-serif", 17).into_font().color(&INK))
        .draw()?;
    for m in &claim.matches {
        for r in &m.repeats {
            chart.draw_series(DashedLineSeries::new(
                [(r.item.0, r.track.0), (r.item.1, r.track.1)],
                6,
                4,
                REPEAT.stroke_width(2),
            ))?;
        }
        let line = match (m.line, m.stretch) {
            (Some((speed, offset)), Some(s)) => Some([
                (s.item.0, offset + speed * s.item.0),
                (s.item.1, offset + speed * s.item.1),
            ]),
            (None, Some(s)) => Some([(s.item.0, s.track.0), (s.item.1, s.track.1)]),
            _ => None,
        };
        if let Some(ends) = line {
            chart.draw_series(LineSeries::new(ends, LINE.stroke_width(2)))?;
        }
    }
    let points = claim.matches.iter().flat_map(|m| m.points.iter());
    chart.draw_series(points.map(|&p| Circle::new(p, 2, MATCHED.filled())))?;
    Ok(())
}

/// The plot's ranges: everything drawn, with a margin, at least a second each way.
fn extent(claim: &ClaimPlot) -> (f64, f64, f64, f64) {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for m in &claim.matches {
        for &(x, y) in &m.points {
            xs.push(x);
            ys.push(y);
        }
        for s in m.stretch.iter().chain(&m.repeats) {
            xs.extend([s.item.0, s.item.1]);
            ys.extend([s.track.0, s.track.1]);
        }
    }
    let bounds = |v: &[f64]| {
        let (lo, hi) = v
            .iter()
            .filter(|x| x.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        if lo > hi {
            return (0.0, 1.0);
        }
        let pad = (0.05 * (hi - lo)).max(0.5);
        ((lo - pad).max(0.0), hi + pad)
    };
    let (x0, x1) = bounds(&xs);
    let (y0, y1) = bounds(&ys);
    (x0, x1, y0, y1)
}

/// `m:ss`, or `h:mm:ss` from an hour; tenths under a minute's precision where short.
pub fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0);
    let whole = s.floor() as u64;
    let tenths = ((s - s.floor()) * 10.0).floor() as u64;
    match (whole / 3600, whole % 3600 / 60, whole % 60) {
        (0, m, sec) if s < 600.0 => format!("{m}:{sec:02}.{tenths}"),
        (0, m, sec) => format!("{m}:{sec:02}"),
        (h, m, sec) => format!("{h}:{m:02}:{sec:02}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> ClaimPlot {
        let points: Vec<(f64, f64)> = (0..40)
            .map(|i| (0.2 * f64::from(i), 17.0 + 0.2 * f64::from(i)))
            .collect();
        ClaimPlot {
            item_seconds: Some(8.0),
            track_seconds: None,
            matches: vec![MatchPlot {
                stretch: Some(Stretch {
                    item: (0.0, 7.8),
                    track: (17.0, 24.8),
                }),
                line: Some((1.0, 17.0)),
                points,
                repeats: vec![Stretch {
                    item: (0.5, 7.8),
                    track: (5.5, 12.8),
                }],
            }],
        }
    }

    #[test]
    fn the_alignment_plot_holds_a_circle_per_pair_and_the_line() {
        let svg = alignment(&claim()).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 40);
        // Axis labels in minutes and seconds; no font is embedded or fetched.
        // The track axis spans the match and its repeat (5.5 to 24.8 s), the item's 0 to 7.8 s.
        assert!(
            svg.contains(">\n0:20.0\n<") && svg.contains(">\n0:04.0\n<"),
            "{svg}"
        );
        assert!(!svg.contains("url(") && !svg.contains("@font-face"));
        assert!(svg.contains(&format!(
            "stroke=\"#{:02X}{:02X}{:02X}\"",
            LINE.0, LINE.1, LINE.2
        )));
    }

    #[test]
    fn timelines_mark_each_stretch_on_both_bars_and_join_them() {
        let svg = timelines(&claim()).unwrap();
        // Two bars, then two marks per stretch (the match and its repeat); two joins.
        assert_eq!(svg.matches("<rect").count(), 1 + 2 + 4, "{svg}");
        assert_eq!(svg.matches("<polygon").count(), 2, "{svg}");
        assert!(svg.contains("length not known"), "{svg}");
        assert!(svg.contains("0:08.0"), "{svg}");
    }

    #[test]
    fn clocks_read_as_people_write_times() {
        assert_eq!(clock(7.25), "0:07.2");
        assert_eq!(clock(75.0), "1:15.0");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(clock(-1.0), "0:00.0");
    }
}
