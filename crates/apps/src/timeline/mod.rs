//! The picture of a trace: the ranks' timelines (phases above, communication calls
//! below, an arrow from each send to its receive) and the communication matrix as a
//! heat map, as a PNG.

mod canvas;

use std::path::Path;

use parsci_comm::trace::{Call, Profile, Trace};

use crate::files::{magma, write_atomically, write_rgb_png};
use canvas::{Canvas, Rgb};

const WIDTH: usize = 1800;
const LEFT: f64 = 110.0;
const TIMELINE_RIGHT: f64 = 1330.0;
const TOP: f64 = 70.0;
const MATRIX_LEFT: f64 = 1420.0;
const MATRIX_SIZE: f64 = 330.0;
const GRAY: Rgb = [110, 110, 110];
const BLACK: Rgb = [20, 20, 20];

/// The colour of a call: waiting in red, sends in green, collectives in orange.
fn call_color(c: &Call) -> Rgb {
    match (c.cat.as_str(), c.op.as_str()) {
        ("collective", _) => [240, 140, 30],
        ("wait", _) => [210, 50, 50],
        (_, op) if op.starts_with("recv") || op == "probe" => [210, 50, 50],
        (_, op) if op.starts_with("irecv") => [235, 150, 150],
        _ => [40, 150, 70],
    }
}

/// The colour of the `i`-th phase name met.
fn phase_color(i: usize) -> Rgb {
    let palette: [Rgb; 8] = [
        [160, 190, 230],
        [190, 220, 170],
        [230, 200, 150],
        [200, 180, 220],
        [170, 215, 215],
        [230, 180, 190],
        [210, 210, 160],
        [190, 190, 190],
    ];
    palette[i % palette.len()]
}

