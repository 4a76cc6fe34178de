//! Completing several requests: all of them, any one, or whichever are done (MPI's
//! `Waitall`, `Waitany`, `Waitsome`, `Testany`, `Testall`).
//!
//! The sets are slices of `Option<Request>`: a completed request is taken out (`None`,
//! as MPI sets it to `MPI_REQUEST_NULL`), so the indices keep their meaning from call to
//! call. A request that fails is taken out too, and its error returned.

use crate::error::Result;
use crate::p2p::{Request, Status};

/// Waits for every request, in order; returns their statuses or the first error.
pub fn wait_all(requests: Vec<Request<'_>>) -> Result<Vec<Status>> {
    let _t = crate::p2p::wait_call("wait_all", None);
    let mut out = Vec::with_capacity(requests.len());
    let mut first_err = None;
    for r in requests {
        match r.wait() {
            Ok(s) => out.push(s),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// Completes one request that is ready, if any: its index and status.
/// `Ok(None)` if none is ready now (or none is left).
///
/// ```
/// use parsci_comm::{launch, test_any, wait_any, Backend};
/// let out = launch(Backend::Threads(3), |comm| {
///     let (me, p) = (comm.rank(), comm.size());
///     if me > 0 {
///         comm.send(&[me as u32], 0, 0)?;
///         return Ok(vec![]);
///     }
///     let mut bufs = vec![[0u32]; p];
///     let mut reqs: Vec<_> =
///         bufs.iter_mut().enumerate().skip(1).map(|(r, b)| comm.irecv(b, r, 0).map(Some)).collect::<Result<_, _>>()?;
///     let mut order = Vec::new();
///     while let Some((i, st)) = wait_any(&mut reqs)? {
///         order.push((i, st.source)); // request i came from rank i + 1
///     }
///     assert_eq!(test_any(&mut reqs)?, None);
///     drop(reqs);
///     order.sort();
///     assert_eq!(bufs, vec![[0], [1], [2]]);
///     Ok::<_, parsci_comm::Error>(order)
/// })
/// .unwrap();
/// assert_eq!(out.into_root().unwrap(), vec![(0, 1), (1, 2)]);
/// ```
pub fn test_any(requests: &mut [Option<Request<'_>>]) -> Result<Option<(usize, Status)>> {
    let _t = crate::p2p::wait_call("test_any", None);
    for (i, slot) in requests.iter_mut().enumerate() {
        let Some(r) = slot else { continue };
        match r.test() {
            Ok(None) => {}
            Ok(Some(st)) => {
                *slot = None;
                return Ok(Some((i, st)));
            }
            Err(e) => {
                *slot = None;
                return Err(e);
            }
        }
    }
    Ok(None)
}

/// Blocks until one request completes: its index and status; `Ok(None)` if none is left.
/// On the thread backend a waiting rank parks (and counts for the deadlock detector) as
/// in any blocking call.
pub fn wait_any(requests: &mut [Option<Request<'_>>]) -> Result<Option<(usize, Status)>> {
    let _t = crate::p2p::wait_call("wait_any", None);
    if requests.iter().all(Option::is_none) {
        return Ok(None);
    }
    block_until(requests, "wait_any", test_any).map(Some)
}

/// Blocks until at least one request completes; returns every one that is complete
/// (index and status), or an empty list if none is left.
pub fn wait_some(requests: &mut [Option<Request<'_>>]) -> Result<Vec<(usize, Status)>> {
    let _t = crate::p2p::wait_call("wait_some", None);
    if requests.iter().all(Option::is_none) {
        return Ok(Vec::new());
    }
    block_until(requests, "wait_some", |reqs| {
        let done = test_some(reqs)?;
        Ok((!done.is_empty()).then_some(done))
    })
}

/// Every request that is complete now (index and status), taken out of the set.
pub fn test_some(requests: &mut [Option<Request<'_>>]) -> Result<Vec<(usize, Status)>> {
    let _t = crate::p2p::wait_call("test_some", None);
    let mut done = Vec::new();
    while let Some(d) = test_any(requests)? {
        done.push(d);
    }
    Ok(done)
}

/// The statuses of all the requests if every one is complete (they are then taken out);
/// `Ok(None)`, and nothing taken out, if some is not.
pub fn test_all(requests: &mut [Option<Request<'_>>]) -> Result<Option<Vec<Status>>> {
    let _t = crate::p2p::wait_call("test_all", None);
    let mut out = Vec::with_capacity(requests.len());
    for r in requests.iter_mut().flatten() {
        // A completed request keeps answering with its status: testing again is free.
        match r.test()? {
            Some(st) => out.push(st),
            None => return Ok(None),
        }
    }
    requests.iter_mut().for_each(|r| *r = None);
    Ok(Some(out))
}

/// Polls `ready` until it yields: parked like any blocking call when the requests belong
/// to the thread backend, else polling with progress (what `MPI_Waitany` does).
fn block_until<'a, R>(
    requests: &mut [Option<Request<'a>>],
    op: &'static str,
    mut ready: impl FnMut(&mut [Option<Request<'a>>]) -> Result<Option<R>>,
) -> Result<R> {
    if let Some(comm) = requests.iter().flatten().find_map(Request::thread_comm) {
        let desc = || comm.wait_desc(op, crate::p2p::ANY_SOURCE, crate::p2p::ANY_TAG);
        return comm.world().wait_until(comm.me(), desc, || ready(requests));
    }
    #[cfg(feature = "mpi")]
    let _w = crate::backend::mpi::watchdog_guard(op);
    let mut polls = 0u32;
    loop {
        if let Some(r) = ready(requests)? {
            return Ok(r);
        }
        polls = polls.wrapping_add(1);
        if polls.is_multiple_of(1024) {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}
