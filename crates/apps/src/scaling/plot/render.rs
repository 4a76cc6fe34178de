//! Drawing a [`Figure`] with plotters: one layout for every backend (SVG at 960 x 420,
//! PNG at twice that); sizes are given at SVG scale and multiplied by `k`.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::Axis;
use super::figure::{Figure, Panel, Rgb, Series, Style};
use super::font::{self, FAMILY};

/// The figure's size at SVG scale.
const WIDTH: u32 = 960;
const HEIGHT: u32 = 420;

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn io_error(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("drawing the chart failed: {e}"))
}

/// The figure as an SVG document.
pub(crate) fn svg(fig: &Figure) -> std::io::Result<String> {
    font::ensure()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(fig, &root, 1.0).map_err(io_error)?;
        root.present().map_err(io_error)?;
    }
    Ok(out)
}

/// The figure as RGB pixels at twice the SVG's size: (width, height, pixels).
pub(crate) fn rgb(fig: &Figure) -> std::io::Result<(u32, u32, Vec<u8>)> {
    font::ensure()?;
    let (w, h) = (2 * WIDTH, 2 * HEIGHT);
    let mut px = vec![255u8; 3 * w as usize * h as usize];
    {
        let root = BitMapBackend::with_buffer(&mut px, (w, h)).into_drawing_area();
        draw(fig, &root, 2.0).map_err(io_error)?;
        root.present().map_err(io_error)?;
    }
    Ok((w, h, px))
}

fn color(c: Rgb) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

fn draw<DB: DrawingBackend>(fig: &Figure, root: &DrawingArea<DB, Shift>, k: f64) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let lines = title_lines(&fig.title, root, k);
    let line_h = 24.0 * k;
    let (top, body) = root.split_vertically(8.0 * k + line_h * lines.len() as f64);
    let (w, _) = top.dim_in_pixel();
    for (i, line) in lines.iter().enumerate() {
        let style = title_style(k).pos(Pos::new(HPos::Center, VPos::Top));
        top.draw(&Text::new(line.clone(), (w as i32 / 2, (8.0 * k + i as f64 * line_h) as i32), style))?;
    }
    let areas = body.split_evenly((1, fig.panels.len().max(1)));
    for (p, area) in fig.panels.iter().zip(&areas) {
        panel(p, area, k)?;
    }
    Ok(())
}

fn title_style(k: f64) -> TextStyle<'static> {
    (FAMILY, 18.0 * k).into_font().style(FontStyle::Bold).into()
}

/// The title in one line if it fits the figure's width, else in two, split at the
/// space nearest the middle (a long command line stays whole, not cut at the edges).
fn title_lines<DB: DrawingBackend>(title: &str, root: &DrawingArea<DB, Shift>, k: f64) -> Vec<String> {
    let room = root.dim_in_pixel().0 as f64 - 40.0 * k;
    let fits = |s: &str| root.estimate_text_size(s, &title_style(k)).map(|(w, _)| w as f64 <= room).unwrap_or(true);
    if fits(title) {
        return vec![title.to_string()];
    }
    let mid = title.len() / 2;
    let split = title.match_indices(' ').map(|(i, _)| i).min_by_key(|&i| i.abs_diff(mid));
    match split {
        Some(i) => vec![title[..i].to_string(), title[i + 1..].to_string()],
        None => vec![title.to_string()],
    }
}

