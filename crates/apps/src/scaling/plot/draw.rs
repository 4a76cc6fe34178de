//! Laying a [`Figure`] out on a [`Canvas`]: frames, ticks, labels, series, legends.
//! The same layout is drawn as SVG and as PNG.

use super::axes::{tick_label, Scale};
use super::figure::{Figure, Panel, Rgb, Style};

/// The figure's size in logical pixels (the PNG doubles it).
pub(crate) const WIDTH: f64 = 960.0;
pub(crate) const HEIGHT: f64 = 420.0;
/// Text sizes: a glyph cell is `size` wide and high.
pub(crate) const SMALL: f64 = 8.0;
pub(crate) const LARGE: f64 = 12.0;

const BLACK: Rgb = [0, 0, 0];
const GRID: Rgb = [225, 225, 225];

/// How text is placed relative to its point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

/// What the layout draws with.
pub(crate) trait Canvas {
    /// A polyline; `width` in logical pixels.
    fn line(&mut self, pts: &[(f64, f64)], color: Rgb, width: f64, dashed: bool);
    /// A filled round marker.
    fn marker(&mut self, x: f64, y: f64, radius: f64, color: Rgb);
    /// A filled rectangle.
    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb);
    /// Text with its baseline's anchor at `(x, y)`; `vertical` reads bottom to top.
    fn text(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor, vertical: bool);
}

/// Draws the whole figure.
pub(crate) fn draw(fig: &Figure, c: &mut dyn Canvas) {
    c.rect(0.0, 0.0, WIDTH, HEIGHT, [255, 255, 255]);
    c.text(WIDTH / 2.0, 24.0, &fig.title, LARGE, Anchor::Middle, false);
    let n = fig.panels.len().max(1) as f64;
    for (i, p) in fig.panels.iter().enumerate() {
        let x0 = i as f64 * WIDTH / n;
        panel(p, c, x0, 40.0, WIDTH / n, HEIGHT - 40.0);
    }
}

fn panel(p: &Panel, c: &mut dyn Canvas, x0: f64, y0: f64, w: f64, h: f64) {
    let (left, right, top, bottom) = (x0 + 72.0, x0 + w - 20.0, y0 + 28.0, y0 + h - 50.0);
    let xs: Vec<f64> = p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)).collect();
    let ys: Vec<f64> = p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1)).collect();
    let sx = Scale::covering(&xs, None, p.x_log, left, right);
    let sy = Scale::covering(&ys, p.y_range, p.y_log, bottom, top);
    c.text((left + right) / 2.0, y0 + 14.0, &p.title, LARGE, Anchor::Middle, false);
    for t in sx.ticks() {
        let x = sx.px(t);
        c.line(&[(x, top), (x, bottom)], GRID, 1.0, false);
        c.line(&[(x, bottom), (x, bottom + 5.0)], BLACK, 1.0, false);
        c.text(x, bottom + 18.0, &tick_label(t), SMALL, Anchor::Middle, false);
    }
    for t in sy.ticks() {
        let y = sy.px(t);
        c.line(&[(left, y), (right, y)], GRID, 1.0, false);
        c.line(&[(left - 5.0, y), (left, y)], BLACK, 1.0, false);
        c.text(left - 8.0, y + SMALL / 2.0, &tick_label(t), SMALL, Anchor::End, false);
    }
    c.line(&[(left, top), (left, bottom), (right, bottom)], BLACK, 1.0, false);
    c.text((left + right) / 2.0, bottom + 38.0, &p.x_label, SMALL, Anchor::Middle, false);
    c.text(x0 + 18.0, (top + bottom) / 2.0, &p.y_label, SMALL, Anchor::Middle, true);
    for s in &p.series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|q| sx.contains(q.0) && sy.contains(q.1))
            .map(|q| (sx.px(q.0), sy.px(q.1)))
            .collect();
        match s.style {
            Style::Line => c.line(&pts, s.color, 2.0, false),
            Style::Dashed => c.line(&pts, s.color, 1.5, true),
            Style::Points => {
                c.line(&pts, s.color, 1.0, false);
                pts.iter().for_each(|&(x, y)| c.marker(x, y, 4.0, s.color));
            }
        }
    }
    // The legend goes in the corner that hides the fewest points.
    let (w, h) = legend_size(p);
    let drawn: Vec<(f64, f64)> = p
        .series
        .iter()
        .flat_map(|s| {
            s.points.iter().filter(|q| sx.contains(q.0) && sy.contains(q.1)).map(|q| (sx.px(q.0), sy.px(q.1)))
        })
        .collect();
    let corners = [
        (left + 10.0, top + 8.0),
        (right - w - 10.0, bottom - h - 8.0),
        (right - w - 10.0, top + 8.0),
        (left + 10.0, bottom - h - 8.0),
    ];
    let hidden = |&(x, y): &(f64, f64)| {
        drawn.iter().filter(|q| q.0 >= x - 6.0 && q.0 <= x + w + 6.0 && q.1 >= y - 6.0 && q.1 <= y + h + 6.0).count()
    };
    let best = corners.iter().min_by_key(|c| hidden(c)).copied().unwrap_or(corners[0]);
    legend(p, c, best.0, best.1);
}

fn legend_size(p: &Panel) -> (f64, f64) {
    let longest = p.series.iter().map(|s| s.label.chars().count()).max().unwrap_or(0) as f64;
    (longest * SMALL + 44.0, p.series.len() as f64 * 16.0 + 8.0)
}

fn legend(p: &Panel, c: &mut dyn Canvas, x: f64, y: f64) {
    let (w, h) = legend_size(p);
    c.rect(x, y, w, h, [200, 200, 200]);
    c.rect(x + 1.0, y + 1.0, w - 2.0, h - 2.0, [255, 255, 255]);
    for (i, s) in p.series.iter().enumerate() {
        let ly = y + 12.0 + i as f64 * 16.0;
        match s.style {
            Style::Points => {
                c.line(&[(x + 6.0, ly), (x + 30.0, ly)], s.color, 1.0, false);
                c.marker(x + 18.0, ly, 4.0, s.color);
            }
            Style::Line => c.line(&[(x + 6.0, ly), (x + 30.0, ly)], s.color, 2.0, false),
            Style::Dashed => c.line(&[(x + 6.0, ly), (x + 30.0, ly)], s.color, 1.5, true),
        }
        c.text(x + 36.0, ly + SMALL / 2.0, &s.label, SMALL, Anchor::Start, false);
    }
}
