//! How a job's result travels from a worker to the master.

use parsci_comm::{Comm, Data, Result, Tag};
use serde::{de::DeserializeOwned, Serialize};

/// A way to move results of type `R` between ranks: as serde objects ([`Objects`], any
/// type) or as typed messages of plain data ([`Typed`], `Vec<T>` of numbers, moved
/// without encoding: the fast path for large results such as rows of pixels).
pub trait Carrier<R> {
    /// Sends `value` to `dest` with `tag`.
    fn send(&self, comm: &Comm, value: R, dest: usize, tag: Tag) -> Result<()>;
    /// Receives a value from `source` with `tag`.
    fn recv(&self, comm: &Comm, source: usize, tag: Tag) -> Result<R>;
}

/// Results travel as serde objects (`send_obj`/`recv_obj`): any serializable type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Objects;

impl<R: Serialize + DeserializeOwned> Carrier<R> for Objects {
    fn send(&self, comm: &Comm, value: R, dest: usize, tag: Tag) -> Result<()> {
        comm.send_obj(&value, dest, tag)
    }
    fn recv(&self, comm: &Comm, source: usize, tag: Tag) -> Result<R> {
        Ok(comm.recv_obj(source, tag)?.0)
    }
}

/// Results are `Vec<T>` of plain data and travel as typed messages (`send_vec`/`recv_vec`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Typed;

impl<T: Data> Carrier<Vec<T>> for Typed {
    fn send(&self, comm: &Comm, value: Vec<T>, dest: usize, tag: Tag) -> Result<()> {
        comm.send_vec(value, dest, tag)
    }
    fn recv(&self, comm: &Comm, source: usize, tag: Tag) -> Result<Vec<T>> {
        Ok(comm.recv_vec(source, tag)?.0)
    }
}
