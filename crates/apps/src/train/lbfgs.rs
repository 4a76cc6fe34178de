//! `train --optimizer lbfgs` (`train mlp`'s default): full-batch L-BFGS, as PETSc/TAO's
//! `lmvm` does it, through argmin's `LBFGS` with a More-Thuente line search.
//!
//! argmin asks for the cost and the gradient separately, at the same point; one pass
//! (forward and backward, [`full_batch`](super::full_batch)) gives both, so the second
//! call is served from a cache. Every rank gets the same loss and gradient bits, so
//! argmin's iterates stay equal on all ranks without any broadcast. A rank failing inside
//! the loss stops the others' collectives; argmin may swallow a loss's error inside its
//! line search, so the first error is kept aside and returned once argmin stops.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Instant;

use argmin::core::observers::{Observe, ObserverMode};
use argmin::core::{CostFunction, Executor, Gradient, IterState, State, KV};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use serde::{Deserialize, Serialize};

use super::full_batch::Objective;
use crate::error::{Error, Result};
use crate::progress::Bar;

/// L-BFGS's settings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Iterations at most (`--iterations`).
    pub iterations: usize,
    /// Pairs of updates kept to shape the inverse Hessian (`--memory`).
    pub memory: usize,
    /// Stop once the gradient's Euclidean norm is below this (`--tolerance`).
    pub tolerance: f64,
}

impl Default for Settings {
    /// 500 iterations, memory 10, gradient norm 1e-10.
    fn default() -> Settings {
        Settings { iterations: 500, memory: 10, tolerance: 1e-10 }
    }
}

impl Settings {
    /// An error message if a setting cannot work.
    pub fn invalid(&self) -> Option<String> {
        if self.iterations == 0 || self.memory == 0 {
            return Some("--iterations and --memory must be at least 1".into());
        }
        if !(self.tolerance >= 0.0 && self.tolerance.is_finite()) {
            return Some(format!("--tolerance must be a finite number, not negative, got {}", self.tolerance));
        }
        None
    }
}

/// One iteration's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iteration {
    /// The iteration, from 1.
    pub iteration: usize,
    /// The mean loss over all samples after it.
    pub loss: f64,
    /// The Euclidean norm of the mean gradient after it.
    pub gradient_norm: f64,
    /// Evaluations of the loss and gradient so far (one pass over the data each, the
    /// line search's included).
    pub evaluations: u64,
    /// Rank 0's time since the start, in seconds.
    pub time_s: f64,
}

/// What a run of L-BFGS did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The settings.
    pub settings: Settings,
    /// The gradient's norm before the first iteration.
    pub initial_gradient_norm: f64,
    /// One entry per iteration.
    pub iterations: Vec<Iteration>,
    /// Evaluations of the loss and gradient in all.
    pub evaluations: u64,
    /// Why it stopped (argmin's words).
    pub stopped: String,
    /// The fraction predicted right at the end (filled in by the caller; NaN until then).
    pub accuracy: f64,
}

/// The result of [`minimize`].
#[derive(Debug, Clone)]
pub struct Minimized {
    /// The parameters of the lowest loss.
    pub params: Vec<f64>,
    /// The loss before the first iteration.
    pub initial_loss: f64,
    /// The iterations.
    pub history: History,
}

/// The Euclidean norm.
fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// A point with its loss and gradient.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

/// argmin's view of an [`Objective`]: one pass per new point, the last one cached.
struct Problem<O> {
    objective: RefCell<O>,
    last: RefCell<Option<Evaluated>>,
    failure: Rc<RefCell<Option<Error>>>,
    passes: Rc<Cell<u64>>,
}

impl<O: Objective> Problem<O> {
    fn eval(&self, p: &[f64]) -> std::result::Result<(f64, Vec<f64>), argmin::core::Error> {
        let same = |q: &[f64]| q.len() == p.len() && q.iter().zip(p).all(|(a, b)| a.to_bits() == b.to_bits());
        if let Some((q, cost, g)) = &*self.last.borrow() {
            if same(q) {
                return Ok((*cost, g.clone()));
            }
        }
        if let Some(e) = &*self.failure.borrow() {
            // Failed before: no more collectives.
            return Err(argmin::core::Error::msg(e.to_string()));
        }
        self.passes.set(self.passes.get() + 1);
        match self.objective.borrow_mut().eval(p) {
            Ok((cost, g)) => {
                *self.last.borrow_mut() = Some((p.to_vec(), cost, g.clone()));
                Ok((cost, g))
            }
            Err(e) => {
                let text = e.to_string();
                *self.failure.borrow_mut() = Some(e);
                Err(argmin::core::Error::msg(text))
            }
        }
    }
}

