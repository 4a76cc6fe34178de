//! Charts: a [`Figure`] of panels and series, drawn by the plotters crate as PNG or SVG
//! from the same code, with an embedded font (no fonts needed on the machine).

mod axes;
mod figure;
pub(crate) mod font;
mod render;

use std::io::Write;
use std::path::Path;

pub use figure::{colors, Figure, Panel, Rgb, Series, Style};

use crate::files::write_file;

/// Writes `fig` to `path` as SVG or PNG, by the file's extension (`.svg`, `.png`),
/// atomically (a temporary file renamed into place).
///
/// ```
/// use parsci_apps::scaling::plot::{colors, write_plot, Figure, Panel, Series, Style};
/// let panel = Panel { title: "demo".into(), x_label: "x".into(), y_label: "y".into(), x_log: false,
///     y_log: false, y_range: None,
///     series: vec![Series { label: "line".into(), color: colors::BLUE, style: Style::Line,
///                           points: vec![(0.0, 0.0), (1.0, 1.0)] }] };
/// let fig = Figure { title: "A demo".into(), panels: vec![panel] };
/// let path = std::env::temp_dir().join(format!("parsci-plot-doc-{}.svg", std::process::id()));
/// write_plot(&path, &fig).unwrap();
/// assert!(std::fs::read_to_string(&path).unwrap().starts_with("<svg"));
/// # std::fs::remove_file(&path).unwrap();
/// assert!(write_plot(std::path::Path::new("plot.gif"), &fig).unwrap_err().contains(".png or .svg"));
/// ```
pub fn write_plot(path: &Path, fig: &Figure) -> Result<(), String> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let result = match ext.as_deref() {
        Some("svg") => write_file(path, |w| w.write_all(to_svg(fig)?.as_bytes())),
        Some("png") => write_file(path, |w| write_png(fig, w)),
        _ => return Err(format!("cannot plot to {}: the file name must end in .png or .svg", path.display())),
    };
    result.map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The figure as an SVG document.
pub fn to_svg(fig: &Figure) -> std::io::Result<String> {
    render::svg(fig)
}

/// Writes the figure as a PNG (twice the SVG's size, for sharp text) to `out`.
pub fn write_png(fig: &Figure, out: &mut dyn Write) -> std::io::Result<()> {
    let (w, h, px) = render::rgb(fig)?;
    let mut enc = png::Encoder::new(out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(std::io::Error::other)?;
    w.write_image_data(&px).map_err(std::io::Error::other)?;
    w.finish().map_err(std::io::Error::other)
}
