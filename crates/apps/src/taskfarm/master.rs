//! The master: hands out jobs to whichever worker reports, collects the results,
//! computes jobs itself between requests if asked to, and stops every worker.
//!
//! Orders go out as non-blocking sends: a worker busy with its previous job posts the
//! receive of its next order only after it has reported, and MPI need not buffer a
//! send, so a master blocked in a send to it would wait for a worker that waits for
//! the master (strict mode, `--sync-sends`, makes the thread backend check this).

use std::fmt::Display;

use parsci_comm::{Comm, Request, ANY_SOURCE};
use serde::Serialize;

use super::carrier::Carrier;
use super::farm::{run_job, Assignment, FarmError, FarmLog, FarmOptions};
use super::protocol::{Failure, OrderRef, Report, ORDER_TAG, REPORT_TAG, RESULT_TAG};

/// The master's state for one farm.
pub(super) struct Master<'a, J, C, S> {
    comm: &'a Comm,
    /// The jobs (`None` if the caller passed none: every worker is stopped with an error).
    jobs: Option<&'a [J]>,
    /// The next job to hand out.
    next: usize,
    computes: bool,
    in_flight: usize,
    carrier: C,
    sink: S,
    /// Jobs handed to each rank and not yet reported.
    outstanding: Vec<usize>,
    /// Ranks that were sent their stop order (the master counts as stopped).
    stopped: Vec<bool>,
    /// Workers with nothing to do, whose stop order waits until the farm's outcome is
    /// known (a job still running elsewhere may yet fail).
    idle: Vec<bool>,
    /// The first failure; once set, no job is handed out any more.
    failure: Option<Failure>,
    log: FarmLog,
    /// Orders sent and not yet known to be received.
    orders: Vec<Request<'a>>,
}

impl<'a, J: Serialize, C, S> Master<'a, J, C, S> {
    pub(super) fn new(comm: &'a Comm, options: &FarmOptions, jobs: Option<&'a [J]>, carrier: C, sink: S) -> Self {
        let size = comm.size();
        let me = comm.rank();
        let n = jobs.map_or(0, <[J]>::len);
        let failure = jobs.is_none().then(|| Failure::Master {
            message: format!("the master (rank {me}) passed no jobs; it must pass Some(jobs)"),
        });
        Master {
            comm,
            jobs,
            next: 0,
            // With no worker the master must compute.
            computes: options.master_computes || size == 1,
            in_flight: options.in_flight,
            carrier,
            sink,
            outstanding: vec![0; size],
            stopped: (0..size).map(|r| r == me).collect(),
            idle: vec![false; size],
            failure,
            log: FarmLog { assignments: Vec::with_capacity(n), done_by: vec![usize::MAX; n] },
            orders: Vec::new(),
        }
    }

    fn n_jobs(&self) -> usize {
        self.jobs.map_or(0, <[J]>::len)
    }

    /// Runs the farm to the end; the log, or the first failure.
    pub(super) fn run<R, E, F>(mut self, work: &F) -> Result<FarmLog, FarmError>
    where
        E: Display,
        F: Fn(&J) -> Result<R, E>,
        C: Carrier<R>,
        S: FnMut(usize, R),
    {
        let workers: Vec<usize> = (0..self.comm.size()).filter(|&r| !self.stopped[r]).collect();
        for _ in 0..self.in_flight {
            for &w in &workers {
                if !self.stopped[w] {
                    self.assign_or_stop(w)?;
                }
            }
        }
        loop {
            self.stop_idle_if_settled()?;
            if self.computes && self.has_work() {
                self.serve_pending()?;
                if self.has_work() {
                    self.compute_one(work);
                }
            } else if self.outstanding.iter().any(|&o| o > 0) || self.stopped.iter().any(|s| !s) {
                self.serve_one()?;
            } else {
                break;
            }
        }
        // Every worker has taken its stop order by the time it returns.
        parsci_comm::wait_all(std::mem::take(&mut self.orders))?;
        match self.failure {
            Some(f) => Err(f.into()),
            None => Ok(self.log),
        }
    }