fn panel<DB: DrawingBackend>(p: &Panel, area: &DrawingArea<DB, Shift>, k: f64) -> DrawResult<DB> {
    let xs: Vec<f64> = p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)).collect();
    let ys: Vec<f64> = p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1)).collect();
    let (ax, ay) = (Axis::covering(&xs, None, p.x_log), Axis::covering(&ys, p.y_range, p.y_log));
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, (FAMILY, 15.0 * k))
        .margin((12.0 * k) as u32)
        .x_label_area_size((40.0 * k) as u32)
        .y_label_area_size((56.0 * k) as u32)
        .build_cartesian_2d(ax, ay)?;
    chart
        .configure_mesh()
        .x_desc(p.x_label.as_str())
        .y_desc(p.y_label.as_str())
        .label_style((FAMILY, 12.0 * k))
        .axis_desc_style((FAMILY, 13.0 * k))
        .bold_line_style(RGBColor(228, 228, 228).stroke_width(k as u32))
        .axis_style(BLACK.stroke_width(k as u32))
        .draw()?;
    let mut corners = [0usize; 4];
    for s in &p.series {
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|&&(x, y)| ax.shows(x) && ay.shows(y))
            .map(|&(x, y)| (ax.pos(x), ay.pos(y)))
            .collect();
        count_corners(&pts, &ax, &ay, &mut corners);
        series(&mut chart, s, pts, k)?;
    }
    chart
        .configure_series_labels()
        .position(emptiest(corners))
        .margin((8.0 * k) as u32)
        .legend_area_size((30.0 * k) as u32)
        .label_font((FAMILY, 12.0 * k))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(170, 170, 170))
        .draw()?;
    Ok(())
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// Draws one series and its legend entry.
fn series<'a, DB: DrawingBackend + 'a>(
    chart: &mut Chart<'a, DB>,
    s: &Series,
    pts: Vec<(f64, f64)>,
    k: f64,
) -> DrawResult<DB> {
    let c = color(s.color);
    let (line, thin, r) = ((2.0 * k) as u32, k as u32, (4.0 * k) as i32);
    let legend_line =
        move |(x, y): (i32, i32)| PathElement::new(vec![(x, y), (x + (20.0 * k) as i32, y)], c.stroke_width(line));
    match s.style {
        Style::Line => {
            chart.draw_series(LineSeries::new(pts, c.stroke_width(line)))?.label(&s.label).legend(legend_line)
        }
        Style::Dashed => chart
            .draw_series(DashedLineSeries::new(pts, 7.0 * k, 5.0 * k, c.stroke_width(line)))?
            .label(&s.label)
            .legend(move |(x, y)| {
                let dash = |a: f64, b: f64| {
                    PathElement::new(vec![((a * k) as i32, 0), ((b * k) as i32, 0)], c.stroke_width(line))
                };
                EmptyElement::at((x, y)) + dash(0.0, 8.0) + dash(13.0, 20.0)
            }),
        Style::Points => {
            chart.draw_series(LineSeries::new(pts.clone(), c.stroke_width(thin)))?;
            chart
                .draw_series(pts.into_iter().map(|q| Circle::new(q, r, c.filled())))?
                .label(&s.label)
                .legend(move |(x, y)| Circle::new((x + (10.0 * k) as i32, y), r, c.filled()))
        }
        Style::Hollow => chart
            .draw_series(pts.into_iter().map(|q| Circle::new(q, r, c.stroke_width(line))))?
            .label(&s.label)
            .legend(move |(x, y)| Circle::new((x + (10.0 * k) as i32, y), r, c.stroke_width(line))),
    };
    Ok(())
}

/// Counts, in each corner region (upper left, upper right, lower left, lower right;
/// each 60% of the width and 45% of the height, the legend's size at most), the points
/// and samples along the segments joining them.
fn count_corners(pts: &[(f64, f64)], ax: &Axis, ay: &Axis, corners: &mut [usize; 4]) {
    let (xr, yr) = (ax.drawn(), ay.drawn());
    let mut count = |(x, y): (f64, f64)| {
        let (u, v) = ((x - xr.start) / (xr.end - xr.start), (y - yr.start) / (yr.end - yr.start));
        let (left, right, upper, lower) = (u < 0.6, u > 0.4, v > 0.55, v < 0.45);
        for (i, hit) in [upper && left, upper && right, lower && left, lower && right].into_iter().enumerate() {
            corners[i] += usize::from(hit);
        }
    };
    pts.iter().for_each(|&p| count(p));
    for w in pts.windows(2) {
        for i in 1..8 {
            let t = f64::from(i) / 8.0;
            count((w[0].0 + t * (w[1].0 - w[0].0), w[0].1 + t * (w[1].1 - w[0].1)));
        }
    }
}

/// The legend goes where the data are fewest.
fn emptiest(corners: [usize; 4]) -> SeriesLabelPosition {
    match (0..4).min_by_key(|&i| corners[i]).unwrap_or(0) {
        0 => SeriesLabelPosition::UpperLeft,
        1 => SeriesLabelPosition::UpperRight,
        2 => SeriesLabelPosition::LowerLeft,
        _ => SeriesLabelPosition::LowerRight,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_title_is_split_in_two_lines_and_a_short_one_kept() {
        font::ensure().unwrap();
        let mut px = vec![255u8; 3 * 960 * 420];
        let root = BitMapBackend::with_buffer(&mut px, (960, 420)).into_drawing_area();
        assert_eq!(title_lines("Strong scaling of rootsum", &root, 1.0).len(), 1);
        let long = "Strong scaling of heat 4000 4000 --steps 500 --alpha 0.1 --dx 0.01 --snapshot-every 100 \
                    --checkpoint run.ckpt --output field.npy (threads backend, 2 cores)";
        let lines = title_lines(long, &root, 1.0);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines.join(" "), long);
    }
}