impl<O: Objective> CostFunction for Problem<O> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, p: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        self.eval(p).map(|(cost, _)| cost)
    }
}

impl<O: Objective> Gradient for Problem<O> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, p: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        self.eval(p).map(|(_, g)| g)
    }
}

type Iterate = IterState<Vec<f64>, Vec<f64>, (), (), (), f64>;

/// Records every iteration and shows it on rank 0's bar.
struct Recorder {
    log: Rc<RefCell<Vec<Iteration>>>,
    passes: Rc<Cell<u64>>,
    start: Instant,
    bar: Bar,
}

impl Observe<Iterate> for Recorder {
    fn observe_iter(&mut self, state: &Iterate, _kv: &KV) -> std::result::Result<(), argmin::core::Error> {
        // A line search that gave up leaves no new point: nothing to record.
        let Some(g) = state.get_gradient() else { return Ok(()) };
        let it = Iteration {
            iteration: state.get_iter() as usize + 1,
            loss: state.get_cost(),
            gradient_norm: norm(g),
            evaluations: self.passes.get(),
            time_s: self.start.elapsed().as_secs_f64(),
        };
        self.bar.inc(1);
        self.bar.message(format!(
            "loss {:.4e}, gradient {:.3e}, {} evaluations",
            it.loss, it.gradient_norm, it.evaluations
        ));
        self.log.borrow_mut().push(it);
        Ok(())
    }
}

/// Minimizes `objective` from `initial` (every rank calls it, with the same figures).
pub fn minimize<O: Objective>(objective: O, initial: Vec<f64>, s: &Settings, rank: usize) -> Result<Minimized> {
    let invalid = |msg: String| Error::InvalidInput { program: "train", msg };
    if let Some(msg) = s.invalid() {
        return Err(invalid(msg));
    }
    let failure = Rc::new(RefCell::new(None));
    let passes = Rc::new(Cell::new(0));
    let log = Rc::new(RefCell::new(Vec::new()));
    let problem = Problem {
        objective: RefCell::new(objective),
        last: RefCell::new(None),
        failure: failure.clone(),
        passes: passes.clone(),
    };
    // The first point's loss and gradient, kept for the report.
    let first = problem.eval(&initial);
    let (initial_loss, g0) =
        first.map_err(|e| failure.borrow_mut().take().unwrap_or_else(|| invalid(e.to_string())))?;
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), s.memory)
        .with_tolerance_grad(s.tolerance)
        .map_err(|e| invalid(e.to_string()))?;
    let recorder = Recorder {
        log: log.clone(),
        passes: passes.clone(),
        start: Instant::now(),
        bar: Bar::new(rank, s.iterations as u64, "L-BFGS iterations"),
    };
    let run = Executor::new(problem, solver)
        // argmin's init asks for the first point's cost and gradient again: from the cache.
        // (Giving them here would set the previous cost too, and stop it at once.)
        .configure(|state| state.param(initial).max_iters(s.iterations as u64))
        .add_observer(recorder, ObserverMode::Always)
        .run();
    if let Some(e) = failure.borrow_mut().take() {
        return Err(e);
    }
    let mut state = run.map_err(|e| invalid(format!("L-BFGS failed: {e}")))?.state;
    let stopped = state.get_termination_reason().map_or("not terminated".into(), |r| r.text().to_string());
    let params = state.take_best_param().ok_or_else(|| invalid("L-BFGS ended without parameters".into()))?;
    let iterations = log.take();
    let history = History {
        settings: *s,
        initial_gradient_norm: norm(&g0),
        iterations,
        evaluations: passes.get(),
        stopped,
        accuracy: f64::NAN,
    };
    Ok(Minimized { params, initial_loss, history })
}
