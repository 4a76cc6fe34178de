//! The collectives that move data without combining it: barrier, bcast, scatter(v),
//! gather(v), allgather(v).

use super::super::comm::ThreadComm;
use super::area::{dst, share, src, stageable, Call, Calls};
use super::flags::Reads;
use super::verdict::counts_equal;
use crate::collective::Layout;
use crate::copy::FastCopy;
use crate::data::Data;
use crate::error::Result;

impl ThreadComm {
    pub fn barrier(&self) -> Result<()> {
        // No buffers to protect: the opening meeting is the barrier (slots are used in turn).
        self.small_collective(Call::new::<u8>("barrier"), None, |_| None, &[], |_| ())
    }

    pub fn bcast<T: Data>(&self, buf: &mut [T], root: usize) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().bcast(root);
        if stageable::<T>(buf.len()) {
            let mine = Call { root, count: buf.len(), ..Call::new::<T>("bcast") };
            if me == root {
                let staged = bytemuck::cast_slice(buf);
                return self.small_rooted(mine, err, counts_equal("bcast"), staged, Reads::Nobody, |_| ());
            }
            return self.small_rooted(mine, err, counts_equal("bcast"), &[], Reads::Root(root), |s| {
                // SAFETY: the root's stage holds `count` elements (counts checked equal).
                buf.fast_copy_from(unsafe { src(s.stage(root), 0, buf.len()) });
            });
        }
        let mine = Call { root, count: buf.len(), recv: buf.as_mut_ptr().cast(), ..Call::new::<T>("bcast") };
        self.collective(mine, err, counts_equal("bcast"), |s| {
            // Every rank (the root too) copies its share of the data to every receiver.
            let from = s.get(root);
            let part = share::<T>(from.count, me, p);
            for r in (0..p).filter(|&r| r != root) {
                // SAFETY: the root only reads its buffer during bcast; each receiver's
                // range `part` is written by this rank alone; lengths checked equal.
                unsafe {
                    dst::<T>(s.get(r).recv, part.start, part.len()).fast_copy_from(src(
                        from.recv,
                        part.start,
                        part.len(),
                    ))
                };
            }
        })
    }

    pub fn scatter<T: Data>(&self, send: Option<&[T]>, recv: &mut [T], root: usize) -> Result<()> {
        let (me, n) = (self.rank, recv.len());
        let err = self.caller().scatter(root, send.map(<[T]>::len), n);
        let mut mine = Call { root, count: n, recv: recv.as_mut_ptr().cast(), ..Call::new::<T>("scatter") };
        if let Some(b) = send.filter(|_| me == root) {
            mine.send = b.as_ptr().cast();
        }
        if stageable::<T>(n.saturating_mul(self.size())) {
            // The root stages all the blocks (if its arguments are right: else it stages
            // nothing and everyone gets the error); each rank copies its own.
            let staged = match send {
                Some(b) if me == root && err.is_none() => bytemuck::cast_slice(b),
                _ => &[],
            };
            let reads = if me == root { Reads::Nobody } else { Reads::Root(root) };
            return self.small_rooted(mine, err, counts_equal("scatter"), staged, reads, |s| {
                // SAFETY: the root's stage holds p * n elements (checked on the root, counts equal).
                recv.fast_copy_from(unsafe { src(s.stage(root), me * n, n) });
            });
        }
        self.collective(mine, err, counts_equal("scatter"), |s| {
            // SAFETY: the root's send buffer holds p * n elements (checked); our recv is ours.
            unsafe { dst::<T>(s.get(me).recv, 0, n).fast_copy_from(src(s.get(root).send, me * n, n)) };
        })
    }

    pub fn scatterv<T: Data>(&self, send: Option<(&[T], &Layout)>, recv: &mut [T], root: usize) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().scatterv(root, send.map(|(b, l)| (b.len(), l)));
        let mut mine =
            Call { root, recv_len: recv.len(), recv: recv.as_mut_ptr().cast(), ..Call::new::<T>("scatterv") };
        if let Some((b, l)) = send.filter(|_| me == root) {
            mine.send = b.as_ptr().cast();
            mine.layout = l;
        }
        let agree = |s: &Calls| {
            let l = s.get(root).layout()?;
            (0..p).find(|&r| s.get(r).recv_len < l.counts()[r]).map(|r| {
                format!(
                    "scatterv: the root sends {} elements to rank {r}, whose buffer holds {}",
                    l.counts()[r],
                    s.get(r).recv_len
                )
            })
        };
        self.collective(mine, err, agree, |s| {
            let from = s.get(root);
            let l = from.layout().expect("the root published its layout");
            // SAFETY: layout checked against the root's buffer and our capacity.
            unsafe {
                dst::<T>(s.get(me).recv, 0, l.counts()[me]).fast_copy_from(src(
                    from.send,
                    l.displs()[me],
                    l.counts()[me],
                ))
            };
        })
    }

    pub fn gather<T: Data>(&self, send: &[T], recv: Option<&mut [T]>, root: usize) -> Result<()> {
        let (me, p, n) = (self.rank, self.size(), send.len());
        let err = self.caller().gather(root, n, recv.as_ref().map(|b| b.len()));
        let mut mine = Call { root, count: n, send: send.as_ptr().cast(), ..Call::new::<T>("gather") };
        if let Some(b) = recv.filter(|_| me == root) {
            mine.recv = b.as_mut_ptr().cast();
        }
        if stageable::<T>(n) {
            let recv = mine.recv;
            let (staged, reads) = (bytemuck::cast_slice(send), if me == root { Reads::All } else { Reads::Nobody });
            return self.small_rooted(mine, err, counts_equal("gather"), staged, reads, |s| {
                if me == root {
                    for r in 0..p {
                        // SAFETY: our own buffer holds p * n elements (checked); rank r's
                        // stage holds n (counts checked equal).
                        unsafe { dst::<T>(recv, r * n, n).fast_copy_from(src(s.stage(r), 0, n)) };
                    }
                }
            });
        }
        self.collective(mine, err, counts_equal("gather"), |s| {
            // SAFETY: block `me` of the root's buffer (checked long enough) is written by us alone.
            unsafe { dst::<T>(s.get(root).recv, me * n, n).fast_copy_from(send) };
        })
    }

    pub fn gatherv<T: Data>(&self, send: &[T], recv: Option<(&mut [T], &Layout)>, root: usize) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().gatherv(root, recv.as_ref().map(|(b, l)| (b.len(), *l)));
        let mut mine = Call { root, count: send.len(), send: send.as_ptr().cast(), ..Call::new::<T>("gatherv") };
        if let Some((b, l)) = recv.filter(|_| me == root) {
            mine.recv = b.as_mut_ptr().cast();
            mine.layout = l;
        }
        let agree = |s: &Calls| {
            let l = s.get(root).layout()?;
            (0..p).find(|&r| s.get(r).count != l.counts()[r]).map(|r| {
                format!(
                    "gatherv: rank {r} sends {} elements but the root's layout expects {}",
                    s.get(r).count,
                    l.counts()[r]
                )
            })
        };
        self.collective(mine, err, agree, |s| {
            let to = s.get(root);
            let l = to.layout().expect("the root published its layout");
            // SAFETY: our block of the root's buffer (layout checked) is written by us alone.
            unsafe { dst::<T>(to.recv, l.displs()[me], send.len()).fast_copy_from(send) };
        })
    }

    pub fn allgather<T: Data>(&self, send: &[T], recv: &mut [T]) -> Result<()> {
        let (me, p, n) = (self.rank, self.size(), send.len());
        let err = self.caller().allgather(n, recv.len());
        let mine = Call {
            count: n,
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            ..Call::new::<T>("allgather")
        };
        if stageable::<T>(n) {
            let recv = mine.recv;
            return self.small_collective(mine, err, counts_equal("allgather"), bytemuck::cast_slice(send), |s| {
                for r in 0..p {
                    // SAFETY: our own buffer holds p * n elements (checked); stages hold n.
                    unsafe { dst::<T>(recv, r * n, n).fast_copy_from(src(s.stage(r), 0, n)) };
                }
            });
        }
        self.collective(mine, err, counts_equal("allgather"), |s| {
            for r in 0..p {
                // SAFETY: block `me` of every buffer is written by us alone.
                unsafe { dst::<T>(s.get(r).recv, me * n, n).fast_copy_from(send) };
            }
        })
    }

    pub fn allgatherv<T: Data>(&self, send: &[T], recv: &mut [T], layout: &Layout) -> Result<()> {
        let (me, p) = (self.rank, self.size());
        let err = self.caller().allgatherv(send.len(), recv.len(), layout);
        let mine = Call {
            count: send.len(),
            send: send.as_ptr().cast(),
            recv: recv.as_mut_ptr().cast(),
            layout,
            ..Call::new::<T>("allgatherv")
        };
        let agree = |s: &Calls| {
            (1..p)
                .find(|&r| s.get(r).layout().map(Layout::counts) != s.get(0).layout().map(Layout::counts))
                .map(|r| format!("allgatherv: ranks 0 and {r} pass different layouts"))
        };
        self.collective(mine, err, agree, |s| {
            for r in 0..p {
                let to = s.get(r);
                let at = to.layout().expect("published").displs()[me];
                // SAFETY: our block of every buffer (layouts checked) is written by us alone.
                unsafe { dst::<T>(to.recv, at, send.len()).fast_copy_from(send) };
            }
        })
    }
}
