//! What a plot shows: panels side by side, each with axes, labels and data series.

/// A colour, as red, green, blue.
pub type Rgb = [u8; 3];

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A solid line through the points.
    Line,
    /// A dashed line through the points.
    Dashed,
    /// A marker at each point, joined by a thin line.
    Points,
    /// An open marker at each point, not joined: points that count less (measured with
    /// more ranks than cores, say); the legend says why.
    Hollow,
}

/// One labelled set of points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend's text.
    pub label: String,
    /// The colour.
    pub color: Rgb,
    /// How it is drawn.
    pub style: Style,
    /// The `(x, y)` points, in data units.
    pub points: Vec<(f64, f64)>,
}

/// One chart: axes, their labels, and series.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The title above the chart.
    pub title: String,
    /// The x axis's label.
    pub x_label: String,
    /// The y axis's label.
    pub y_label: String,
    /// A logarithmic (base 2) x axis.
    pub x_log: bool,
    /// A logarithmic (base 2) y axis.
    pub y_log: bool,
    /// The y range to show at least (for instance 0 to 1.1 for an efficiency).
    pub y_range: Option<(f64, f64)>,
    /// The series, drawn in order and listed in the legend.
    pub series: Vec<Series>,
}

/// A figure: a title and panels side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The title at the top.
    pub title: String,
    /// The panels, left to right.
    pub panels: Vec<Panel>,
}

/// The palette: blue, orange, green, grey, red (colour-blind safe).
pub mod colors {
    use super::Rgb;
    /// Measured data.
    pub const BLUE: Rgb = [0, 114, 178];
    /// Fitted curves.
    pub const ORANGE: Rgb = [213, 94, 0];
    /// A second measured quantity.
    pub const GREEN: Rgb = [0, 158, 115];
    /// Ideal lines.
    pub const GREY: Rgb = [120, 120, 120];
    /// A third curve.
    pub const PURPLE: Rgb = [204, 121, 167];
}
