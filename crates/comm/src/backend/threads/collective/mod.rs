//! Collectives on the thread backend, over shared memory.
//!
//! Every collective runs the same three steps (`protocol`): each rank publishes a
//! description of its call (buffers, counts, root) in its slot of the communicator's
//! shared `area`; a barrier; every rank checks that all calls agree (`verdict`), then
//! moves its share of the data directly between the ranks' buffers (`movement`,
//! `reduction`, `alltoall`); a second barrier keeps every buffer alive until nobody
//! reads it any more. Slots are used in turn (two or four per rank), so a rank may start
//! the next collective while a slow one still reads the previous slots.
//!
//! Communicators of up to 64 ranks open a collective by per-rank numbers instead of the
//! first barrier (`flags`): a rank waits only for the ranks whose slots it reads, small
//! data travels in the slot's first cache line, and (without the agreement check) a rank
//! that reads nobody's slot does not wait at all.
//!
//! When the job aborts, a rank may leave only before everyone has arrived at the first
//! barrier (it then withdraws its arrival): after that, the others use its buffers, so it
//! stays to the second barrier, and a panic in a user op resumes only there.

mod alltoall;
mod area;
mod flags;
mod in_place;
mod movement;
mod protocol;
mod reduce_scatter;
mod reduction;
mod verdict;

pub(crate) use area::CollArea;