    /// Sends `order` to worker `w` without waiting for the worker to take it.
    fn order(&mut self, order: &OrderRef<'_, J>, w: usize) -> Result<(), FarmError> {
        let sent = self.comm.isend_obj(order, w, ORDER_TAG)?;
        self.orders.push(sent);
        // Forget the orders already taken, so the list stays as short as the workers.
        let mut taken = Vec::new();
        for (i, r) in self.orders.iter_mut().enumerate() {
            if r.test()?.is_some() {
                taken.push(i);
            }
        }
        for i in taken.into_iter().rev() {
            drop(self.orders.swap_remove(i));
        }
        Ok(())
    }

    /// Whether jobs remain to hand out.
    fn has_work(&self) -> bool {
        self.failure.is_none() && self.next < self.n_jobs()
    }

    /// The master computes the next job itself.
    fn compute_one<R, E, F>(&mut self, work: &F)
    where
        E: Display,
        F: Fn(&J) -> Result<R, E>,
        S: FnMut(usize, R),
    {
        let (job, me) = (self.next, self.comm.rank());
        self.next += 1;
        self.log.assignments.push(Assignment { job, worker: me });
        let jobs = self.jobs.expect("has_work implies jobs");
        match run_job(work, &jobs[job]) {
            Ok(r) => {
                self.log.done_by[job] = me;
                (self.sink)(job, r);
            }
            Err(message) => self.fail(job, me, message),
        }
    }

    fn fail(&mut self, job: usize, rank: usize, message: String) {
        self.failure.get_or_insert(Failure::Job { job: job as u64, rank: rank as u64, message });
    }

    /// Serves every report that has already arrived, without blocking.
    fn serve_pending<R>(&mut self) -> Result<(), FarmError>
    where
        C: Carrier<R>,
        S: FnMut(usize, R),
    {
        while self.comm.iprobe(ANY_SOURCE, REPORT_TAG)?.is_some() {
            self.serve_one()?;
        }
        Ok(())
    }

    /// Waits for one worker's report, takes its result, and gives it its next order.
    fn serve_one<R>(&mut self) -> Result<(), FarmError>
    where
        C: Carrier<R>,
        S: FnMut(usize, R),
    {
        let (report, st) = self.comm.recv_obj::<Report>(ANY_SOURCE, REPORT_TAG)?;
        let w = st.source;
        let job = match &report {
            Report::Done { job } | Report::Failed { job, .. } => *job as usize,
        };
        if self.outstanding[w] == 0 || job >= self.n_jobs() {
            let message = format!("rank {w} reported {report:?}, which it was not given");
            return Err(FarmError::Protocol { rank: self.comm.rank(), message });
        }
        self.outstanding[w] -= 1;
        match report {
            Report::Done { .. } => {
                let r = self.carrier.recv(self.comm, w, RESULT_TAG)?;
                if self.failure.is_none() {
                    self.log.done_by[job] = w;
                    (self.sink)(job, r);
                }
            }
            Report::Failed { message, .. } => self.fail(job, w, message),
        }
        if !self.stopped[w] {
            self.assign_or_stop(w)?;
        }
        Ok(())
    }

    /// Sends worker `w` the next job; when there is none, its stop order once the farm's
    /// outcome is known, else it waits as idle.
    fn assign_or_stop(&mut self, w: usize) -> Result<(), FarmError> {
        if self.has_work() {
            let job = self.next;
            self.next += 1;
            let data = &self.jobs.expect("has_work implies jobs")[job];
            self.order(&OrderRef::Job { job: job as u64, data }, w)?;
            self.outstanding[w] += 1;
            self.log.assignments.push(Assignment { job, worker: w });
        } else {
            self.idle[w] = true;
            self.stop_idle_if_settled()?;
        }
        Ok(())
    }

    /// Once the outcome is known (a job failed, or every job is done), sends the idle
    /// workers their stop order carrying it, so every rank returns the same outcome.
    fn stop_idle_if_settled(&mut self) -> Result<(), FarmError> {
        let settled = self.failure.is_some() || (!self.has_work() && self.outstanding.iter().all(|&o| o == 0));
        if !settled {
            return Ok(());
        }
        for w in 0..self.idle.len() {
            if self.idle[w] {
                let order: OrderRef<'_, J> = OrderRef::Stop { failure: self.failure.clone() };
                self.order(&order, w)?;
                self.idle[w] = false;
                self.stopped[w] = true;
            }
        }
        Ok(())
    }
}
