//! The serial reference: the squares rank 0 must receive.

use super::Square;

/// What rank 0 receives on `ranks` ranks: `r * r` from every rank `r > 0`, in rank order.
///
/// ```
/// let sq: Vec<i64> = parsci_apps::squares::serial::expected(4).iter().map(|s| s.sq).collect();
/// assert_eq!(sq, vec![1, 4, 9]);
/// ```
pub fn expected(ranks: usize) -> Vec<Square> {
    (1..ranks).map(|r| Square { from: r, sq: (r * r) as i64 }).collect()
}
