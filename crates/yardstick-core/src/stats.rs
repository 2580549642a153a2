//! Exact order statistics for the percentile measure.

/// The continuous percentile `p` (0–1) of `values` with linear
/// interpolation between closest ranks (`percentile_cont`, numpy's default):
/// position `p × (n − 1)` in the sorted values. NaN values are ignored;
/// `None` for no values. Sorts `values` in place.
pub fn percentile_cont(values: &mut [f64], p: f64) -> Option<f64> {
    let mut n = values.len();
    // NaNs last, then ignored.
    values.sort_unstable_by(f64::total_cmp);
    while n > 0 && values[n - 1].is_nan() {
        n -= 1;
    }
    let v = &values[..n];
    match n {
        0 => None,
        1 => Some(v[0]),
        _ => {
            let pos = p.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            let frac = pos - lo as f64;
            Some(if lo == hi {
                v[lo]
            } else {
                v[lo] + (v[hi] - v[lo]) * frac
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_between_closest_ranks() {
        // numpy.percentile([1, 2, 3, 4], 90) = 3.7
        assert_eq!(
            percentile_cont(&mut [4.0, 1.0, 3.0, 2.0], 0.9),
            Some(3.0 + 0.7 * 1.0)
        );
        assert_eq!(percentile_cont(&mut [5.0, 1.0, 3.0], 0.5), Some(3.0));
        assert_eq!(percentile_cont(&mut [7.0], 0.9), Some(7.0));
        assert_eq!(percentile_cont(&mut [], 0.9), None);
    }

    #[test]
    fn ties_and_extremes() {
        // Ties: [1, 2, 2, 2, 9] at p = 0.5 → 2; at 0.9 → pos 3.6 → 2 + 0.6 × 7.
        assert_eq!(percentile_cont(&mut [2.0, 9.0, 2.0, 1.0, 2.0], 0.5), Some(2.0));
        let v = percentile_cont(&mut [2.0, 9.0, 2.0, 1.0, 2.0], 0.9).unwrap();
        assert!((v - 6.2).abs() < 1e-12, "{v}");
        assert_eq!(percentile_cont(&mut [3.0, 1.0, 2.0], 0.0), Some(1.0));
        assert_eq!(percentile_cont(&mut [3.0, 1.0, 2.0], 1.0), Some(3.0));
        assert_eq!(percentile_cont(&mut [f64::NAN, 1.0, 3.0], 0.5), Some(2.0));
    }
}
