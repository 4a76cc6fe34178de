//! The halo exchange: each rank's edge rows and columns go to its four neighbours'
//! ghost cells, with non-blocking sends and receives so that the interior can be updated
//! while the messages travel.
//!
//! Two ways, the same messages: [`Halo::exchange`] lends the block's edge rows and the
//! receive buffers to a [`Scope`](parsci_comm::Scope) (no copies: MPI reads and writes
//! them in place), [`Halo::post`] copies them into and out of the requests (the plain
//! `isend`/`irecv`, kept to compare with).

use parsci_comm::{wait_all, CartComm, Request, Result, PROC_NULL};

use super::stencil::Block;

/// Tags: the direction the data travels.
const SOUTHWARD: i32 = 11;
const NORTHWARD: i32 = 12;
const EASTWARD: i32 = 13;
const WESTWARD: i32 = 14;

/// A rank's neighbours and its receive buffers.
#[derive(Debug)]
pub struct Halo {
    me: usize,
    north: usize,
    south: usize,
    west: usize,
    east: usize,
    from_north: Vec<f64>,
    from_south: Vec<f64>,
    from_west: Vec<f64>,
    from_east: Vec<f64>,
    column: Vec<f64>,
    /// The edge columns, packed for the scoped exchange (each lent to its own send).
    to_west: Vec<f64>,
    to_east: Vec<f64>,
}

impl Halo {
    /// The neighbours of this rank of `cart` (a `[py, px]` grid) around a block of `ny x nx`.
    pub fn new(cart: &CartComm, ny: usize, nx: usize) -> Halo {
        let (north, south) = cart.shift(0, 1);
        let (west, east) = cart.shift(1, 1);
        Halo {
            me: cart.rank(),
            north,
            south,
            west,
            east,
            from_north: vec![0.0; nx],
            from_south: vec![0.0; nx],
            from_west: vec![0.0; ny],
            from_east: vec![0.0; ny],
            column: vec![0.0; ny],
            to_west: vec![0.0; ny],
            to_east: vec![0.0; ny],
        }
    }

    /// Whether a neighbour along y is another rank (its ghost rows come by message).
    pub fn remote_y(&self) -> bool {
        self.remote(self.north) || self.remote(self.south)
    }

    /// Whether a neighbour along x is another rank.
    pub fn remote_x(&self) -> bool {
        self.remote(self.west) || self.remote(self.east)
    }

    fn remote(&self, r: usize) -> bool {
        r != PROC_NULL && r != self.me
    }

    /// Fills the ghosts that need no message: a periodic axis this rank spans alone
    /// wraps onto itself. (Dirichlet ghosts hold the wall value from the start.)
    pub fn fill_local(&mut self, u: &mut Block) {
        let (ny, nx) = (u.ny, u.nx);
        if self.north == self.me {
            let last = u.row(ny)[1..=nx].to_vec();
            u.row_mut(0)[1..=nx].copy_from_slice(&last);
        }
        if self.south == self.me {
            let first = u.row(1)[1..=nx].to_vec();
            u.row_mut(ny + 1)[1..=nx].copy_from_slice(&first);
        }
        if self.west == self.me {
            u.column(nx, &mut self.column);
            u.set_column(0, &self.column);
        }
        if self.east == self.me {
            u.column(1, &mut self.column);
            u.set_column(nx + 1, &self.column);
        }
    }

    /// Posts the receives and the sends of the remote neighbours' ghosts; wait for the
    /// requests, then call [`unpack`](Halo::unpack).
    pub fn post<'a>(&'a mut self, cart: &'a CartComm, u: &Block) -> Result<Vec<Request<'a>>> {
        let mut requests = Vec::with_capacity(8);
        let (me, north, south, west, east) = (self.me, self.north, self.south, self.west, self.east);
        let remote = |r: usize| r != PROC_NULL && r != me;
        if remote(north) {
            requests.push(cart.irecv(&mut self.from_north, north, SOUTHWARD)?);
        }
        if remote(south) {
            requests.push(cart.irecv(&mut self.from_south, south, NORTHWARD)?);
        }
        if remote(west) {
            requests.push(cart.irecv(&mut self.from_west, west, EASTWARD)?);
        }
        if remote(east) {
            requests.push(cart.irecv(&mut self.from_east, east, WESTWARD)?);
        }
        // Sends copy their data at once, so one column buffer serves both.
        if remote(north) {
            requests.push(cart.isend(u.cells(1), north, NORTHWARD)?);
        }
        if remote(south) {
            requests.push(cart.isend(u.cells(u.ny), south, SOUTHWARD)?);
        }
        if remote(west) {
            u.column(1, &mut self.column);
            requests.push(cart.isend(&self.column, west, WESTWARD)?);
        }
        if remote(east) {
            u.column(u.nx, &mut self.column);
            requests.push(cart.isend(&self.column, east, EASTWARD)?);
        }
        Ok(requests)
    }

    /// The exchange without copies: posts the receives and sends of the remote
    /// neighbours' ghosts in a scope, runs `interior` (which must not write `u`) while
    /// they travel, waits for them and copies the ghosts into `u`. Returns what
    /// `interior` returned, and the time spent in it.
    pub fn exchange<R>(
        &mut self,
        cart: &CartComm,
        u: &mut crate::heat::stencil::Block,
        interior: impl FnOnce(&Block) -> R,
    ) -> Result<(R, std::time::Duration)> {
        let (me, north, south, west, east) = (self.me, self.north, self.south, self.west, self.east);
        let remote = |r: usize| r != PROC_NULL && r != me;
        if remote(west) {
            u.column(1, &mut self.to_west);
        }
        if remote(east) {
            u.column(u.nx, &mut self.to_east);
        }
        let (nn, ns, nw, ne) = (&mut self.from_north, &mut self.from_south, &mut self.from_west, &mut self.from_east);
        let (tw, te) = (&self.to_west, &self.to_east);
        let now: &Block = u;
        let out = cart.scope(move |s| {
            let mut requests: Vec<Request<'_>> = Vec::with_capacity(8);
            if remote(north) {
                requests.push(s.irecv(nn, north, SOUTHWARD)?);
                requests.push(s.isend(now.cells(1), north, NORTHWARD)?);
            }
            if remote(south) {
                requests.push(s.irecv(ns, south, NORTHWARD)?);
                requests.push(s.isend(now.cells(now.ny), south, SOUTHWARD)?);
            }
            if remote(west) {
                requests.push(s.irecv(nw, west, EASTWARD)?);
                requests.push(s.isend(tw, west, WESTWARD)?);
            }
            if remote(east) {
                requests.push(s.irecv(ne, east, WESTWARD)?);
                requests.push(s.isend(te, east, EASTWARD)?);
            }
            let began = std::time::Instant::now();
            let r = interior(now);
            let took = began.elapsed();
            wait_all(requests)?;
            Ok::<_, parsci_comm::Error>((r, took))
        });
        let out = out?;
        self.unpack(u);
        Ok(out)
    }

    /// Copies the received edges into `u`'s ghost cells.
    pub fn unpack(&self, u: &mut Block) {
        let (ny, nx) = (u.ny, u.nx);
        if self.remote(self.north) {
            u.row_mut(0)[1..=nx].copy_from_slice(&self.from_north);
        }
        if self.remote(self.south) {
            u.row_mut(ny + 1)[1..=nx].copy_from_slice(&self.from_south);
        }
        if self.remote(self.west) {
            u.set_column(0, &self.from_west);
        }
        if self.remote(self.east) {
            u.set_column(nx + 1, &self.from_east);
        }
    }
}
