//! The figures of a study and of the laws: speedup (measured, ideal, fitted) and
//! parallel efficiency side by side.

use super::laws::{amdahl_speedup, gustafson_speedup, useful_ranks};
use super::plot::{colors, Figure, Panel, Series, Style};
use super::study::Study;

/// A fitted law: the speedup at `p` ranks.
type Law = Box<dyn Fn(f64) -> f64>;

/// Rank counts from `lo` to `hi` for drawing a smooth curve (every integer up to 64,
/// then about 40 steps per doubling).
pub fn curve_ranks(lo: usize, hi: usize) -> Vec<f64> {
    let (lo, hi) = (lo.max(1) as f64, hi.max(lo.max(1)) as f64);
    let mut v = Vec::new();
    let mut p = lo;
    while p < hi {
        v.push(p);
        p = if p < 64.0 { p + 1.0 } else { p * 2f64.powf(1.0 / 40.0) };
    }
    v.push(hi);
    v
}

/// The study's figure: measured speedup with the ideal line and the fitted law, and
/// the measured parallel efficiency with the fitted law's.
pub fn study_figure(study: &Study) -> Figure {
    let s = &study.setup;
    let weak = s.weak.is_some();
    let ranks: Vec<usize> = study.rows.iter().map(|r| r.ranks).collect();
    let (lo, hi) = (ranks.iter().copied().min().unwrap_or(1), ranks.iter().copied().max().unwrap_or(1));
    let hi = hi.max(lo + 1);
    let xs = curve_ranks(lo, hi);
    let log = hi / lo.max(1) >= 8;
    let ideal = |label: &str, points| Series { label: label.into(), color: colors::GREY, style: Style::Dashed, points };
    let (mut speed, mut eff) = (Vec::new(), Vec::new());
    let law: Option<(String, Law)> = match (&study.amdahl, &study.gustafson) {
        (Some(a), _) => {
            let f = a.serial_fraction;
            Some((format!("Amdahl fit, f = {f:.3}"), Box::new(move |p| amdahl_speedup(f, p))))
        }
        (None, Some(g)) => {
            let f = g.serial_fraction;
            Some((format!("Gustafson fit, s = {f:.3}"), Box::new(move |p| gustafson_speedup(f, p))))
        }
        _ => None,
    };
    if let Some((label, law)) = &law {
        speed.push(Series {
            label: label.clone(),
            color: colors::ORANGE,
            style: Style::Line,
            points: xs.iter().map(|&p| (p, law(p))).collect(),
        });
        eff.push(Series {
            label: label.clone(),
            color: colors::ORANGE,
            style: Style::Line,
            points: xs.iter().map(|&p| (p, law(p) / p)).collect(),
        });
    }
    // The ideal goes over the fit (dashed), so that a fit close to it does not hide it.
    speed.push(ideal("ideal (S = p)", xs.iter().map(|&p| (p, p)).collect()));
    eff.push(ideal("ideal", vec![(lo as f64, 1.0), (hi as f64, 1.0)]));
    // Rank counts above the cores measure cores shared, not scaling: drawn open.
    let (fits, shared): (Vec<_>, Vec<_>) = study.rows.iter().partition(|r| !r.oversubscribed);
    let measured = |rows: &[&super::study::Row], value: fn(&super::study::Row) -> f64, label: String, style| Series {
        label,
        color: colors::BLUE,
        style,
        points: rows.iter().map(|r| (r.ranks as f64, value(r))).collect(),
    };
    let over_label = format!("more ranks than the {} cores (shared)", s.cores);
    for (rows, label, style) in
        [(&fits, "measured (median)".to_string(), Style::Points), (&shared, over_label, Style::Hollow)]
    {
        if !rows.is_empty() {
            speed.push(measured(rows, |r| r.speedup, label.clone(), style));
            eff.push(measured(rows, |r| r.efficiency, label, style));
        }
    }
    let kind = if weak { "Weak" } else { "Strong" };
    let y = if weak { "scaled speedup p T(1) / T(p)" } else { "speedup T(1) / T(p)" };
    Figure {
        title: format!("{kind} scaling of {} ({} backend, {} cores)", s.problem, s.backend, s.cores),
        panels: vec![
            Panel {
                title: "Speedup".into(),
                x_label: "ranks p".into(),
                y_label: y.into(),
                x_log: log,
                y_log: log,
                y_range: Some((if log { 1.0 } else { 0.0 }, 1.0)),
                series: speed,
            },
            efficiency_panel(log, eff),
        ],
    }
}

/// Amdahl's and Gustafson's laws for serial fraction `f` from `lo` to `hi` ranks, with
/// the rule of thumb's `1/f` marked, and optionally measured speedups.
pub fn laws_figure(f: f64, lo: usize, hi: usize, measured: &[(usize, f64)]) -> Figure {
    let xs = curve_ranks(lo, hi);
    let log = hi / lo.max(1) >= 8;
    let mut series = vec![
        Series {
            label: format!("Gustafson, s = {f}"),
            color: colors::GREEN,
            style: Style::Line,
            points: xs.iter().map(|&p| (p, gustafson_speedup(f, p))).collect(),
        },
        Series {
            label: format!("Amdahl, f = {f}"),
            color: colors::ORANGE,
            style: Style::Line,
            points: xs.iter().map(|&p| (p, amdahl_speedup(f, p))).collect(),
        },
        // Over the curves, dashed: Gustafson's line runs close to it.
        Series {
            label: "ideal (S = p)".into(),
            color: colors::GREY,
            style: Style::Dashed,
            points: xs.iter().map(|&p| (p, p)).collect(),
        },
    ];
    let limit = useful_ranks(f);
    if limit.is_finite() && limit >= lo as f64 && limit <= hi as f64 {
        series.push(Series {
            label: format!("1/f = {limit:.0} ranks"),
            color: colors::PURPLE,
            style: Style::Dashed,
            points: vec![(limit, if log { 1.0 } else { 0.0 }), (limit, hi as f64)],
        });
    }
    if !measured.is_empty() {
        series.push(Series {
            label: "measured".into(),
            color: colors::BLUE,
            style: Style::Points,
            points: measured.iter().map(|&(p, s)| (p as f64, s)).collect(),
        });
    }
    let eff = vec![
        Series {
            label: format!("Gustafson, s = {f}"),
            color: colors::GREEN,
            style: Style::Line,
            points: xs.iter().map(|&p| (p, gustafson_speedup(f, p) / p)).collect(),
        },
        Series {
            label: format!("Amdahl, f = {f}"),
            color: colors::ORANGE,
            style: Style::Line,
            points: xs.iter().map(|&p| (p, amdahl_speedup(f, p) / p)).collect(),
        },
    ];
    Figure {
        title: format!("Amdahl's and Gustafson's laws, serial fraction {f}"),
        panels: vec![
            Panel {
                title: "Speedup".into(),
                x_label: "ranks p".into(),
                y_label: "speedup".into(),
                x_log: log,
                y_log: log,
                y_range: Some((if log { 1.0 } else { 0.0 }, 1.0)),
                series,
            },
            efficiency_panel(log, eff),
        ],
    }
}

/// The right-hand panel of both charts: efficiency `S / p` from 0 to 110%.
fn efficiency_panel(log: bool, eff: Vec<Series>) -> Panel {
    Panel {
        title: "Parallel efficiency".into(),
        x_label: "ranks p".into(),
        y_label: "efficiency S / p".into(),
        x_log: log,
        y_log: false,
        y_range: Some((0.0, 1.1)),
        series: eff,
    }
}
