//! A study as text: a header, one aligned line per rank count, the fit and the notes.

use super::study::Study;

/// The study's report, one line per element.
pub fn render(study: &Study) -> Vec<String> {
    let s = &study.setup;
    let kind = if s.weak.is_some() { "weak" } else { "strong" };
    let mut out = vec![format!(
        "Scaling study ({kind}) of `{}` on the {} backend; this machine has {} cores",
        s.problem, s.backend, s.cores
    )];
    if let Some(rule) = &s.weak {
        out.push(format!("Weak scaling: {rule}"));
    }
    out.push(String::new());
    let speedup = if s.weak.is_some() { "scaled speedup" } else { "speedup" };
    let header = ["ranks", "runs", "median s", "min s", "max s", "comm s", "compute s", speedup, "efficiency"];
    let mut header: Vec<&str> = header.to_vec();
    if s.weak.is_none() {
        header.push("Karp-Flatt");
    }
    header.extend(["result", ""]);
    let opt = |x: Option<f64>, digits: usize| x.map_or("-".into(), |v| format!("{v:.digits$}"));
    let rows: Vec<Vec<String>> = study
        .rows
        .iter()
        .map(|r| {
            let mut c = vec![
                r.ranks.to_string(),
                r.wall_s.n.to_string(),
                format!("{:.4}", r.wall_s.median),
                format!("{:.4}", r.wall_s.min),
                format!("{:.4}", r.wall_s.max),
                opt(r.comm_s, 4),
                opt(r.compute_s, 4),
                format!("{:.2}", r.speedup),
                format!("{:.0}%", 100.0 * r.efficiency),
            ];
            if s.weak.is_none() {
                c.push(opt(r.karp_flatt, 3));
            }
            c.push(if r.result_ok { "same" } else { "DIFFERS" }.into());
            let mut note = Vec::new();
            if r.oversubscribed {
                note.push("oversubscribed");
            }
            if !r.fitted {
                note.push("not fitted");
            }
            c.push(note.join(", "));
            c
        })
        .collect();
    out.extend(align_columns(&header, &rows, 2));
    out.push(String::new());
    if let Some(a) = &study.amdahl {
        out.push(format!(
            "Amdahl fit T(p) = Ts + Tp/p: Ts = {:.4} s, Tp = {:.4} s, serial fraction f = {:.4} (R^2 = {:.3}, {} points)",
            a.serial_s, a.parallel_s, a.serial_fraction, a.r_squared, a.points
        ));
        out.push(format!("Speedup limit 1/f = {}", limit(a.speedup_limit)));
    }
    if let Some(g) = &study.gustafson {
        out.push(format!(
            "Gustafson fit S(p) = p - s(p - 1): serial fraction s = {:.4} ({} points)",
            g.serial_fraction, g.points
        ));
    }
    if !study.predictions.is_empty() {
        let p: Vec<String> = study.predictions.iter().map(|p| format!("{:.1} at {}", p.speedup, p.ranks)).collect();
        out.push(format!("Predicted {speedup}: {}", p.join(", ")));
    }
    out.push(if study.results_agree {
        "Results: the same at every rank count (within the program's tolerance).".into()
    } else {
        "Results: DIFFER between rank counts:".into()
    });
    for r in study.rows.iter().filter(|r| !r.result_ok) {
        out.push(format!("  at {} ranks: {}", r.ranks, r.result_detail.as_deref().unwrap_or("differs")));
    }
    out.extend(study.notes.iter().map(|n| format!("Note: {n}")));
    out
}

/// "20.0", or "unbounded" for an infinite limit.
fn limit(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "unbounded (no serial time measured)".into()
    }
}

/// Text columns under a header and a rule: right-aligned (numbers) but for the last
/// `words` columns, which are left-aligned.
pub fn align_columns(header: &[&str], rows: &[Vec<String>], words: usize) -> Vec<String> {
    let n = header.len();
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .enumerate()
            .map(
                |(i, c)| {
                    if i + words >= n {
                        format!("{c:<w$}", w = width[i])
                    } else {
                        format!("{c:>w$}", w = width[i])
                    }
                },
            )
            .collect();
        parts.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(header.to_vec())];
    out.push(line(width.iter().map(|&w| "-".repeat(w)).collect::<Vec<_>>().iter().map(String::as_str).collect()));
    out.extend(rows.iter().map(|r| line(r.iter().map(String::as_str).collect())));
    out
}
