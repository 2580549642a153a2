//! Widening a root to its parent when the parent's other leaves moved
//! with it — and not when only a few of the parent's other children did.
//!
//! A root `S` (`bitrate=4000 ∧ device=android`) is widened to a parent
//! `P` (`bitrate=4000`) when the rest of `P`, its leaves outside `S` and
//! the roots before it, moved unusually in the same direction: every
//! device at that bitrate dropped, android most. But the rest's movement
//! may be one sibling's (`P ∧ device=ios` collapsed, the other 23 devices
//! did not move): the parent did not move, two of its children did, and
//! each is a root of its own. So, read as [`Roots::Unusual`] (every
//! segment that moved), the siblings that moved on their own are taken
//! out of the rest: when what is left did not move, and no more of the
//! siblings moved than did not, the root is not widened to that parent —
//! the siblings that moved are found in the rounds that follow. Counted,
//! not weighed: at a bitrate where five devices of eight fell and the
//! two largest did not, the bitrate fell. Read as [`Roots::Explain`] (the
//! few segments that explain the gap), the parent is the shorter answer
//! and is kept.
//!
//! **Narrower, when the rest did not move** (read as [`Roots::Explain`],
//! where the leaves measure noise: [`Settings::narrow`]).
//! The converse: a segment chosen for its explanatory power is set aside
//! for its child (one dimension more) that explains most, when the rest
//! of it — its leaves outside that child — did not move unusually in the
//! child's direction; the search then looks again. A collapse of CloudCo's EU business makes
//! `partner=CloudCo` explain nearly as much as `partner=CloudCo ∧
//! region=EU` (and more, once a dimension costs succinctness), though
//! CloudCo's business elsewhere moved no more than the noise: the answer
//! is the child, the segment that moved. The test is the one that widens,
//! so a root narrowed is not widened back.

use std::cell::OnceCell;

use super::beside::Beside;
use super::{Candidate, Elements, Fit, Noise, Roots, Settings, Value};

/// Each dimension's values, from the candidates fixing one dimension:
/// looked up the first time a root is widened, as most searches never
/// widen one.
pub(super) struct Values<'a> {
    candidates: &'a [Candidate],
    by_dimension: OnceCell<Vec<Vec<Value>>>,
}

