//! A study as CSV: one row per rank count, for a spreadsheet or a plotting script.

use super::study::Study;

/// The CSV text: a header and one line per rank count (empty fields where a value does
/// not apply).
///
/// ```
/// use parsci_apps::scaling::{to_csv, Measured, Setup, Study};
/// let setup = Setup { program: "demo".into(), problem: "demo".into(), backend: "threads".into(),
///                     cores: 2, weak: None, fit_oversubscribed: false };
/// let m = |ranks: usize, t: f64| Measured { ranks, wall_s: vec![t], comm_s: vec![], agreement: Ok(()) };
/// let csv = to_csv(&Study::analyse(setup, vec![m(1, 2.0), m(2, 1.0)]));
/// assert!(csv.starts_with("ranks,runs,median_s,"));
/// assert_eq!(csv.lines().count(), 3);
/// ```
pub fn to_csv(study: &Study) -> String {
    let mut out = String::from(
        "ranks,runs,median_s,min_s,max_s,comm_s,compute_s,speedup,efficiency,karp_flatt,oversubscribed,fitted,result_ok\n",
    );
    let opt = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v}"));
    for r in &study.rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.ranks,
            r.wall_s.n,
            r.wall_s.median,
            r.wall_s.min,
            r.wall_s.max,
            opt(r.comm_s),
            opt(r.compute_s),
            r.speedup,
            r.efficiency,
            opt(r.karp_flatt),
            r.oversubscribed,
            r.fitted,
            r.result_ok
        ));
    }
    out
}

/// Reads measured times from CSV text: a `ranks` column and a time column (`median_s`,
/// `time_s`, `seconds` or `time`), or, without a header, two columns `ranks,time`.
/// Every line is one (ranks, seconds) point; several lines may share a rank count.
///
/// ```
/// use parsci_apps::scaling::parse_times;
/// assert_eq!(parse_times("ranks,time_s\n1,10\n2,5.5\n").unwrap(), vec![(1, 10.0), (2, 5.5)]);
/// assert_eq!(parse_times("1, 4.0\n4, 1.5\n").unwrap(), vec![(1, 4.0), (4, 1.5)]);
/// assert!(parse_times("ranks,time_s\n0,1\n").unwrap_err().contains("line 2"));
/// ```
pub fn parse_times(text: &str) -> Result<Vec<(usize, f64)>, String> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#')).peekable();
    let (mut rc, mut tc) = (0, 1);
    if let Some((_, first)) = lines.peek() {
        let cells: Vec<String> = first.split(',').map(|c| c.trim().to_lowercase()).collect();
        if cells.iter().any(|c| c.parse::<f64>().is_err()) {
            rc = cells.iter().position(|c| c == "ranks" || c == "p").ok_or("the CSV header has no `ranks` column")?;
            tc = ["median_s", "time_s", "seconds", "time", "wall_time_s"]
                .iter()
                .find_map(|name| cells.iter().position(|c| c == name))
                .ok_or("the CSV header has no time column (median_s, time_s, seconds or time)")?;
            lines.next();
        }
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell = |k: usize| cells.get(k).copied().unwrap_or("");
        let ranks = cell(rc).parse::<usize>().ok().filter(|&p| p >= 1);
        let time = cell(tc).parse::<f64>().ok().filter(|t| t.is_finite() && *t > 0.0);
        match (ranks, time) {
            (Some(p), Some(t)) => out.push((p, t)),
            _ => {
                return Err(format!(
                    "line {}: expected ranks (a whole number of at least 1) and a positive time, got '{line}'",
                    i + 1
                ))
            }
        }
    }
    if out.is_empty() {
        return Err("the CSV has no measurements".into());
    }
    Ok(out)
}
