//! The tour's table as text.

use super::TourReport;

/// The table, one line per row, then the failures' details and a verdict.
pub(super) fn render(report: &TourReport) -> Vec<String> {
    let header = ["program", "ranks", "result", "check", "time"];
    let cells: Vec<[String; 5]> = report
        .rows
        .iter()
        .map(|r| {
            let check = if r.passed { "passed" } else { "FAILED" };
            [r.program.clone(), r.ranks.to_string(), r.result.clone(), check.into(), format!("{:.4} s", r.time_s)]
        })
        .collect();
    let mut width = header.map(str::len);
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |c: [&str; 5]| {
        format!(
            "{:<w0$}  {:>w1$}  {:<w2$}  {:<w3$}  {:>w4$}",
            c[0],
            c[1],
            c[2],
            c[3],
            c[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3],
            w4 = width[4]
        )
        .trim_end()
        .to_string()
    };
    let mut out = vec![line(header)];
    out.push(line(width.map(|w| "-".repeat(w)).each_ref().map(String::as_str)));
    out.extend(cells.iter().map(|c| line(c.each_ref().map(String::as_str))));
    for r in report.rows.iter().filter(|r| !r.passed) {
        out.push(format!("{} ({} ranks): {}", r.program, r.ranks, r.detail.as_deref().unwrap_or("failed")));
    }
    let failed = report.rows.iter().filter(|r| !r.passed).count();
    out.push(if failed == 0 {
        format!("All {} checks passed.", report.rows.len())
    } else {
        format!("{failed} of {} checks FAILED.", report.rows.len())
    });
    out
}
