//! Whether one leaf stands out among the leaves.
//!
//! A segment fixing every dimension is one leaf, and its significance
//! ([`Fit::significance`]) is that of one draw of the leaves' noise. Over
//! millions of leaves the noise's tail holds hundreds of draws as far out
//! as any cause (a forecast's error beyond −100% leaves nothing, or less
//! than nothing, where something was expected): naming ten of them as
//! roots would be arbitrary, since none moved more than the others. So a
//! leaf is a root of its own, in [`Roots::Unusual`](super::Roots), only
//! when at most [`Settings::max_roots`](super::Settings) of the leaves
//! outside the roots chosen before it (itself included) moved as far as it
//! in its direction: when it is among the few the reading could name at
//! all. Outside the roots, because a region that vanished whole is a root
//! of its own and its leaves, which vanished alike, say nothing of a leaf
//! elsewhere. Larger segments are judged by their significance alone:
//! their sums average the noise out.

use super::{Elements, FLOOR, Fit};

/// Which leaves lie inside a segment: the caller knows the leaves' keys.
pub trait LeafKeys {
    /// A test of leaf numbers (as given to [`Leaves::of`]) for lying
    /// inside the segment `elements`.
    fn within<'s>(&'s self, elements: &Elements) -> Box<dyn Fn(u32) -> bool + 's>;
}

/// The leaves' movements, sorted, for counting how many moved as far as
/// one of them.
pub struct Leaves<'a> {
    /// How many dimensions a leaf fixes: a segment fixing this many is one
    /// leaf. `usize::MAX`: no segment is judged as a leaf.
    dims: usize,
    /// `(v / r, leaf)` of every leaf where something was expected
    /// (`r > 0`), by ratio ascending.
    ratios: Vec<(f64, u32)>,
    /// The leaves with a value where nothing (or less than nothing) was
    /// expected.
    unexpected: Vec<u32>,
    keys: Option<&'a dyn LeafKeys>,
}

impl std::fmt::Debug for Leaves<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leaves")
            .field("dims", &self.dims)
            .field("ratios", &self.ratios.len())
            .field("unexpected", &self.unexpected.len())
            .finish_non_exhaustive()
    }
}

/// The leaves outside the roots chosen so far: their ratios ascending and
/// how many hold a value where nothing was expected.
#[derive(Debug, Clone, Default)]
pub(super) struct Tail {
    ratios: Vec<f64>,
    unexpected: usize,
}

impl<'a> Leaves<'a> {
    /// The leaves `(v, r)` of a cube over `dims` dimensions, numbered in
    /// this order for `keys`.
    pub fn of(leaves: &[(f64, f64)], dims: usize, keys: &'a dyn LeafKeys) -> Leaves<'a> {
        let mut ratios: Vec<(f64, u32)> = leaves
            .iter()
            .zip(0u32..)
            .filter(|((v, r), _)| *r > 0.0 && v.is_finite() && r.is_finite())
            .map(|((v, r), i)| (v / r, i))
            .collect();
        ratios.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let unexpected = leaves
            .iter()
            .zip(0u32..)
            .filter(|((v, r), _)| *r <= 0.0 && *v != 0.0)
            .map(|(_, i)| i)
            .collect();
        Leaves {
            dims,
            ratios,
            unexpected,
            keys: Some(keys),
        }
    }

    /// No segment judged as a leaf among the others.
    pub fn none() -> Leaves<'static> {
        Leaves {
            dims: usize::MAX,
            ratios: Vec::new(),
            unexpected: Vec::new(),
            keys: None,
        }
    }

    /// Whether any leaf is judged among the others.
    pub(super) fn judged(&self) -> bool {
        self.keys.is_some()
    }

    /// Whether a segment fixing `dims` dimensions is one leaf.
    pub(super) fn is_leaf(&self, dims: usize) -> bool {
        self.keys.is_some() && dims >= self.dims
    }

    /// The leaves outside every one of `roots`.
    pub(super) fn outside(&self, roots: &[&Elements]) -> Tail {
        let Some(keys) = self.keys else {
            return Tail::default();
        };
        let tests: Vec<Box<dyn Fn(u32) -> bool + '_>> = roots.iter().map(|e| keys.within(e)).collect();
        let out = |i: u32| !tests.iter().any(|t| t(i));
        Tail {
            ratios: self
                .ratios
                .iter()
                .filter(|(_, i)| out(*i))
                .map(|(q, _)| *q)
                .collect(),
            unexpected: self.unexpected.iter().filter(|i| out(**i)).count(),
        }
    }
}

impl Tail {
    /// How many of these leaves moved at least as far as `leaf` (one
    /// leaf's sums) in its direction from the normal factor `k`, itself
    /// included. Below `FLOOR · k` every factor is the same movement (a
    /// leaf that vanished and one that went below nothing moved alike), as
    /// in [`Fit::significance`].
    pub(super) fn as_far(&self, leaf: &Fit, k: f64) -> usize {
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
}
