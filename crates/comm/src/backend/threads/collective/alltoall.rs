//! All-to-all exchanges: alltoall and alltoallv.

use super::super::comm::ThreadComm;
use super::area::{dst, src, stageable, Call, Calls};
use super::verdict::counts_equal;
use crate::collective::Layout;
use crate::copy::FastCopy;
use crate::data::Data;
use crate::error::Result;

impl ThreadComm {
    pub fn alltoall<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let n = send.len() / p;
        let err = self.caller().alltoall(send.len(), recv.len());
        let mine =
            Call { count: n, send: send.as_ptr().cast(), recv: recv.as_mut_ptr().cast(), ..Call::new::<T>("alltoall") };
        if stageable::<T>(n.saturating_mul(p)) {
            // Every rank stages its send buffer (nothing if its arguments are wrong: then
            // everyone gets the error) and copies its blocks out of the others' stages.
            let staged = if err.is_none() { bytemuck::cast_slice(send) } else { &[] };
            return self.small_collective(mine, err, counts_equal("alltoall"), staged, |s| {
                for r in 0..p {
                    // SAFETY: rank r's stage holds p * n elements (its arguments checked,
                    // counts equal); our buffer holds p * n (checked).
                    unsafe { dst::<T>(recv.as_mut_ptr().cast(), r * n, n).fast_copy_from(src(s.stage(r), me * n, n)) };
                }
            });
        }
        self.collective(mine, err, counts_equal("alltoall"), |s| {
            let to = s.get(me).recv;
            for r in 0..p {
                // SAFETY: block `me` of rank r's send buffer is read only; our buffer is ours.
                unsafe { dst::<T>(to, r * n, n).fast_copy_from(src(s.get(r).send, me * n, n)) };
            }
        })
    }

    pub fn alltoallv<T: Data>(
        &self,
        send: &[T],
        send_layout: &Layout,
        recv: &mut [T],
        recv_layout: &Layout,
    ) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().alltoallv(send.len(), send_layout, recv.len(), recv_layout);
        let mine = Call {
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            layout: send_layout,
            layout2: recv_layout,
            ..Call::new::<T>("alltoallv")
        };
        let agree = |s: &Calls| {
            for i in 0..p {
                for j in 0..p {
                    let sent = s.get(i).layout().expect("published").counts()[j];
                    let expected = s.get(j).layout2().expect("published").counts()[i];
                    if sent != expected {
                        return Some(format!(
                            "alltoallv: rank {i} sends {sent} elements to rank {j}, which expects {expected}"
                        ));
                    }
                }
            }
            None
        };
        self.collective(mine, err, agree, |s| {
            let to = s.get(me);
            let rl = to.layout2().expect("published");
            for r in 0..p {
                let from = s.get(r);
                let sl = from.layout().expect("published");
                // SAFETY: layouts checked against both buffers; our blocks are ours.
                unsafe {
                    dst::<T>(to.recv, rl.displs()[r], rl.counts()[r]).fast_copy_from(src(
                        from.send,
                        sl.displs()[me],
                        sl.counts()[me],
                    ))
                };
            }
        })
    }
}
