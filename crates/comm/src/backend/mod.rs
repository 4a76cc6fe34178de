//! The backends behind [`Comm`](crate::Comm).

pub(crate) mod threads;
