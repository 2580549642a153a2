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
//!
//! Among the few, the most extreme draws of the noise are there by
//! construction: the tenth furthest of millions is always tenth. So a leaf
//! must also lie beyond the first leaf *not* among the few (the `most +
//! 1`-th) further than the noise's tail reaches. Far out, the tail of any
//! common noise, taken as a log, falls off like an exponential; its scale
//! `β` is fitted on the [`SPAN`] leaves after the `most + 1`-th, from their
//! spacing (`E[x₍ᵢ₎ − x₍ⱼ₎] = β·Σ_{l=i}^{j−1} 1/l` for the order
//! statistics of an exponential tail), and a leaf stands out when fewer
//! than [`EXPECTED`] leaves of that tail are expected as far as it:
//! `(most + 1)·e^{−(x − x₍ₘₒₛₜ₊₁₎)/β}`. Where a side holds too few leaves
//! to fit a tail (fewer than [`MIN_SPAN`] beyond the `most + 1`-th), the
//! count alone decides. The leaves where nothing was expected are judged
//! by their count alone: they have no ratio to measure a tail on.
//!
//! A leaf where something came though nothing was expected, and one
//! where nothing (or less than nothing, or under [`FLOOR`] of normal) came
//! though something was, moved as far as a leaf can, the two ways: its
//! forecast broke down. Noise that breaks forecasts one way breaks them
//! the other (an error beyond −100% leaves nothing expected, or nothing
//! come, depending on which side erred), so the two are counted together:
//! such a leaf stands out only when at most `most` of the leaves outside
//! the roots broke down, either way. Over millions of leaves under a noise
//! of a quarter, a handful break down each way, and none is a cause.

use super::{Elements, FLOOR, Fit};

/// How many leaves after the `most + 1`-th fit the tail's scale.
pub(super) const SPAN: usize = 30;

/// The fewest leaves after the `most + 1`-th, on the leaf's side of
/// normal, that a tail is fitted on.
const MIN_SPAN: usize = 10;

/// A leaf stands out when fewer leaves than this are expected as far as
/// it from the noise's tail.
const EXPECTED: f64 = 0.05;

/// Which leaves lie inside a segment: the caller knows the leaves' keys.
pub trait LeafKeys {
    /// A test of leaf numbers (as given to [`Leaves::of`]) for lying
    /// inside the segment `elements`.
    fn within<'s>(&'s self, elements: &Elements) -> Box<dyn Fn(u32) -> bool + 's>;

    /// The sums of the leaves inside each of `wanted`, segments the
    /// candidates lack that all lie inside `root` (a root's intersections
    /// with the candidates crossing it, pruned from a cube too large to
    /// keep whole): [`Fit::default`] for one holding no leaf. `None` when
    /// they are too many to sum here; the candidates crossing the root
    /// there are then not measured beside it.
    fn sums(&self, root: &Elements, wanted: &[Elements]) -> Option<Vec<Fit>> {
        let _ = (root, wanted);
        None
    }
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
    /// Every leaf's value and expected value, by number.
    model: &'a [(f64, f64)],
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

/// The few leaves outside the roots chosen so far that moved furthest
/// each way: enough to tell whether at most `most` moved as far as a leaf.
/// Roots are only ever added, so a leaf found inside one stays inside;
/// each end is walked once over a search, past the leaves of the roots.
#[derive(Debug, Clone, Default)]
pub(super) struct Tail {
    most: usize,
    /// From the lowest ratio up, from the highest down, and the leaves
    /// where nothing was expected.
    low: Front,
    high: Front,
    unexpected: Front,
}

/// Up to `most + 1 + SPAN` leaves outside the roots, in the order
/// walked, and where the walk stopped.
#[derive(Debug, Clone, Default)]
struct Front {
    found: Vec<(f64, u32)>,
    next: usize,
}

