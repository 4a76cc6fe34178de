//! The agreement of the ranks on a collective's arguments, on MPI.
//!
//! MPI cannot compare the arguments of a collective across ranks: a count that differs
//! between ranks is erroneous MPI, which Open MPI reports only sometimes (a truncated
//! message) and otherwise answers with wrong data, a hang, or (for large messages) a
//! write past the receive buffer. Agreement is one `MPI_Allreduce` (`MPI_MIN` on a few
//! `i64`s, see [`crate::collective::agree`]) of what the thread backend compares in
//! shared memory: the operation, root, element type, reduction and counts, and whether a
//! rank rejected its own arguments. `gatherv` and `scatterv` add one allreduce of a field
//! per rank, `alltoallv` an `MPI_Alltoall` of its counts and one allreduce of the
//! verdict. When the ranks disagree, all of them know it from the same result: they
//! exchange their calls and return the thread backend's `CollectiveMismatch`, every one
//! of them, so that nobody waits in a collective the others left.
//!
//! It runs before every collective with the check on (`JobOptions::check_collectives`,
//! `PARSCI_CHECK=1`, `parsci --check`), and without it wherever a mismatch could make
//! MPI write past a buffer (large messages, the `v` collectives but `scatterv`).

use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, Ordering};

use super::comm::MpiComm;
use super::types::datatype;
use crate::collective::agree::{agreed, disagreement, pack, Call, CallRecord, Field, HEADER};
use crate::data::ObjByte;
use crate::error::{Error, Result};
use crate::p2p::{decode, encode};

/// The check is on for this process (one rank per process: a job-wide option).
static CHECK: AtomicBool = AtomicBool::new(false);

/// Turns the check on or off for the collectives that follow (set by `launch_with`).
pub(crate) fn set_check_collectives(on: bool) {
    CHECK.store(on, Ordering::Relaxed);
}

/// True if collectives check that the ranks agree.
#[inline]
pub(crate) fn checking() -> bool {
    CHECK.load(Ordering::Relaxed)
}

impl MpiComm {
    /// The verdict on this rank's `call` of a collective: its own argument error `err`, and
    /// with the check on (or where a mismatch could overflow a buffer, see
    /// [`Call::needs_agreement`]), a disagreement between the ranks (the same on every rank).
    #[inline]
    pub(super) fn agree(&self, call: Call, err: Option<Error>) -> Result<()> {
        if !checking() && !call.needs_agreement() {
            return err.map_or(Ok(()), Err);
        }
        self.agree_checked(call, err)
    }

    #[inline(never)]
    fn agree_checked(&self, call: Call, err: Option<Error>) -> Result<()> {
        let header = call.header(err.is_some());
        let mut all = self.fields_agree(call.op, &header)?;
        if all {
            if let Some(fields) = call.per_rank(self.rank(), self.size()) {
                all = self.fields_agree(call.op, &fields)?;
            } else if let (Some(sl), Some(rl)) = (call.layout, call.layout2) {
                all = self.alltoallv_counts_agree(call.op, sl.counts(), rl.counts())?;
            }
        }
        if all {
            return Ok(());
        }
        Err(self.disagreement(call, err)?)
    }

    /// One `MPI_Allreduce` (`MPI_MIN`) of the packed fields: true if every rank agrees.
    fn fields_agree(&self, op: &'static str, fields: &[Field]) -> Result<bool> {
        let mut send = [0i64; 2 * HEADER];
        let mut recv = [0i64; 2 * HEADER];
        let mut packed = Vec::new();
        let mut result = Vec::new();
        let (s, r): (&[i64], &mut [i64]) = if fields.len() <= HEADER {
            let n = 2 * fields.len();
            for (i, f) in fields.iter().enumerate() {
                send[i] = -f.0;
                send[fields.len() + i] = f.1;
            }
            (&send[..n], &mut recv[..n])
        } else {
            pack(fields, &mut packed);
            result.resize(packed.len(), 0);
            (&packed, &mut result)
        };
        let n = self.count(op, s.len())?;
        // SAFETY: a predefined op, read from rsmpi's constant.
        let min = unsafe { mpi::ffi::RSMPI_MIN };
        // SAFETY: both buffers hold n i64s.
        self.collective(op, || unsafe {
            mpi::ffi::MPI_Allreduce(s.as_ptr().cast(), r.as_mut_ptr().cast(), n, datatype::<i64>(), min, self.raw())
        })?;
        Ok(agreed(r))
    }

    /// `alltoallv`: each rank learns what the others send it (`MPI_Alltoall` of the send
    /// counts), compares with its receive counts, and the ranks agree on the verdict.
    fn alltoallv_counts_agree(&self, op: &'static str, sent: &[usize], expected: &[usize]) -> Result<bool> {
        let p = self.size();
        let send: Vec<i64> = sent.iter().map(|&c| c as i64).collect();
        let mut got = vec![0i64; p];
        let dt = datatype::<i64>();
        // SAFETY: both buffers hold p blocks of one i64 (the layouts have p blocks: checked).
        self.collective(op, || unsafe {
            mpi::ffi::MPI_Alltoall(send.as_ptr().cast(), 1, dt, got.as_mut_ptr().cast(), 1, dt, self.raw())
        })?;
        let ok = got.iter().zip(expected).all(|(&g, &e)| g == e as i64);
        self.fields_agree(op, &[(i64::from(!ok), 0)])
    }

    /// Once the ranks know they disagree: every rank's whole call, then this rank's error
    /// (its own argument error, or the thread backend's description of the mismatch).
    #[cold]
    fn disagreement(&self, call: Call, err: Option<Error>) -> Result<Error> {
        let (me, p) = (self.rank(), self.size());
        let mine = encode(&call.record(err.as_ref()), call.op, me, me, -1)?;
        let mut lens = vec![0i64; p];
        let (i64t, u8t) = (datatype::<i64>(), datatype::<u8>());
        let len = mine.len() as i64;
        // SAFETY: one i64 in, p out.
        self.collective(call.op, || unsafe {
            mpi::ffi::MPI_Allgather((&len as *const i64).cast(), 1, i64t, lens.as_mut_ptr().cast(), 1, i64t, self.raw())
        })?;
        let counts: Vec<c_int> = lens.iter().map(|&n| self.count(call.op, n as usize)).collect::<Result<_>>()?;
        let mut displs = Vec::with_capacity(p);
        let mut total: usize = 0;
        for &c in &counts {
            displs.push(self.count(call.op, total)?);
            total += c as usize;
        }
        let mut all = vec![ObjByte(0); total.max(1)];
        let n = self.count(call.op, mine.len())?;
        // SAFETY: `all` holds the sum of the counts, each block at its displacement.
        self.collective(call.op, || unsafe {
            mpi::ffi::MPI_Allgatherv(
                mine.as_ptr().cast(),
                n,
                u8t,
                all.as_mut_ptr().cast(),
                counts.as_ptr(),
                displs.as_ptr(),
                u8t,
                self.raw(),
            )
        })?;
        let records = (0..p)
            .map(|r| {
                let at = displs[r] as usize;
                decode::<CallRecord>(&all[at..at + counts[r] as usize], call.op, me, r, -1)
            })
            .collect::<Result<Vec<_>>>()?;
        if let Some(e) = err {
            return Ok(e);
        }
        let details = disagreement(&records)
            .unwrap_or_else(|| format!("{}: the ranks passed arguments that do not match", call.op));
        Ok(Error::CollectiveMismatch { caller: me, details })
    }
}
