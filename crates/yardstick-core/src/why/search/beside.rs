//! What each candidate is beside the roots chosen so far: its leaves
//! outside them, kept up to date as roots are added.
//!
//! A candidate crossing a root (`partner=p1` beside `region=EU`) is
//! judged on its leaves outside it: its sums less those of the
//! intersection (`region=EU ∧ partner=p1`), which must be among the
//! candidates — or, where a cube too large to keep whole pruned it, is
//! summed from the leaves inside the root ([`LeafKeys::sums`]). Each
//! root's intersection with each candidate is looked up once, when the
//! root is added, rather than in every round of the search that follows;
//! the sums are taken off in the order the roots were chosen, so that the
//! result is the same to the last bit whenever it is asked for.

use super::{Candidate, Elements, Fit, LeafKeys, disjoint, union, within};

/// The candidates by their elements: intersections and parents are looked
/// up in it. Built once for every normal factor tried.
pub(super) struct Index<'a> {
    by: foldhash::HashMap<&'a Elements, usize>,
}

impl<'a> Index<'a> {
    pub(super) fn of(candidates: &'a [Candidate]) -> Index<'a> {
        Index {
            by: candidates
                .iter()
                .enumerate()
                .map(|(i, c)| (&c.elements, i))
                .collect(),
        }
    }

    /// The candidate with exactly these elements.
    pub(super) fn get(&self, elements: &Elements) -> Option<usize> {
        self.by.get(elements).copied()
    }
}

/// A candidate beside the roots.
#[derive(Debug, Clone, Copy)]
enum Rest {
    /// It crosses no root: all of it.
    Whole,
    /// Its sums less its intersections with the roots it crosses.
    Less(Fit),
    /// It nests with a root (inside or around it), or crosses roots in a
    /// way the candidates cannot measure: their intersection was not
    /// computed, or two roots it crosses overlap each other. Adding roots
    /// never mends either.
    Unmeasured,
}

/// Every candidate beside the roots added so far.
pub(super) struct Beside<'a> {
    candidates: &'a [Candidate],
    index: &'a Index<'a>,
    roots: Vec<usize>,
    rest: Vec<Rest>,
}

impl<'a> Beside<'a> {
    /// Beside no root yet: every candidate whole.
    pub(super) fn new(candidates: &'a [Candidate], index: &'a Index<'a>) -> Beside<'a> {
        Beside {
            candidates,
            index,
            roots: Vec::new(),
            rest: vec![Rest::Whole; candidates.len()],
        }
    }

    pub(super) fn index(&self) -> &Index<'a> {
        self.index
    }

    /// What candidate `i` is beside the roots: `None` when it nests with
    /// one of them, crosses them in a way the candidates cannot measure,
    /// or nothing of it is left but the sums' rounding (the crossing
    /// roots cover it: what remains would be noise of the summation
    /// order).
    pub(super) fn fit(&self, i: usize) -> Option<Fit> {
        let whole = &self.candidates[i].fit;
        match self.rest[i] {
            Rest::Whole => Some(*whole),
            Rest::Unmeasured => None,
            Rest::Less(fit) => (!fit.only_rounding_of(whole)).then_some(fit),
        }
    }

    /// Adds candidate `r` as the next root. A candidate crossing it whose
    /// intersection with it the candidates lack is measured with the
    /// intersection's sums from `keys`, when given and they can sum it.
    pub(super) fn add(&mut self, r: usize, keys: Option<&dyn LeafKeys>) {
        let candidates = self.candidates;
        let root = &candidates[r].elements;
        // The roots before it that it overlaps: a candidate crossing one
        // of them and this one cannot be measured beside both.
        let overlapping: Vec<&Elements> = self
            .roots
            .iter()
            .map(|&q| &candidates[q].elements)
            .filter(|q| !disjoint(q, root))
            .collect();
        // Intersections the candidates lack: each once, and who needs it.
        let mut lacking: foldhash::HashMap<Elements, usize> = foldhash::HashMap::default();
        let mut waiting: Vec<(usize, usize, Fit)> = Vec::new();
        for (i, (c, rest)) in candidates.iter().zip(self.rest.iter_mut()).enumerate() {
            let base = match *rest {
                Rest::Unmeasured => continue,
                Rest::Whole => c.fit,
                Rest::Less(fit) => fit,
            };
            let e = &c.elements;
            if within(e, root) || within(root, e) {
                *rest = Rest::Unmeasured;
            } else if disjoint(e, root) {
                // Outside the root: unchanged.
            } else if overlapping.iter().any(|q| !disjoint(e, q)) {
                *rest = Rest::Unmeasured;
            } else {
                let both = union(e, root);
                *rest = match self.index.get(&both) {
                    Some(both) => Rest::Less(base.minus(&candidates[both].fit)),
                    None => {
                        if keys.is_some() && lacking.len() < MOST_LACKING {
                            let n = lacking.len();
                            let at = *lacking.entry(both).or_insert(n);
                            waiting.push((i, at, base));
                        }
                        Rest::Unmeasured
                    }
                };
            }
        }
        if let Some(keys) = keys.filter(|_| !waiting.is_empty()) {
            let mut wanted: Vec<(usize, Elements)> = lacking.into_iter().map(|(e, at)| (at, e)).collect();
            wanted.sort_unstable_by_key(|w| w.0);
            let wanted: Vec<Elements> = wanted.into_iter().map(|w| w.1).collect();
            if let Some(sums) = keys.sums(root, &wanted) {
                for (i, at, base) in waiting {
                    if let Some(both) = sums.get(at) {
                        self.rest[i] = Rest::Less(base.minus(both));
                    }
                }
            }
        }
        self.roots.push(r);
    }
}

/// The most intersections summed from the leaves beside one root: beyond,
/// the candidates crossing it there are not measured.
const MOST_LACKING: usize = 100_000;
