//! The serial reference: the data, the chunk sums and their total.

/// Elements each rank receives.
pub const CHUNK: usize = 2;

/// The data rank 0 scatters on `ranks` ranks: `0, 1, ..., 2 * ranks - 1`.
pub fn data(ranks: usize) -> Vec<i64> {
    (0..(CHUNK * ranks) as i64).collect()
}

/// The sum of each chunk of [`CHUNK`] elements, in order.
pub fn chunk_sums(data: &[i64]) -> Vec<i64> {
    data.chunks(CHUNK).map(|c| c.iter().sum()).collect()
}

/// The sums and the total a run on `ranks` ranks must produce.
///
/// ```
/// let (sums, total) = parsci_apps::scatter_gather::serial::expected(4);
/// assert_eq!((sums, total), (vec![1, 5, 9, 13], 28));
/// ```
pub fn expected(ranks: usize) -> (Vec<i64>, i64) {
    let sums = chunk_sums(&data(ranks));
    let total = sums.iter().sum();
    (sums, total)
}
