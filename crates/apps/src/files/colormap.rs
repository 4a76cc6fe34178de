//! The magma colormap (van der Walt and Smith's perceptually uniform map for
//! matplotlib, CC0): 17 samples, linearly interpolated.

/// Magma at 0, 1/16, ..., 15/16 and 1, in sRGB components from 0 to 1.
const MAGMA: [[f64; 3]; 17] = [
    [0.001462, 0.000466, 0.013866],
    [0.039608, 0.031090, 0.133515],
    [0.113094, 0.065492, 0.276784],
    [0.211718, 0.061992, 0.418647],
    [0.316654, 0.071690, 0.485380],
    [0.414709, 0.110431, 0.504662],
    [0.512831, 0.148179, 0.507648],
    [0.613617, 0.181811, 0.498536],
    [0.716387, 0.214982, 0.475290],
    [0.816914, 0.255895, 0.436461],
    [0.904281, 0.319610, 0.388137],
    [0.960949, 0.418323, 0.359630],
    [0.983485, 0.513280, 0.374198],
    [0.994309, 0.616999, 0.422950],
    [0.997351, 0.719089, 0.493755],
    [0.995424, 0.819875, 0.579140],
    [0.987053, 0.991438, 0.749504],
];

/// The magma colour of `t` in `[0, 1]` (clamped) as 8-bit RGB: near black at 0,
/// through purple and orange, to pale yellow at 1.
///
/// ```
/// use parsci_apps::files::magma;
/// assert_eq!(magma(0.0), [0, 0, 4]);
/// assert_eq!(magma(1.0), [252, 253, 191]);
/// assert_eq!(magma(f64::NAN), [0, 0, 4]);
/// ```
pub fn magma(t: f64) -> [u8; 3] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) } * 16.0;
    let i = (t as usize).min(15);
    let f = t - i as f64;
    let (a, b) = (MAGMA[i], MAGMA[i + 1]);
    std::array::from_fn(|k| ((a[k] + (b[k] - a[k]) * f) * 255.0).round() as u8)
}
