//! An RGB canvas for the trace picture: rectangles, lines, arrows and text, each drawn
//! by plotters' bitmap backend with the charts' embedded font (see `scaling::plot`).

use plotters::prelude::*;

use crate::scaling::plot::font::{self, FAMILY};

/// An 8-bit RGB colour.
pub type Rgb = [u8; 3];

/// Pixels, row-major, white to start.
pub struct Canvas {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

fn color(c: Rgb) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// The text size for size step `k` (1: labels, 2: the title), in pixels.
fn text_px(k: i64) -> f64 {
    11.0 + 7.0 * (k - 1) as f64
}

impl Canvas {
    /// A white canvas; an error if the embedded font cannot be loaded.
    pub fn new(w: usize, h: usize) -> Result<Self, String> {
        font::ensure().map_err(|e| e.to_string())?;
        Ok(Canvas { w, h, px: vec![255; w * h * 3] })
    }

    /// Runs `f` on a plotters backend over the pixels (a drawing error, which a bitmap
    /// in memory does not have, is ignored: the picture is then missing that element).
    fn draw(&mut self, f: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>)) {
        let area = BitMapBackend::with_buffer(&mut self.px, (self.w as u32, self.h as u32)).into_drawing_area();
        f(&area);
        let _ = area.present();
    }

    /// Fills `[x0, x1) x [y0, y1)`, at least one pixel wide.
    pub fn rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, c: Rgb) {
        let (a, b) = (x0.round() as i32, (x1.round() as i32).max(x0.round() as i32 + 1));
        let (top, bottom) = (y0.round() as i32, y1.round() as i32);
        if bottom <= top {
            return;
        }
        self.draw(|d| {
            let _ = d.draw(&Rectangle::new([(a, top), (b - 1, bottom - 1)], color(c).filled()));
        });
    }

    /// A one-pixel line.
    pub fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: Rgb) {
        let pts = vec![(x0.round() as i32, y0.round() as i32), (x1.round() as i32, y1.round() as i32)];
        self.draw(|d| {
            let _ = d.draw(&PathElement::new(pts, color(c)));
        });
    }

    /// A line with an arrowhead at its end.
    pub fn arrow(&mut self, from: (f64, f64), to: (f64, f64), c: Rgb) {
        self.line(from, to, c);
        let (dx, dy) = (to.0 - from.0, to.1 - from.1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-9);
        let (ux, uy) = (dx / len, dy / len);
        let head = 6.0_f64.min(len / 2.0);
        for side in [-1.0, 1.0] {
            let back = (to.0 - head * ux + side * head * 0.5 * uy, to.1 - head * uy - side * head * 0.5 * ux);
            self.line(back, to, c);
        }
    }

    /// Text with its top-left corner at (x, y); `k` is the size step (1 or 2).
    pub fn text(&mut self, x: f64, y: f64, s: &str, k: i64, c: Rgb) {
        let ink = color(c);
        let style = TextStyle::from((FAMILY, text_px(k))).color(&ink);
        let at = (x.round() as i32, y.round() as i32);
        self.draw(|d| {
            let _ = d.draw(&Text::new(s.to_string(), at, style));
        });
    }

    /// The width of `s` in pixels at size step `k`.
    pub fn text_width(s: &str, k: i64) -> f64 {
        (FAMILY, text_px(k)).into_font().box_size(s).map_or(s.len() as f64 * 7.0 * k as f64, |(w, _)| f64::from(w))
    }
}