impl Front {
    /// Drops the leaves inside `root` and walks on (`at(j)`: the `j`-th
    /// leaf in this end's order) until `keep` outside every root are
    /// found or the leaves end.
    fn refill(
        &mut self,
        keep: usize,
        len: usize,
        at: impl Fn(usize) -> (f64, u32),
        root: Option<&dyn Fn(u32) -> bool>,
        outside: impl Fn(u32) -> bool,
    ) {
        if let Some(inside) = root {
            self.found.retain(|(_, i)| !inside(*i));
        }
        while self.found.len() < keep && self.next < len {
            let (q, i) = at(self.next);
            self.next += 1;
            if outside(i) {
                self.found.push((q, i));
            }
        }
    }
}

impl<'a> Leaves<'a> {
    /// The leaves `(v, r)` of a cube over `dims` dimensions, numbered in
    /// this order for `keys`.
    pub fn of(leaves: &'a [(f64, f64)], dims: usize, keys: &'a dyn LeafKeys) -> Leaves<'a> {
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
            model: leaves,
            keys: Some(keys),
        }
    }

    /// No segment judged as a leaf among the others.
    pub fn none() -> Leaves<'static> {
        Leaves {
            dims: usize::MAX,
            ratios: Vec::new(),
            unexpected: Vec::new(),
            model: &[],
            keys: None,
        }
    }

    /// The leaf inside `elements` and outside `roots` whose removal from
    /// `fit` (the segment's sums beside the roots) leaves the least
    /// `significance` in what remains: its number and its sums. `None`
    /// without the leaves' keys, or when no leaf is inside.
    pub(super) fn strongest(
        &self,
        elements: &Elements,
        fit: &Fit,
        roots: &[&Elements],
        significance: impl Fn(&Fit) -> f64,
    ) -> Option<(u32, Fit)> {
        let keys = self.keys?;
        let inside = keys.within(elements);
        let tests: Vec<Box<dyn Fn(u32) -> bool + '_>> = roots.iter().map(|e| keys.within(e)).collect();
        let mut best: Option<(u32, Fit, f64)> = None;
        for (i, (v, r)) in (0u32..).zip(self.model) {
            if !inside(i) || tests.iter().any(|t| t(i)) {
                continue;
            }
            let leaf = Fit::leaf(*v, *r);
            let left = significance(&fit.minus(&leaf));
            if best.as_ref().is_none_or(|b| left < b.2) {
                best = Some((i, leaf, left));
            }
        }
        best.map(|(i, leaf, _)| (i, leaf))
    }

    /// Whether leaf number `leaf` lies inside `elements`.
    pub(super) fn holds(&self, elements: &Elements, leaf: u32) -> bool {
        self.keys.is_some_and(|keys| keys.within(elements)(leaf))
    }

    /// The leaves' keys, when given.
    pub(super) fn keys(&self) -> Option<&'a dyn LeafKeys> {
        self.keys
    }

    /// Whether any leaf is judged among the others.
    pub(super) fn judged(&self) -> bool {
        self.keys.is_some()
    }

    /// Whether a segment fixing `dims` dimensions is one leaf.
    pub(super) fn is_leaf(&self, dims: usize) -> bool {
        self.keys.is_some() && dims >= self.dims
    }

    /// The tail of every leaf, before any root: enough to tell whether
    /// at most `most` moved as far as one.
    pub(super) fn tail(&self, most: usize) -> Tail {
        let mut tail = Tail {
            most,
            ..Tail::default()
        };
        self.refill(&mut tail, None, &[]);
        tail
    }

    /// The tail beside one more root, `root` (the roots before it in
    /// `roots`, the new one among them).
    pub(super) fn beside(&self, tail: &mut Tail, root: &Elements, roots: &[&Elements]) {
        let Some(keys) = self.keys else {
            return;
        };
        let inside = keys.within(root);
        self.refill(tail, Some(&*inside), roots);
    }

    fn refill(&self, tail: &mut Tail, root: Option<&dyn Fn(u32) -> bool>, roots: &[&Elements]) {
        let Some(keys) = self.keys else {
            return;
        };
        let tests: Vec<Box<dyn Fn(u32) -> bool + '_>> = roots.iter().map(|e| keys.within(e)).collect();
        let outside = |i: u32| !tests.iter().any(|t| t(i));
        let (n, keep) = (self.ratios.len(), tail.most + 1 + SPAN);
        tail.low.refill(keep, n, |j| self.ratios[j], root, outside);
        tail.high
            .refill(keep, n, |j| self.ratios[n - 1 - j], root, outside);
        tail.unexpected.refill(
            tail.most + 1,
            self.unexpected.len(),
            |j| (0.0, self.unexpected[j]),
            root,
            outside,
        );
    }
}

