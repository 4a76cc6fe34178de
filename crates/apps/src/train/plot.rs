//! `train --plot FILE`: the training (and test) loss and accuracy per epoch, drawn with
//! the project's plots ([`crate::scaling::plot`]: PNG or SVG by the file's extension).

use crate::scaling::plot::{colors, Figure, Panel, Series, Style};

use super::TrainResult;

/// Two panels: the mean loss (log scale) and the accuracy, against the epoch (0: before
/// training), training set in blue, test set (if any) in orange.
pub fn figure(r: &TrainResult) -> Figure {
    let train_loss = std::iter::once((0.0, r.initial_loss)).chain(r.epochs.iter().map(|e| (e.epoch as f64, e.loss)));
    let train_acc =
        std::iter::once((0.0, r.initial_accuracy)).chain(r.epochs.iter().map(|e| (e.epoch as f64, e.accuracy)));
    let series = |label: &str, color, points: Vec<(f64, f64)>| Series {
        label: label.into(),
        color,
        style: Style::Points,
        points,
    };
    let mut loss = vec![series("training", colors::BLUE, train_loss.collect())];
    let mut acc = vec![series("training", colors::BLUE, train_acc.collect())];
    let test_loss: Vec<(f64, f64)> = r.epochs.iter().filter_map(|e| Some((e.epoch as f64, e.test_loss?))).collect();
    let test_acc: Vec<(f64, f64)> = r.epochs.iter().filter_map(|e| Some((e.epoch as f64, e.test_accuracy?))).collect();
    if !test_loss.is_empty() {
        loss.push(series("test", colors::ORANGE, test_loss));
        acc.push(series("test", colors::ORANGE, test_acc));
    }
    let panel = |title: &str, y_label: &str, y_log, y_range, series| Panel {
        title: title.into(),
        x_label: "epoch".into(),
        y_label: y_label.into(),
        x_log: false,
        y_log,
        y_range,
        series,
    };
    Figure {
        title: format!("train {}: {} parameters, global batch {}", r.model.name(), r.params, r.global_batch),
        panels: vec![
            panel("mean loss", "loss", true, None, loss),
            panel("accuracy", "fraction right", false, Some((0.0, 1.0)), acc),
        ],
    }
}
