//! Whether one leaf stands out among the leaves.
//!
//! A segment fixing every dimension is one leaf, and its significance
//! ([`Fit::significance`]) is that of one draw of the leaves' noise. Over
//! millions of leaves the noise's tail holds hundreds of draws as far out
//! as any cause (a forecast's error beyond −100% leaves nothing, or less
//! than nothing, where something was expected): naming ten of them as
//! roots would be arbitrary, since none moved more than the others. So a
//! leaf is a root of its own, in [`Roots::Unusual`](super::Roots), only
//! when at most [`Settings::max_roots`](super::Settings) leaves (itself
//! included) moved as far as it in its direction: when it is among the few
//! the reading could name at all. Larger segments are judged by their
//! significance alone: their sums average the noise out.
//!
//! The leaves counted are all of them, those inside a root chosen before
//! included: a leaf that fell as far as a collapsed region's leaves does
//! not stand out beside them either.

use super::{FLOOR, Fit};

/// The leaves' movements, sorted, for counting how many moved as far as
/// one of them.
#[derive(Debug, Clone, Default)]
pub struct Leaves {
    /// How many dimensions a leaf fixes: a segment fixing this many is one
    /// leaf. `usize::MAX`: no segment is judged as a leaf.
    dims: usize,
    /// `v / r` of every leaf where something was expected (`r > 0`),
    /// ascending.
    ratios: Vec<f64>,
    /// Leaves with a value where nothing (or less than nothing) was
    /// expected.
    unexpected: usize,
}

impl Leaves {
    /// The leaves `(v, r)` of a cube over `dims` dimensions.
    pub fn of(leaves: &[(f64, f64)], dims: usize) -> Leaves {
        let mut ratios: Vec<f64> = leaves
            .iter()
            .filter(|(v, r)| *r > 0.0 && v.is_finite() && r.is_finite())
            .map(|(v, r)| v / r)
            .collect();
        ratios.sort_unstable_by(f64::total_cmp);
        let unexpected = leaves.iter().filter(|(v, r)| *r <= 0.0 && *v != 0.0).count();
        Leaves {
            dims,
            ratios,
            unexpected,
        }
    }

    /// No segment judged as a leaf among the others.
    pub fn none() -> Leaves {
        Leaves {
            dims: usize::MAX,
            ..Leaves::default()
        }
    }

    /// Whether a segment fixing `dims` dimensions is one leaf.
    pub fn is_leaf(&self, dims: usize) -> bool {
        dims >= self.dims
    }

    /// How many leaves moved at least as far as `leaf` (one leaf's sums)
    /// in its direction from the normal factor `k`, itself included. Below
    /// `FLOOR · k` every factor is the same movement (a leaf that vanished
    /// and one that went below nothing moved alike), as in
    /// [`Fit::significance`].
    pub fn as_far(&self, leaf: &Fit, k: f64) -> usize {
        if leaf.r <= 0.0 {
            return if leaf.v != 0.0 { self.unexpected } else { 0 };
        }
        let q = leaf.v / leaf.r;
        if !q.is_finite() || q == k {
            return self.ratios.len();
        }
        if q < k {
            let t = q.max(FLOOR * k);
            self.ratios.partition_point(|x| *x <= t)
        } else {
            self.ratios.len() - self.ratios.partition_point(|x| *x < q)
        }
    }

    /// Whether a segment may be a root beside the leaves' tail: any
    /// segment larger than a leaf; a leaf when at most `most` leaves moved
    /// as far.
    pub fn stands_out(&self, dims: usize, fit: &Fit, k: f64, most: usize) -> bool {
        !self.is_leaf(dims) || self.as_far(fit, k) <= most
    }
}
