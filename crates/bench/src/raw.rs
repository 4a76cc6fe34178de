//! The baseline: the same loops written directly on rsmpi, as an rsmpi user would.

use std::time::Instant;

use mpi::collective::SystemOperation;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use parsci_comm::Error;

use crate::measure::{Buffers, Kind, Loops};

/// `MPI_COMM_WORLD` through rsmpi (MPI must already be initialised, by parsci's backend).
pub(crate) struct Raw(SimpleCommunicator);

impl Raw {
    pub(crate) fn world() -> Self {
        Raw(SimpleCommunicator::world())
    }
}

impl Loops for Raw {
    fn barrier(&self) -> Result<(), Error> {
        self.0.barrier();
        Ok(())
    }

    fn max(&self, t: f64) -> Result<f64, Error> {
        let mut worst = 0.0;
        self.0.all_reduce_into(&t, &mut worst, SystemOperation::max());
        Ok(worst)
    }

    fn timed(&self, kind: Kind, b: &mut Buffers, iters: usize) -> Result<f64, Error> {
        let w = &self.0;
        let me = w.rank();
        let root = w.process_at_rank(0);
        let start = Instant::now();
        match kind {
            Kind::PingPong if me < 2 => {
                let peer = w.process_at_rank(1 - me);
                for _ in 0..iters {
                    if me == 0 {
                        peer.send_with_tag(&b.bytes[..], 1);
                        peer.receive_into_with_tag(&mut b.bytes[..], 1);
                    } else {
                        peer.receive_into_with_tag(&mut b.bytes[..], 1);
                        peer.send_with_tag(&b.bytes[..], 1);
                    }
                }
            }
            Kind::PingPong => {}
            Kind::Barrier => {
                for _ in 0..iters {
                    w.barrier();
                }
            }
            Kind::Reduce => {
                for _ in 0..iters {
                    if me == 0 {
                        root.reduce_into_root(&b.send[..], &mut b.recv[..], SystemOperation::sum());
                    } else {
                        root.reduce_into(&b.send[..], SystemOperation::sum());
                    }
                }
            }
            Kind::Allreduce => {
                for _ in 0..iters {
                    w.all_reduce_into(&b.send[..], &mut b.recv[..], SystemOperation::sum());
                }
            }
            Kind::Bcast => {
                for _ in 0..iters {
                    root.broadcast_into(&mut b.bytes[..]);
                }
            }
            Kind::Gather => {
                for _ in 0..iters {
                    if me == 0 {
                        root.gather_into_root(&b.bytes[..], &mut b.bytes_out[..]);
                    } else {
                        root.gather_into(&b.bytes[..]);
                    }
                }
            }
            Kind::Scatter => {
                for _ in 0..iters {
                    if me == 0 {
                        root.scatter_into_root(&b.bytes_out[..], &mut b.bytes[..]);
                    } else {
                        root.scatter_into(&mut b.bytes[..]);
                    }
                }
            }
            Kind::Allgather => {
                for _ in 0..iters {
                    w.all_gather_into(&b.bytes[..], &mut b.bytes_out[..]);
                }
            }
            Kind::Alltoall => {
                for _ in 0..iters {
                    w.all_to_all_into(&b.bytes_all[..], &mut b.bytes_out[..]);
                }
            }
            Kind::Ibarrier => {
                for _ in 0..iters {
                    w.immediate_barrier().wait();
                }
            }
            Kind::Ibcast => {
                for _ in 0..iters {
                    mpi::request::scope(|s| root.immediate_broadcast_into(s, &mut b.bytes[..]).wait());
                }
            }
            Kind::Iallreduce => {
                for _ in 0..iters {
                    mpi::request::scope(|s| {
                        w.immediate_all_reduce_into(s, &b.send[..], &mut b.recv[..], SystemOperation::sum()).wait()
                    });
                }
            }
            Kind::ReduceScatter => {
                for _ in 0..iters {
                    w.reduce_scatter_block_into(&b.send[..], &mut b.recv[..], SystemOperation::sum());
                }
            }
        }
        Ok(start.elapsed().as_secs_f64())
    }
}
