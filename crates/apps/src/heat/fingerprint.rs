//! Fingerprints of a field: a 64-bit digest of every cell's bits that does not depend on
//! how the grid was split (a wrapping sum over cells of a mix of the cell's global index
//! and its bits), so ranks can add their parts in any order. Equal fingerprints mean
//! equal fields, bit for bit, up to a 2^-64 chance.

/// The fingerprint's part of cell number `k` (row-major global index) holding `v`.
#[inline]
pub fn cell(k: usize, v: f64) -> u64 {
    mix(v.to_bits() ^ mix(k as u64 ^ 0x5851_f42d_4c95_7f2d))
}

/// SplitMix64's finaliser: every input bit flips about half of the output bits.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The fingerprint of a whole field stored row by row.
pub fn of(values: &[f64]) -> u64 {
    values.iter().enumerate().fold(0u64, |h, (k, &v)| h.wrapping_add(cell(k, v)))
}

/// As text: `0x` and 16 hex digits.
pub fn hex(h: u64) -> String {
    format!("{h:#018x}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn any_change_changes_it() {
        let field: Vec<f64> = (0..100).map(|k| k as f64 * 0.1).collect();
        let h = super::of(&field);
        let mut moved = field.clone();
        moved.swap(3, 4);
        assert_ne!(super::of(&moved), h);
        let mut flipped = field.clone();
        flipped[50] = f64::from_bits(flipped[50].to_bits() ^ 1);
        assert_ne!(super::of(&flipped), h);
        assert_eq!(super::hex(0xab), "0x00000000000000ab");
    }
}