/// Draws `trace` to `path` (PNG); `window` limits the timeline to `(from, to)` microseconds
/// after the trace's start (the whole run where `None`).
pub fn draw(trace: &Trace, profile: &Profile, window: (Option<f64>, Option<f64>), path: &Path) -> Result<(), String> {
    let n = trace.ranks.len().max(1);
    let (first, last) = trace.span();
    let t0 = first + window.0.unwrap_or(0.0).max(0.0);
    let t1 = window.1.map_or(last, |to| first + to).min(last.max(t0 + 1.0));
    if t1 <= t0 || t0 >= last {
        return Err(format!("the window --from/--to is empty: the trace lasts {:.3} ms", (last - first) / 1e3));
    }
    let band = (600.0 / n as f64).clamp(14.0, 70.0);
    let height = (TOP + band * n as f64 + 60.0).max(TOP + MATRIX_SIZE + 50.0) as usize;
    let mut c = Canvas::new(WIDTH, height)?;
    let x_of = |t: f64| LEFT + (t - t0) / (t1 - t0) * (TIMELINE_RIGHT - LEFT);
    let y_of = |r: usize| TOP + band * r as f64;
    let title = format!(
        "{} ranks, {} backend: {:.3} ms to {:.3} ms of {:.3} ms",
        n,
        if trace.backend.is_empty() { "?" } else { &trace.backend },
        (t0 - first) / 1e3,
        (t1 - first) / 1e3,
        (last - first) / 1e3
    );
    c.text(LEFT, 14.0, &title, 2, BLACK);
    let mut x = LEFT;
    c.text(x, 42.0, "phases above, calls below:", 1, GRAY);
    x += Canvas::text_width("phases above, calls below:", 1) + 12.0;
    for (label, color) in [("send", [40, 150, 70]), ("receive/wait", [210, 50, 50]), ("collective", [240, 140, 30])] {
        c.rect(x, 42.0, x + 12.0, 50.0, color);
        c.text(x + 16.0, 42.0, label, 1, GRAY);
        x += 30.0 + Canvas::text_width(label, 1);
    }
    c.line((x, 46.0), (x + 24.0, 46.0), [40, 40, 160]);
    c.arrow((x, 46.0), (x + 24.0, 46.0), [40, 40, 160]);
    c.text(x + 30.0, 42.0, "message, from its send to its receive", 1, GRAY);
    let visible = |s: f64, e: f64| e >= t0 && s <= t1;
    let clip = |t: f64| t.clamp(t0, t1);
    let mut phase_names: Vec<&str> = Vec::new();
    for (r, rt) in trace.ranks.iter().enumerate() {
        let y = y_of(r);
        c.rect(LEFT, y + band - 1.0, TIMELINE_RIGHT, y + band, [225, 225, 225]);
        c.text(8.0, y + band / 2.0 - 4.0, &format!("rank {r}"), 1, BLACK);
        let depth_h = (band * 0.45) / 3.0;
        for p in rt.phases.iter().filter(|p| visible(p.start, p.end)) {
            let d = p.depth.min(2) as f64;
            let i = phase_names.iter().position(|n| *n == p.name).unwrap_or_else(|| {
                phase_names.push(&p.name);
                phase_names.len() - 1
            });
            c.rect(
                x_of(clip(p.start)),
                y + 2.0 + d * depth_h,
                x_of(clip(p.end)),
                y + 2.0 + (d + 1.0) * depth_h,
                phase_color(i),
            );
        }
        for call in rt.calls.iter().filter(|k| visible(k.start, k.end)) {
            c.rect(x_of(clip(call.start)), y + band * 0.5, x_of(clip(call.end)), y + band * 0.9, call_color(call));
        }
    }
    // Arrows: from the send call's start to the receiving call's end.
    for m in &trace.messages {
        let (Some(s), Some(r)) = (m.send_call, m.recv_call) else { continue };
        let (Some(sc), Some(rc)) = (trace.ranks[m.src].calls.get(s), trace.ranks[m.dst].calls.get(r)) else { continue };
        if !visible(sc.start, rc.end) || sc.start < t0 || rc.end > t1 {
            continue;
        }
        let (ys, yr) = (y_of(m.src) + band * 0.7, y_of(m.dst) + band * 0.7);
        c.arrow((x_of(sc.start), ys), (x_of(rc.end), yr), [40, 40, 160]);
    }
    // Time axis.
    let axis_y = TOP + band * n as f64 + 8.0;
    c.rect(LEFT, axis_y, TIMELINE_RIGHT, axis_y + 1.0, BLACK);
    for i in 0..=5 {
        let t = t0 + (t1 - t0) * i as f64 / 5.0;
        let x = x_of(t);
        c.rect(x, axis_y, x + 1.0, axis_y + 6.0, BLACK);
        let label = format!("{:.3} ms", (t - first) / 1e3);
        c.text(x - Canvas::text_width(&label, 1) / 2.0, axis_y + 10.0, &label, 1, BLACK);
    }
    // Phase legend.
    let mut x = LEFT;
    for (i, name) in phase_names.iter().enumerate().take(10) {
        c.rect(x, axis_y + 30.0, x + 12.0, axis_y + 38.0, phase_color(i));
        c.text(x + 16.0, axis_y + 30.0, name, 1, GRAY);
        x += 30.0 + Canvas::text_width(name, 1);
    }
    matrix(&mut c, profile);
    write_atomically(path, |w| {
        write_rgb_png(w, c.w, c.h, |j, row| row.copy_from_slice(&c.px[j * c.w * 3..(j + 1) * c.w * 3]))
    })
    .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The communication matrix: bytes sent from each row's rank to each column's.
fn matrix(c: &mut Canvas, p: &Profile) {
    let n = p.matrix_bytes.len().max(1);
    let cell = MATRIX_SIZE / n as f64;
    let max = p.matrix_bytes.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    c.text(MATRIX_LEFT - 40.0, TOP - 28.0, "bytes sent (row -> column)", 1, BLACK);
    for (s, row) in p.matrix_bytes.iter().enumerate() {
        for (d, &b) in row.iter().enumerate() {
            let f = b as f64 / max;
            let color = if b == 0 { [245, 245, 245] } else { magma(0.95 - 0.8 * f) };
            let (x, y) = (MATRIX_LEFT + d as f64 * cell, TOP + s as f64 * cell);
            c.rect(x, y, x + cell - 1.0, y + cell - 1.0, color);
            if n <= 8 && b > 0 {
                let label = human(b);
                let ink = if f > 0.5 { [255, 255, 255] } else { BLACK };
                c.text(x + (cell - Canvas::text_width(&label, 1)) / 2.0, y + cell / 2.0 - 4.0, &label, 1, ink);
            }
        }
        if n <= 32 {
            c.text(MATRIX_LEFT - 24.0, TOP + (s as f64 + 0.5) * cell - 4.0, &s.to_string(), 1, BLACK);
            c.text(MATRIX_LEFT + (s as f64 + 0.5) * cell - 4.0, TOP - 12.0, &s.to_string(), 1, BLACK);
        }
    }
    let label = format!("0 B .. {} (darker: more)", human(max as u64));
    c.text(MATRIX_LEFT, TOP + MATRIX_SIZE + 10.0, &label, 1, GRAY);
    for i in 0..100 {
        let x = MATRIX_LEFT + i as f64 * MATRIX_SIZE / 100.0;
        c.rect(
            x,
            TOP + MATRIX_SIZE + 26.0,
            x + MATRIX_SIZE / 100.0 + 1.0,
            TOP + MATRIX_SIZE + 36.0,
            magma(0.95 - 0.8 * i as f64 / 99.0),
        );
    }
}

/// Bytes in B, kB, MB or GB.
fn human(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} kB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
