//! Collectives on the thread backend, over shared memory.
//!
//! Every collective runs the same three steps (`protocol`): each rank publishes a
//! description of its call (buffers, counts, root) in its slot of the communicator's
//! shared `area`; a barrier; every rank checks that all calls agree (`verdict`), then
//! moves its share of the data directly between the ranks' buffers (`movement`,
//! `reduction`, `alltoall`); a second barrier keeps every buffer alive until nobody
//! reads it any more. Slots are double-buffered, so a rank may start the next
//! collective while a slow one still reads the previous slots.
//!
//! When the job aborts, a rank may leave only before everyone has arrived at the first
//! barrier (it then withdraws its arrival): after that, the others use its buffers, so it
//! stays to the second barrier, and a panic in a user op resumes only there.

mod alltoall;
mod area;
mod movement;
mod protocol;
mod reduction;
mod verdict;

pub(crate) use area::CollArea;
