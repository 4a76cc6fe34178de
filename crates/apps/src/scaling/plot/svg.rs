//! The figure as SVG text, written by hand.

use std::fmt::Write;

use super::draw::{draw, Anchor, Canvas, HEIGHT, WIDTH};
use super::figure::{Figure, Rgb};

/// The figure as a standalone SVG document.
pub fn to_svg(fig: &Figure) -> String {
    let mut c = Svg(String::new());
    draw(fig, &mut c);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         font-family=\"DejaVu Sans Mono, Menlo, Consolas, monospace\">\n{}</svg>\n",
        c.0
    )
}

struct Svg(String);

fn rgb(c: Rgb) -> String {
    format!("rgb({},{},{})", c[0], c[1], c[2])
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Canvas for Svg {
    fn line(&mut self, pts: &[(f64, f64)], color: Rgb, width: f64, dashed: bool) {
        if pts.len() < 2 {
            return;
        }
        let p: Vec<String> = pts.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
        let dash = if dashed { " stroke-dasharray=\"6,4\"" } else { "" };
        let _ = writeln!(
            self.0,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{width}\"{dash}/>",
            p.join(" "),
            rgb(color)
        );
    }

    fn marker(&mut self, x: f64, y: f64, radius: f64, color: Rgb) {
        let _ = writeln!(self.0, "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{radius}\" fill=\"{}\"/>", rgb(color));
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: Rgb) {
        let _ = writeln!(
            self.0,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"/>",
            rgb(fill)
        );
    }

    fn text(&mut self, x: f64, y: f64, s: &str, size: f64, anchor: Anchor, vertical: bool) {
        let a = match anchor {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        };
        let rot = if vertical { format!(" transform=\"rotate(-90 {x:.1} {y:.1})\"") } else { String::new() };
        let size = size * 1.5; // a proportional font's glyphs are narrower than the raster's cells
        let _ = writeln!(
            self.0,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" font-size=\"{size}\" text-anchor=\"{a}\"{rot}>{}</text>",
            escape(s)
        );
    }
}
