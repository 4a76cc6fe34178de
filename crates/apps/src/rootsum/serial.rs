//! The serial reference: one scalar loop with compensated summation.

use super::compensated::Compensated;

/// `sum of sqrt(i) for i = 1..=m`, one term at a time with compensated summation
/// (accurate to about one rounding of the total). Slow on purpose: it shares no code
/// with the vectorized kernel, so it is an independent check.
///
/// ```
/// let s = parsci_apps::rootsum::serial::root_sum(1234567);
/// assert_eq!(format!("{s:.3}"), "914494295.631");
/// ```
pub fn root_sum(m: u64) -> f64 {
    let mut s = Compensated::default();
    for i in 1..=m {
        s.add((i as f64).sqrt());
    }
    s.value()
}

/// The values rank `rank` of `ranks` takes in the cyclic split of `1..=m`:
/// `rank + 1, rank + 1 + ranks, ...` as `(first, count)` with stride `ranks`.
pub fn cyclic_share(m: u64, rank: u64, ranks: u64) -> (u64, u64) {
    let first = rank + 1;
    let count = if first > m { 0 } else { (m - first) / ranks + 1 };
    (first, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_value_once() {
        for ranks in 1..9u64 {
            for m in 0..30u64 {
                let mut seen: Vec<u64> = (0..ranks)
                    .flat_map(|r| {
                        let (first, count) = cyclic_share(m, r, ranks);
                        (0..count).map(move |k| first + k * ranks)
                    })
                    .collect();
                seen.sort_unstable();
                assert_eq!(seen, (1..=m).collect::<Vec<_>>(), "m = {m}, ranks = {ranks}");
            }
        }
    }
}
