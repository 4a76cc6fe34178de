//! A rank's shard: the samples of its units, made from the seed and their global
//! indices (or read from a data set's images), in the order the rank visits them.

use std::ops::Range;
use std::sync::Arc;

use super::data;
use super::idx::Images;
use super::net::{Net, Trace};
use super::schedule::{Schedule, Step};

/// Who labels the samples.
#[derive(Debug, Clone)]
pub enum Teacher {
    /// `y = [x . w + noise z > 0]`.
    Linear {
        /// The teacher's weights.
        w: Vec<f64>,
        /// The standard deviation of the score's noise.
        noise: f64,
    },
    /// `y = net(x)` with the teacher's parameters.
    Net {
        /// The teacher network (the student's shape).
        net: Net,
        /// Its parameters.
        params: Vec<f64>,
    },
    /// Labelled images (Fashion-MNIST): sample `i` is image `i`, its label the class.
    Images(Arc<Images>),
}

/// One rank's samples, grouped by step and unit.
#[derive(Debug, Clone)]
pub struct Shard {
    /// Features, one row per sample.
    pub x: Vec<f64>,
    /// Labels (0/1) or targets.
    pub y: Vec<f64>,
    /// Inputs per sample.
    pub d: usize,
    /// This rank's part of each step.
    pub steps: Vec<Step>,
    /// For each step, each unit's rows in `x` and `y`.
    pub rows: Vec<Vec<Range<usize>>>,
    /// Samples the teacher's own prediction (without noise) gets right (linear teacher).
    pub teacher_right: u64,
}

impl Shard {
    /// Makes rank `rank`'s samples; with an `order`, the sample at position `k` of the
    /// epoch is `order[k]` (a shuffled epoch), else `k`.
    pub fn new(
        schedule: &Schedule,
        rank: usize,
        teacher: &Teacher,
        d: usize,
        seed: u64,
        order: Option<&[usize]>,
    ) -> Shard {
        let steps: Vec<Step> = (0..schedule.steps()).map(|t| schedule.step(t, rank)).collect();
        let n: usize = steps.iter().flat_map(|s| &s.units).map(|u| u.samples.len()).sum();
        let (mut x, mut y) = (vec![0.0; n * d], Vec::with_capacity(n));
        let mut rows = Vec::with_capacity(steps.len());
        let (mut at, mut teacher_right) = (0, 0);
        let mut trace = Trace::default();
        for step in &steps {
            let mut mine = Vec::with_capacity(step.units.len());
            for unit in &step.units {
                mine.push(at..at + unit.samples.len());
                for k in unit.samples.clone() {
                    let i = order.map_or(k, |o| o[k]);
                    let row = &mut x[at * d..(at + 1) * d];
                    if let Teacher::Images(set) = teacher {
                        set.features(i, row);
                    } else {
                        data::features(seed, i as u64, row);
                    }
                    y.push(match teacher {
                        Teacher::Linear { w, noise } => {
                            let label = data::logreg_label(seed, i as u64, row, w, *noise);
                            teacher_right += u64::from((data::score(row, w) > 0.0) == (label > 0.5));
                            label
                        }
                        Teacher::Net { net, params } => {
                            net.forward(params, row, 1, &mut trace);
                            net.outputs(&trace)[0]
                        }
                        Teacher::Images(set) => f64::from(set.labels[i]),
                    });
                    at += 1;
                }
            }
            rows.push(mine);
        }
        Shard { x, y, d, steps, rows, teacher_right }
    }

    /// The features and labels of rows `r`.
    pub fn unit(&self, r: &Range<usize>) -> (&[f64], &[f64]) {
        (&self.x[r.start * self.d..r.end * self.d], &self.y[r.clone()])
    }
}
