//! The model's figure: predicted speedup and efficiency out to the largest rank count,
//! the measured points on top.

use super::report::Report;
use crate::scaling::plot::{colors, Figure, Panel, Series, Style};

/// Speedup and parallel efficiency, predicted (a line per curve) and measured (points,
/// relative to the measured one-rank time), on logarithmic rank axes.
pub fn model_figure(r: &Report) -> Figure {
    let hi = r.curves.iter().flat_map(|c| c.points.iter().map(|p| p.ranks)).max().unwrap_or(1).max(2) as f64;
    let palette = [colors::ORANGE, colors::GREEN, colors::PURPLE];
    let mut speed = vec![Series {
        label: "ideal".into(),
        color: colors::GREY,
        style: Style::Dashed,
        points: vec![(1.0, 1.0), (hi, hi)],
    }];
    let mut eff = vec![Series {
        label: "ideal".into(),
        color: colors::GREY,
        style: Style::Dashed,
        points: vec![(1.0, 1.0), (hi, 1.0)],
    }];
    for (c, color) in r.curves.iter().zip(palette.iter().cycle()) {
        let label = format!("model: {}", c.label);
        let pts = |f: fn(&super::Point) -> f64| c.points.iter().map(|p| (p.ranks as f64, f(p))).collect();
        speed.push(Series { label: label.clone(), color: *color, style: Style::Line, points: pts(|p| p.speedup) });
        eff.push(Series { label, color: *color, style: Style::Line, points: pts(|p| p.efficiency) });
    }
    if let Some(&(_, t1)) = r.measured.iter().find(|m| m.0 == 1) {
        let s = |&(p, t): &(usize, f64)| if r.weak { p as f64 * t1 / t } else { t1 / t };
        let label = "measured (median)".to_string();
        let points: Vec<(f64, f64)> = r.measured.iter().map(|m| (m.0 as f64, s(m))).collect();
        eff.push(Series {
            label: label.clone(),
            color: colors::BLUE,
            style: Style::Points,
            points: points.iter().map(|&(p, s)| (p, s / p)).collect(),
        });
        speed.push(Series { label, color: colors::BLUE, style: Style::Points, points });
    }
    let kind = if r.weak { "Weak" } else { "Strong" };
    let m = &r.machine;
    Figure {
        title: format!(
            "{kind} scaling, Hockney model: {}; {:.1} us, {:.2} GB/s",
            r.problem,
            m.net.alpha_s * 1e6,
            m.net.bandwidth() / 1e9
        ),
        panels: vec![
            Panel {
                title: "Speedup".into(),
                x_label: "ranks p".into(),
                y_label: if r.weak { "scaled speedup p T(1) / T(p)" } else { "speedup T(1) / T(p)" }.into(),
                x_log: true,
                y_log: true,
                y_range: Some((1.0, 1.0)),
                series: speed,
            },
            Panel {
                title: "Parallel efficiency".into(),
                x_label: "ranks p".into(),
                y_label: "efficiency S / p".into(),
                x_log: true,
                y_log: false,
                y_range: Some((0.0, 1.1)),
                series: eff,
            },
        ],
    }
}
