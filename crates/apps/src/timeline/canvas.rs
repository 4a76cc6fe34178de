//! A small RGB canvas: rectangles, lines, arrows and 8x8 bitmap text.

use font8x8::legacy::BASIC_LEGACY;

/// An 8-bit RGB colour.
pub type Rgb = [u8; 3];

/// Pixels, row-major, white to start.
pub struct Canvas {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

impl Canvas {
    pub fn new(w: usize, h: usize) -> Self {
        Canvas { w, h, px: vec![255; w * h * 3] }
    }

    pub fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let i = (y as usize * self.w + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Fills `[x0, x1) x [y0, y1)`, at least one pixel wide.
    pub fn rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, c: Rgb) {
        let (a, b) = (x0.round() as i64, (x1.round() as i64).max(x0.round() as i64 + 1));
        for y in y0.round() as i64..y1.round() as i64 {
            for x in a..b {
                self.set(x, y, c);
            }
        }
    }

    /// A one-pixel line.
    pub fn line(&mut self, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: Rgb) {
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).ceil().max(1.0) as usize;
        for i in 0..=steps {
            let t = i as f64 / steps as f64;
            self.set((x0 + t * (x1 - x0)).round() as i64, (y0 + t * (y1 - y0)).round() as i64, c);
        }
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

    /// Text with its top-left corner at (x, y), `k` pixels per font pixel.
    pub fn text(&mut self, x: f64, y: f64, s: &str, k: i64, c: Rgb) {
        let (bx, by) = (x.round() as i64, y.round() as i64);
        for (i, ch) in s.chars().enumerate() {
            let glyph = BASIC_LEGACY.get(ch as usize).copied().unwrap_or(BASIC_LEGACY[b'?' as usize]);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits >> col & 1 == 1 {
                        for dy in 0..k {
                            for dx in 0..k {
                                self.set(bx + (i as i64 * 8 + col) * k + dx, by + row as i64 * k + dy, c);
                            }
                        }
                    }
                }
            }
        }
    }

    /// The width of `s` in pixels at `k` pixels per font pixel.
    pub fn text_width(s: &str, k: i64) -> f64 {
        (s.chars().count() as i64 * 8 * k) as f64
    }
}