impl<'a> Values<'a> {
    pub(super) fn of(candidates: &'a [Candidate]) -> Values<'a> {
        Values {
            candidates,
            by_dimension: OnceCell::new(),
        }
    }

    /// How many dimensions have values among the candidates.
    fn dimensions(&self) -> usize {
        self.all().len()
    }

    /// The values of dimension `d` that a segment fixing it alone has.
    fn of_dimension(&self, d: usize) -> &[Value] {
        self.all().get(d).map_or(&[], Vec::as_slice)
    }

    fn all(&self) -> &[Vec<Value>] {
        self.by_dimension.get_or_init(|| {
            let mut all: Vec<Vec<Value>> = Vec::new();
            for c in self.candidates {
                if let [(dim, value)] = c.elements.as_slice() {
                    if all.len() <= *dim {
                        all.resize(dim + 1, Vec::new());
                    }
                    all[*dim].push(value.clone());
                }
            }
            all
        })
    }
}

/// The root chosen, widened while a parent's other leaves (outside the
/// roots before it) moved unusually in the same direction — read as
/// [`Roots::Unusual`], not through a few of the parent's other children
/// alone (see the module docs) — the parent explaining most, when
/// several qualify: its index and
/// what it explains beside the roots before it. `outside`: the leaves
/// outside the roots before it. Read as [`Roots::Unusual`], the other
/// leaves are judged against the factor of the leaves outside the parent
/// and the roots rather than the median's: a parent of a million leaves
/// whose median is a little off its sums is not unusual for it.
#[allow(clippy::too_many_arguments)]
pub(super) fn widened(
    mut i: usize,
    mut g: f64,
    beside: &Beside<'_>,
    values: &Values<'_>,
    outside: &Fit,
    k: f64,
    noise: Noise,
    settings: &Settings,
) -> (usize, f64) {
    let candidates = values.candidates;
    loop {
        let c = &candidates[i];
        // Judged beside the roots before it, as the root itself was.
        let Some(own) = beside.fit(i) else {
            return (i, g);
        };
        let mut up: Option<(usize, f64)> = None;
        for drop in 0..c.elements.len() {
            if c.elements.len() < 2 {
                break;
            }
            let mut parent = c.elements.clone();
            parent.remove(drop);
            let Some(j) = beside.index().get(&parent) else {
                continue;
            };
            let Some(fit) = beside.fit(j) else {
                continue;
            };
            let against = match settings.roots {
                Roots::Unusual => outside.minus(&fit).factor().unwrap_or(k),
                Roots::Explain => k,
            };
            // Whether leaves moved unusually in the root's direction, both
            // from what they are judged against: a rest above the leaves
            // outside the parent did not fall with a root below them,
            // however far below normal both are.
            let up_own = own.log_factor(against) > 0.0;
            let moved = |rest: &Fit| moved_its_way(rest, against, up_own, noise, settings);
            let rest = fit.minus(&own);
            if !moved(&rest) {
                continue;
            }
            if settings.roots == Roots::Unusual
                && carried_by_few(rest, &siblings(&c.elements, drop, values, beside), moved)
            {
                continue;
            }
            let gj = fit.gain(k);
            if up.is_none_or(|(_, best)| gj > best) {
                up = Some((j, gj));
            }
        }
        match up {
            Some((j, gj)) => {
                i = j;
                g = gj;
            }
            None => return (i, g),
        }
    }
}

/// The sums, beside the roots, of the other children of the parent that
/// `elements` has without its `drop`-th element: the segments fixing
/// another value there, among the candidates and measurable beside the
/// roots.
fn siblings(elements: &Elements, drop: usize, values: &Values<'_>, beside: &Beside<'_>) -> Vec<Fit> {
    let (d, own) = &elements[drop];
    let mut sibling = elements.clone();
    values
        .of_dimension(*d)
        .iter()
        .filter(|v| *v != own)
        .filter_map(|v| {
            sibling[drop].1.clone_from(v);
            beside.index().get(&sibling).and_then(|s| beside.fit(s))
        })
        .collect()
}

/// Whether `rest`'s movement is that of a few of `siblings` (the
/// children making it up): without those that `moved` on their own, what
/// is left did not, and no more of them moved than did not.
fn carried_by_few(rest: Fit, siblings: &[Fit], moved: impl Fn(&Fit) -> bool) -> bool {
    let mut left = rest;
    let mut few = 0;
    for s in siblings.iter().filter(|s| moved(s)) {
        left = left.minus(s);
        few += 1;
    }
    few <= siblings.len() - few && !moved(&left)
}

/// Whether a child (one dimension more) of the segment chosen carries its
/// movement: the child explaining most, beside the roots before it, when
/// the segment's other leaves did not move unusually in the child's
/// direction (the test [`widened`] widens by, read as
/// [`Roots::Explain`]). The search then sets the segment aside and looks
/// again: the child, or a segment explaining more than it, is chosen.
pub(super) fn carried_by_a_child(
    i: usize,
    beside: &Beside<'_>,
    values: &Values<'_>,
    k: f64,
    noise: Noise,
    settings: &Settings,
) -> bool {
    let candidates = values.candidates;
    let c = &candidates[i];
    let Some(own) = beside.fit(i) else {
        return false;
    };
    // The child explaining most, among the candidates.
    let mut down: Option<(f64, Fit)> = None;
    let fixed: Vec<usize> = c.elements.iter().map(|e| e.0).collect();
    for d in (0..values.dimensions()).filter(|d| !fixed.contains(d)) {
        for v in values.of_dimension(d) {
            let mut child = c.elements.clone();
            let at = child.partition_point(|e| e.0 < d);
            child.insert(at, (d, v.clone()));
            let Some(j) = beside.index().get(&child) else {
                continue;
            };
            let Some(fit) = beside.fit(j) else {
                continue;
            };
            let gj = fit.gain(k);
            if down.as_ref().is_none_or(|(best, _)| gj > *best) {
                down = Some((gj, fit));
            }
        }
    }
    let Some((gj, child)) = down else {
        return false;
    };
    let rest = own.minus(&child);
    // A child holding all of the segment's leaves is the same segment, said
    // at more length.
    if rest.only_rounding_of(&own) {
        return false;
    }
    // Did the rest move with the child, as `widened` asks?
    let up_child = child.log_factor(k) > 0.0;
    !moved_its_way(&rest, k, up_child, noise, settings) && gj > 0.0
}

/// Whether `rest` moved unusually `up` (or down) against `against`: in
/// that direction, with significance ≥ [`Settings::widen`], and read as
/// [`Roots::Explain`], also taken whole ([`whole_way`]). The one test
/// both widening and narrowing ask.
fn moved_its_way(rest: &Fit, against: f64, up: bool, noise: Noise, settings: &Settings) -> bool {
    let lf = rest.log_factor(against);
    lf != 0.0
        && (lf > 0.0) == up
        && rest.significance(against, noise) >= settings.widen
        && (settings.roots == Roots::Unusual || whole_way(rest, against, lf))
}

/// Whether `rest` moved its old leaves' way against `against` taken whole,
/// with its leaves where nothing was expected, and at least [`WHOLE_WAY`]
/// as far (as a log) as its leaves that had a reference: read as
/// explain, a rest whose few leaves of last month emptied while new ones
/// sold more (one order of another plan) did not fall with the root — its
/// factor by [`Fit::log_factor`] leaves the new leaves out and reads it as
/// vanished — nor did one whose new leaves made up all but a little of
/// what its old ones lost (the rest of the EU down 6%: its old customers'
/// orders 68%).
///
/// `lf`: the rest's [`Fit::log_factor`], its old leaves' movement.
fn whole_way(rest: &Fit, against: f64, lf: f64) -> bool {
    if rest.r <= 0.0 || against <= 0.0 {
        return false;
    }
    let whole = ((rest.v / rest.r).max(super::FLOOR * against) / against).ln();
    whole != 0.0 && (whole > 0.0) == (lf > 0.0) && whole.abs() >= WHOLE_WAY * lf.abs()
}

/// How far, as a share of its old leaves' movement (in logs), a rest taken
/// whole must move for [`whole_way`]. Measured: with it, `yardstick
/// demo`'s collapse is named on 1 more day of 2026 and 3 of 2027; RS,
/// S's first 150 cases, L's first 100 and H's first 10 read as explain
/// are unchanged.
const WHOLE_WAY: f64 = 0.5;