impl Tail {
    /// How many of the leaves outside the roots moved at least as far as
    /// `leaf` (one leaf's sums) in its direction from the normal factor
    /// `k`, itself included — counted up to `most + 1`, which stands for
    /// more than `most`. Below `FLOOR · k` every factor is the same
    /// movement (a leaf that vanished and one that went below nothing
    /// moved alike), as in [`Fit::significance`]; and a leaf where nothing
    /// was expected moved as far, the other way: each is a forecast that
    /// broke down, and they are counted together (see the module docs).
    pub(super) fn as_far(&self, leaf: &Fit, k: f64) -> usize {
        let more = self.most + 1;
        let floor = FLOOR * k;
        // The leaves whose forecast broke down, one way or the other.
        let broke =
            || self.unexpected.found.len() + self.low.found.iter().take_while(|(x, _)| *x <= floor).count();
        if leaf.r <= 0.0 {
            return if leaf.v != 0.0 { broke().min(more) } else { 0 };
        }
        let q = leaf.v / leaf.r;
        if !q.is_finite() || q == k {
            return more;
        }
        let n = if q < k && q <= floor {
            broke()
        } else if q < k {
            self.low.found.iter().take_while(|(x, _)| *x <= q).count()
        } else {
            self.high.found.iter().take_while(|(x, _)| *x >= q).count()
        };
        n.min(more)
    }

    /// Whether at most `most` of the leaves outside the roots moved as far
    /// as `leaf`, and the noise's tail beyond the `most + 1`-th is not
    /// expected to reach it (see the module docs).
    pub(super) fn stands_out(&self, leaf: &Fit, k: f64) -> bool {
        self.as_far(leaf, k) <= self.most && self.expected_as_far(leaf, k) < EXPECTED
    }

    /// How many leaves the noise's tail beyond the `most + 1`-th leaf on
    /// `leaf`'s side of `k` is expected to hold as far as `leaf`: 0 when
    /// no tail can be fitted there (too few leaves, or a leaf where
    /// nothing was expected).
    pub(super) fn expected_as_far(&self, leaf: &Fit, k: f64) -> f64 {
        if leaf.r <= 0.0 || k <= 0.0 {
            return 0.0;
        }
        let q = leaf.v / leaf.r;
        if !q.is_finite() || q == k {
            return f64::INFINITY;
        }
        // Distances out from normal, as logs: below it down to the floor.
        let below = q < k;
        let out = |x: f64| {
            if below {
                (k / x.max(FLOOR * k)).ln()
            } else {
                (x / k).ln()
            }
        };
        let front = if below { &self.low } else { &self.high };
        let side: Vec<f64> = front
            .found
            .iter()
            .map(|(x, _)| *x)
            .take_while(|x| if below { *x < k } else { *x > k })
            .map(out)
            .collect();
        let first = self.most;
        if side.len() < first + 1 + MIN_SPAN {
            return 0.0;
        }
        let last = (side.len() - 1).min(first + SPAN);
        // `Σ_{l=first+1}^{last} 1/l`: the spacing of an exponential
        // tail's order statistics `first + 1` and `last + 1`, in `β`.
        #[allow(clippy::cast_precision_loss)]
        let spacing: f64 = (first + 1..=last).map(|l| 1.0 / l as f64).sum();
        let beta = (side[first] - side[last]) / spacing;
        let beyond = out(q) - side[first];
        #[allow(clippy::cast_precision_loss)]
        let at = (first + 1) as f64;
        if beyond <= 0.0 {
            at
        } else if beta <= 0.0 {
            0.0
        } else {
            at * (-beyond / beta).exp()
        }
    }
}
