//! The figure as a PNG: drawn into an RGB pixel buffer at twice the logical size, with
//! the public-domain 8x8 bitmap font, and encoded with the `png` crate.

use std::io::Write;

use font8x8::legacy::BASIC_LEGACY;

use super::draw::{draw, Anchor, Canvas, HEIGHT, WIDTH};
use super::figure::{Figure, Rgb};

/// Pixels per logical pixel.
const SCALE: f64 = 2.0;

/// Writes the figure as a PNG to `out`.
pub fn write_png(fig: &Figure, out: &mut dyn Write) -> std::io::Result<()> {
    let mut c = Raster::new((WIDTH * SCALE) as usize, (HEIGHT * SCALE) as usize);
    draw(fig, &mut c);
    let mut enc = png::Encoder::new(out, c.w as u32, c.h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(std::io::Error::other)?;
    w.write_image_data(&c.px).map_err(std::io::Error::other)?;
    w.finish().map_err(std::io::Error::other)
}

struct Raster {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Raster {
    fn new(w: usize, h: usize) -> Self {
        Raster { w, h, px: vec![255; w * h * 3] }
    }

    fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let i = (y as usize * self.w + x as usize) * 3;
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    /// A filled disc of radius `r` device pixels.
    fn disc(&mut self, cx: f64, cy: f64, r: f64, c: Rgb) {
        let (x0, x1, y0, y1) =
            ((cx - r).floor() as i64, (cx + r).ceil() as i64, (cy - r).floor() as i64, (cy + r).ceil() as i64);
        for y in y0..=y1 {
            for x in x0..=x1 {
                let (dx, dy) = (x as f64 + 0.5 - cx, y as f64 + 0.5 - cy);
                if dx * dx + dy * dy <= r * r {
                    self.set(x, y, c);
                }
            }
        }
    }
}

impl Canvas for Raster {
    fn line(&mut self, pts: &[(f64, f64)], color: Rgb, width: f64, dashed: bool) {
        let r = (width * SCALE / 2.0).max(0.5);
        let mut walked = 0.0;
        for seg in pts.windows(2) {
            let (a, b) = ((seg[0].0 * SCALE, seg[0].1 * SCALE), (seg[1].0 * SCALE, seg[1].1 * SCALE));
            let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
            let steps = (len * 2.0).ceil().max(1.0) as usize;
            for i in 0..=steps {
                let t = i as f64 / steps as f64;
                let along = walked + t * len;
                if dashed && (along / SCALE) % 10.0 >= 6.0 {
                    continue;
                }
                let (x, y) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
                if r <= 1.0 {
                    self.set(x as i64, y as i64, color);
                } else {
                    self.disc(x, y, r, color);
                }
            }
            walked += len;
        }
    }

    fn marker(&mut self, x: f64, y: f64, radius: f64, color: Rgb) {
        self.disc(x * SCALE, y * SCALE, radius * SCALE, color);
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb) {
        let (x0, y0) = ((x * SCALE).round() as i64, (y * SCALE).round() as i64);
        let (x1, y1) = (((x + w) * SCALE).round() as i64, ((y + h) * SCALE).round() as i64);
        for yy in y0..y1 {
            for xx in x0..x1 {
                self.set(xx, yy, fill);
            }
        }
    }

    fn text(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor, vertical: bool) {
        let k = ((size * SCALE) / 8.0).round().max(1.0) as i64; // device pixels per font pixel
        let cell = 8 * k;
        let n = s.chars().count() as i64;
        let shift = match anchor {
            Anchor::Start => 0,
            Anchor::Middle => n * cell / 2,
            Anchor::End => n * cell,
        };
        let (bx, by) = ((x * SCALE).round() as i64, (y * SCALE).round() as i64);
        for (i, ch) in s.chars().enumerate() {
            let glyph = BASIC_LEGACY.get(ch as usize).copied().unwrap_or(BASIC_LEGACY[b'?' as usize]);
            let along = i as i64 * cell - shift;
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..8 {
                    if bits >> col & 1 == 0 {
                        continue;
                    }
                    // Font pixel (col, row) of a cell whose top is `cell` above the baseline.
                    let (u, v) = (along + col * k, row as i64 * k - cell + k);
                    for dy in 0..k {
                        for dx in 0..k {
                            let (px, py) =
                                if vertical { (bx + v + dy, by - u - dx) } else { (bx + u + dx, by + v + dy) };
                            self.set(px, py, [0, 0, 0]);
                        }
                    }
                }
            }
        }
    }
}
