//! Checks of sub-communicators: the rows and columns of a grid (`CartComm::sub`) and the
//! node-local communicator (`split_shared`).

use parsci_comm::{dims_create, Comm, Error, Op};

use super::checks::CheckResult;

fn ctx<T>(r: parsci_comm::Result<T>, what: &str) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

/// The sum of the world ranks of a sub-communicator's members, by allreduce.
fn members_sum(c: &Comm, me: usize) -> Result<u64, String> {
    let mut s = [0u64];
    ctx(c.allreduce(&[me as u64], &mut s, &Op::sum()), "allreduce on a sub-grid")?;
    Ok(s[0])
}

/// Rows, columns and planes of 2-D and 3-D grids: sizes, ranks, members, and messages.
pub fn cart_sub(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    for nd in [2usize, 3] {
        let dims = dims_create(p, &vec![0; nd]).map_err(|e| e.to_string())?;
        let periods = vec![false; nd];
        let grid = ctx(comm.cart_create(&dims, &periods), "cart_create")?.expect("the grid holds every rank");
        let coords = grid.coords();
        for keep in 0..nd {
            // Keep one dimension: the line through this rank along it.
            let retain: Vec<bool> = (0..nd).map(|d| d == keep).collect();
            let line = ctx(grid.sub(&retain), "sub")?;
            if line.dims() != [dims[keep]] || line.size() != dims[keep] || line.rank() != coords[keep] {
                return Err(format!(
                    "{nd}-d grid {dims:?}, line along {keep}: dims {:?}, rank {} of {}, coords {coords:?}",
                    line.dims(),
                    line.rank(),
                    line.size()
                ));
            }
            // Its members are the ranks that differ from this one only along `keep`.
            let want: u64 = (0..p)
                .filter(|&r| (0..nd).all(|d| d == keep || grid.coords_of(r)[d] == coords[d]))
                .map(|r| r as u64)
                .sum();
            let got = members_sum(&line, me)?;
            if got != want {
                return Err(format!("{nd}-d grid, line along {keep}: members sum to {got}, expected {want}"));
            }
            // Point-to-point inside the line: a shift by one.
            let (src, dst) = line.shift(0, 1);
            let mut from = [usize::MAX];
            ctx(line.sendrecv(&[me], dst, 0, &mut from, src, 0), "sendrecv on a line")?;
            if src != parsci_comm::PROC_NULL {
                let mut c = coords.clone();
                c[keep] -= 1;
                let left = grid.rank_of(&c.iter().map(|&x| x as isize).collect::<Vec<_>>()).expect("inside the grid");
                if from[0] != left {
                    return Err(format!("line along {keep}: got {} from the left, expected {left}", from[0]));
                }
            }
        }
        // Keep all but the first dimension (a plane or a row), and none (each rank alone).
        let retain: Vec<bool> = (0..nd).map(|d| d != 0).collect();
        let plane = ctx(grid.sub(&retain), "sub")?;
        let cells: usize = dims[1..].iter().product();
        if plane.size() != cells || plane.dims() != &dims[1..] {
            return Err(format!("{nd}-d grid, all but dimension 0: {} ranks, dims {:?}", plane.size(), plane.dims()));
        }
        let alone = ctx(grid.sub(&vec![false; nd]), "sub keeping nothing")?;
        if (alone.size(), alone.rank(), alone.dims().len()) != (1, 0, 0) {
            return Err(format!("sub keeping no dimension: rank {} of {}", alone.rank(), alone.size()));
        }
    }
    let grid = ctx(comm.cart_create(&[p], &[true]), "cart_create")?.expect("every rank");
    match grid.sub(&[true, false]) {
        Err(Error::InvalidArgument { op: "cart_sub", .. }) => Ok(()),
        other => Err(format!("two flags for a 1-d grid: expected InvalidArgument, got {:?}", other.map(|c| c.size()))),
    }
}

/// The node-local communicator: one host here, so every rank, ordered by key.
pub fn split_shared(comm: &Comm) -> CheckResult {
    let (me, p) = (comm.rank(), comm.size());
    let node = ctx(comm.split_shared(0), "split_shared")?;
    if (node.rank(), node.size()) != (me, p) {
        return Err(format!("split_shared on one host: rank {} of {}, expected {me} of {p}", node.rank(), node.size()));
    }
    // A key reverses the order.
    let rev = ctx(comm.split_shared(-(me as i32)), "split_shared with a key")?;
    if rev.rank() != p - 1 - me {
        return Err(format!("split_shared by a reversing key: rank {}, expected {}", rev.rank(), p - 1 - me));
    }
    let sum = members_sum(&node, me)?;
    if sum != (p * (p - 1) / 2) as u64 {
        return Err(format!("split_shared: members sum to {sum}"));
    }
    Ok(())
}
