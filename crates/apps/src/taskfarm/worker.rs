//! A worker: computes the jobs the master sends until it is told to stop.

use std::fmt::Display;

use parsci_comm::Comm;
use serde::de::DeserializeOwned;

use super::carrier::Carrier;
use super::farm::{run_job, FarmError};
use super::protocol::{Order, Report, ORDER_TAG, REPORT_TAG, RESULT_TAG};

/// Runs jobs from `master` until the stop order; returns the farm's failure if it had one.
pub(super) fn run<J, R, E, F, C>(comm: &Comm, master: usize, work: &F, carrier: &C) -> Result<(), FarmError>
where
    J: DeserializeOwned,
    E: Display,
    F: Fn(&J) -> Result<R, E>,
    C: Carrier<R>,
{
    loop {
        let (order, _) = comm.recv_obj::<Order<J>>(master, ORDER_TAG)?;
        match order {
            Order::Job { job, data } => match run_job(work, &data) {
                Ok(r) => {
                    comm.send_obj(&Report::Done { job }, master, REPORT_TAG)?;
                    carrier.send(comm, r, master, RESULT_TAG)?;
                }
                Err(message) => comm.send_obj(&Report::Failed { job, message }, master, REPORT_TAG)?,
            },
            Order::Stop { failure: None } => return Ok(()),
            Order::Stop { failure: Some(f) } => return Err(f.into()),
        }
    }
}
