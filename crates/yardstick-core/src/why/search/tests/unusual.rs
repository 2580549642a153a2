//! The unusual reading's tests: leaves judged among the noise's tail,
//! segments unusual by one leaf, intersections summed from the leaves and
//! widening against the leaves outside the parent.

use super::*;

/// 40 × 50 leaves of a forecast with 5% noise; `vanished` of them hold
/// nothing.
fn noisy_leaves(vanished: &[usize]) -> Vec<(Vec<String>, f64, f64)> {
    let eps = normals_from(0x2545_f491_4f6c_dd1d, 40 * 50);
    let mut out = Vec::new();
    for a in 0..40 {
        for b in 0..50 {
            let n = a * 50 + b;
            let r = 100.0 + (n % 89) as f64;
            let v = if vanished.contains(&n) {
                0.0
            } else {
                r * (1.0 + 0.05 * eps[n])
            };
            out.push((vec![format!("a{a}"), format!("b{b}")], v, r));
        }
    }
    out
}

/// [`cube`] over leaves whose values are owned, and the leaves' `(v, r)`.
fn owned_cube(leaves: &[(Vec<String>, f64, f64)], depth: usize) -> (Vec<Candidate>, Fit, Vec<(f64, f64)>) {
    let borrowed: Vec<(Vec<&str>, f64, f64)> = leaves
        .iter()
        .map(|(k, v, r)| (k.iter().map(String::as_str).collect(), *v, *r))
        .collect();
    let (c, total) = cube(&borrowed, depth);
    (c, total, leaves.iter().map(|l| (l.1, l.2)).collect())
}

/// The roots `--roots unusual` names over the leaves, with a cube of up
/// to `depth` dimensions, sorted.
fn unusual_at(leaves: &[(Vec<String>, f64, f64)], depth: usize) -> Vec<Elements> {
    let (c, total, pairs) = owned_cube(leaves, depth);
    let mut roots = unusual_among(&c, &total, &pairs, leaves[0].0.len(), &Named::of(leaves));
    roots.sort();
    roots
}

fn unusual_roots(leaves: &[(Vec<String>, f64, f64)]) -> Vec<Elements> {
    unusual_at(leaves, 2)
}

/// The roots `--roots unusual` names among candidates `c` over leaves
/// `pairs` of `dims` dimensions.
fn unusual_among(
    c: &[Candidate],
    total: &Fit,
    pairs: &[(f64, f64)],
    dims: usize,
    keys: &dyn LeafKeys,
) -> Vec<Elements> {
    let k = normal_factor(pairs);
    search_normal(
        c,
        total,
        &normals(pairs, &[k, 1.0], Counted::No),
        &Leaves::of(pairs, dims, keys),
        &Settings::of(Roots::Unusual),
    )
    .ranked
    .into_iter()
    .filter(|r| r.root)
    .map(|r| c[r.index].elements.clone())
    .collect()
}

#[test]
fn a_leaf_that_vanished_alone_is_unusual_but_not_one_of_many() {
    // One leaf vanished: it is the root.
    let one = unusual_roots(&noisy_leaves(&[1234]));
    assert_eq!(one, vec![el(&[(0, "a24"), (1, "b34")])]);
    // Thirty vanished, scattered (no value of a dimension holds more than
    // one): naming ten of them would be arbitrary, so none is named.
    let many: Vec<usize> = (0..30).map(|i| i * 51 + 7).collect();
    let scattered = noisy_leaves(&many);
    let mut a_values: Vec<&String> = many.iter().map(|n| &scattered[*n].0[0]).collect();
    a_values.dedup();
    assert_eq!(a_values.len(), 30);
    assert_eq!(unusual_roots(&scattered), Vec::<Elements>::new());
}

#[test]
fn leaves_whose_forecast_broke_down_either_way_are_counted_together() {
    // Six leaves vanished and six appeared where nothing was expected,
    // scattered: six of either alone are few enough to name, twelve that
    // broke down are not.
    let gone: Vec<usize> = (0..6).map(|i| i * 301 + 7).collect();
    let new: Vec<usize> = (0..6).map(|i| i * 293 + 150).collect();
    let with = |gone: &[usize], new: &[usize]| {
        let mut leaves = noisy_leaves(gone);
        for n in new {
            leaves[*n].1 = 40.0 + *n as f64 / 100.0;
            leaves[*n].2 = 0.0;
        }
        leaves
    };
    assert_eq!(unusual_roots(&with(&gone, &[])).len(), 6);
    assert_eq!(unusual_roots(&with(&[], &new)).len(), 6);
    assert_eq!(unusual_roots(&with(&gone, &new)), Vec::<Elements>::new());
    // One of each is two causes.
    assert_eq!(unusual_roots(&with(&gone[..1], &new[..1])).len(), 2);
}

/// 40 × 50 × 3 leaves of `r(at, n)` (`at` the leaf's `[a, b, c]`, `n` its
/// number) with 5% noise, thirty vanished and scattered, each a third of
/// its `a ∧ b`; `a5 ∧ b7`'s leaves at `cause(r, ε)`.
fn scattered_with(
    r: impl Fn([usize; 3], usize) -> f64,
    cause: impl Fn(f64, f64) -> f64,
) -> Vec<(Vec<String>, f64, f64)> {
    let eps = normals_from(0x9e37_79b9_7f4a_7c15, 40 * 50 * 3);
    let vanished: Vec<usize> = (0..30).map(|i| (i * 51 + 20) * 3 + i % 3).collect();
    let mut leaves = Vec::new();
    for a in 0..40 {
        for b in 0..50 {
            for c in 0..3 {
                let n = (a * 50 + b) * 3 + c;
                let r = r([a, b, c], n);
                let v = if vanished.contains(&n) {
                    0.0
                } else if (a, b) == (5, 7) {
                    cause(r, eps[n])
                } else {
                    r * (1.0 + 0.05 * eps[n])
                };
                leaves.push((vec![format!("a{a}"), format!("b{b}"), format!("c{c}")], v, r));
            }
        }
    }
    leaves
}

#[test]
fn a_segment_unusual_only_by_a_leaf_lost_in_the_noise_is_not_a_root() {
    // 40 × 50 × 3 leaves with 5% noise; thirty vanished, scattered (none
    // stands out of the others), each taking a third of its `a ∧ b`
    // (three leaves) with it, and `a5 ∧ b7` fell by half, all three leaves.
    let leaves = scattered_with(|_, n| 100.0 + (n % 89) as f64, |r, e| 0.5 * r * (1.0 + 0.05 * e));
    // Each `a ∧ b` holding a vanished leaf moved a third: unusual alone.
    let (c, total, pairs) = owned_cube(&leaves, 3);
    let k = normal_factor(&pairs);
    let noise = normals(&pairs, &[k], Counted::No)[0].1;
    let holding = c
        .iter()
        .filter(|x| x.elements.len() == 2 && x.elements[0].0 == 0 && x.elements[1].0 == 1)
        .filter(|x| x.fit.v < 0.8 * x.fit.r && x.elements != el(&[(0, "a5"), (1, "b7")]))
        .collect::<Vec<_>>();
    assert_eq!(holding.len(), 30);
    assert!(
        holding
            .iter()
            .all(|x| x.fit.significance_apart(&total.minus(&x.fit), k, noise) >= 100.0)
    );
    assert_eq!(unusual_at(&leaves, 3), vec![el(&[(0, "a5"), (1, "b7")])]);
}

#[test]
fn a_segment_whose_other_leaves_moved_with_its_largest_is_a_root() {
    // 40 × 50 × 3 leaves with 5% noise, thirty vanished and scattered (so
    // no leaf that fell by a third stands out), and `a5 ∧ b7` fell by a
    // third, all three of its leaves (100, 100 and 10).
    let leaves = scattered_with(
        |at, _| if at == [5, 7, 2] { 10.0 } else { 100.0 },
        |r, _| 0.68 * r,
    );
    // Without a leaf of 100, `a5 ∧ b7` is not unusual enough to be a root
    // of its own; but its other leaves fell with it.
    let (c, total, pairs) = owned_cube(&leaves, 3);
    let k = normal_factor(&pairs);
    let noise = normals(&pairs, &[k], Counted::No)[0].1;
    let ab = el(&[(0, "a5"), (1, "b7")]);
    let seg = c.iter().find(|x| x.elements == ab).expect("a5 ∧ b7").fit;
    let rest = total.minus(&seg);
    assert!(seg.significance_apart(&rest, k, noise) >= 100.0);
    let left = seg
        .minus(&Fit::leaf(68.0, 100.0))
        .significance_apart(&rest, k, noise);
    assert!((25.0..100.0).contains(&left), "{left}");
    assert_eq!(unusual_at(&leaves, 3), vec![ab]);
}

/// `EU`/`US` × ten partners × two channels of `r(partner)` each, EU's
/// partners at `v = f(partner) · r`, US's unmoved.
fn partners(r: impl Fn(usize) -> f64, f: impl Fn(usize) -> f64) -> Vec<(Vec<String>, f64, f64)> {
    let mut out = Vec::new();
    for a in ["EU", "US"] {
        for p in 0..10 {
            for c in ["w", "x"] {
                let v = if a == "EU" { f(p) * r(p) } else { r(p) };
                out.push((vec![a.to_string(), format!("p{p}"), c.to_string()], v, r(p)));
            }
        }
    }
    out
}

#[test]
fn a_root_does_not_widen_to_a_parent_whose_rest_moved_through_one_other_child() {
    // EU ∧ p2 and EU ∧ p7 vanished, of ten partners: beside EU ∧ p2, the
    // rest of EU lost a ninth, all of it EU ∧ p7's.
    let two = partners(|_| 100.0, |p| if p == 2 || p == 7 { 0.0 } else { 1.0 });
    assert_eq!(
        unusual_at(&two, 3),
        vec![el(&[(0, "EU"), (1, "p2")]), el(&[(0, "EU"), (1, "p7")])]
    );
    // The few segments that explain the gap: EU says it in fewer words.
    let borrowed: Vec<(Vec<&str>, f64, f64)> = two
        .iter()
        .map(|(k, v, r)| (k.iter().map(String::as_str).collect(), *v, *r))
        .collect();
    assert_eq!(roots(&borrowed), vec![el(&[(0, "EU")])]);
    // The rest of EU lost a fifth besides: EU moved, and it is the root.
    let spread = partners(
        |_| 100.0,
        |p| match p {
            2 | 7 => 0.0,
            _ => 0.8,
        },
    );
    assert_eq!(unusual_at(&spread, 3), vec![el(&[(0, "EU")])]);
}

#[test]
fn a_root_widens_when_most_of_the_other_children_moved_though_the_largest_did_not() {
    // In EU, p0 vanished and p1..p6 (100 a leaf) lost a fifth; p7..p9 did
    // not move, p7 ten times the size of the others. Most of EU's
    // partners fell: EU fell.
    let most = partners(
        |p| if p == 7 { 1000.0 } else { 100.0 },
        |p| match p {
            0 => 0.0,
            1..=6 => 0.8,
            _ => 1.0,
        },
    );
    assert_eq!(unusual_at(&most, 3), vec![el(&[(0, "EU")])]);
    // Only p1 and p2 of them: they are roots of their own beside p0.
    let few = partners(
        |p| if p == 7 { 1000.0 } else { 100.0 },
        |p| match p {
            0 => 0.0,
            1 | 2 => 0.8,
            _ => 1.0,
        },
    );
    assert_eq!(
        unusual_at(&few, 3),
        vec![
            el(&[(0, "EU"), (1, "p0")]),
            el(&[(0, "EU"), (1, "p1")]),
            el(&[(0, "EU"), (1, "p2")])
        ]
    );
}

#[test]
fn a_root_below_the_leaves_outside_its_parent_does_not_widen_to_a_rest_above_them() {
    // 10 × 10 × 40 leaves: a4 ∧ d4 vanished, a2 ∧ d8 halved (found
    // second), the rest of d4 moved 0.2% down, everything else nothing.
    // Beside a4 ∧ d4, the leaves outside d4 moved 0.56% down (a2 ∧ d8):
    // the rest of d4 is below normal but above them, and did not fall
    // with a4 ∧ d4 as far as they say.
    let mut leaves = Vec::new();
    for a in 0..10 {
        for d in 0..10 {
            for e in 0..40 {
                let v = match (a, d) {
                    (4, 4) => 0.0,
                    (2, 8) => 50.0,
                    (_, 4) => 99.8,
                    _ => 100.0,
                };
                leaves.push((vec![format!("a{a}"), format!("d{d}"), format!("e{e}")], v, 100.0));
            }
        }
    }
    assert_eq!(
        unusual_at(&leaves, 3),
        vec![el(&[(0, "a2"), (1, "d8")]), el(&[(0, "a4"), (1, "d4")])]
    );
}

#[test]
fn a_leaf_that_vanished_beside_a_vanished_value_stands_out_among_the_rest() {
    // The whole of a3 (fifty leaves) vanished, and one leaf elsewhere: the
    // fifty say nothing of that leaf once a3 is a root.
    let mut vanished: Vec<usize> = (150..200).collect();
    vanished.push(1234);
    let roots = unusual_roots(&noisy_leaves(&vanished));
    assert_eq!(roots.len(), 2, "{roots:?}");
    assert!(roots.contains(&el(&[(0, "a3")])), "{roots:?}");
    assert!(roots.contains(&el(&[(0, "a24"), (1, "b34")])), "{roots:?}");
}

#[test]
fn the_tail_kept_root_by_root_counts_as_its_definition() {
    // 6 × 5 × 4 leaves, a third vanished or new, the rest at random
    // ratios; roots added one by one. After each, every leaf's count is
    // what counting the leaves outside the roots from scratch gives.
    let draws = normals_from(0x51_7cc1_b727_220a, 2 * 120);
    let mut leaves: Vec<(Vec<String>, f64, f64)> = Vec::new();
    for n in 0..120 {
        let (a, b, c) = (n / 20, (n / 4) % 5, n % 4);
        let (v, r) = match n % 6 {
            0 => (0.0, 10.0),
            1 => (5.0, 0.0),
            _ => ((10.0 * (1.0 + 0.5 * draws[2 * n])).round(), 10.0 + (n % 7) as f64),
        };
        leaves.push((vec![format!("a{a}"), format!("b{b}"), format!("c{c}")], v, r));
    }
    let pairs: Vec<(f64, f64)> = leaves.iter().map(|l| (l.1, l.2)).collect();
    let named = Named::of(&leaves);
    let index = Leaves::of(&pairs, 3, &named);
    let roots = [
        el(&[(0, "a1")]),
        el(&[(1, "b2"), (2, "c0")]),
        el(&[(0, "a4"), (1, "b0"), (2, "c3")]),
        el(&[(2, "c1")]),
    ];
    let k = 1.0;
    let naive = |chosen: &[&Elements], leaf: &Fit, most: usize| -> usize {
        let outside: Vec<&(Vec<String>, f64, f64)> = leaves
            .iter()
            .filter(|l| {
                !chosen
                    .iter()
                    .any(|e| e.iter().all(|(d, v)| v.as_deref() == Some(l.0[*d].as_str())))
            })
            .collect();
        // Nothing came where something was expected, or something where
        // nothing was: the forecast broke down, either way.
        let broke = |l: &&&(Vec<String>, f64, f64)| {
            if l.2 <= 0.0 {
                l.1 != 0.0
            } else {
                l.1 / l.2 <= FLOOR * k
            }
        };
        let n = if leaf.r <= 0.0 || leaf.v / leaf.r <= FLOOR * k {
            outside.iter().filter(broke).count()
        } else {
            let q = leaf.v / leaf.r;
            outside
                .iter()
                .filter(|l| l.2 > 0.0)
                .filter(|l| {
                    let x = l.1 / l.2;
                    if q < k { x <= q } else { x >= q }
                })
                .count()
        };
        n.min(most + 1)
    };
    for most in [0, 2, 10] {
        let mut tail = index.tail(most);
        for at in 0..=roots.len() {
            let chosen: Vec<&Elements> = roots[..at].iter().collect();
            if at > 0 {
                index.beside(&mut tail, &roots[at - 1], &chosen);
            }
            for (_, v, r) in &leaves {
                let leaf = Fit::leaf(*v, *r);
                if leaf.r > 0.0 && leaf.v / leaf.r == k {
                    continue;
                }
                assert_eq!(
                    tail.as_far(&leaf, k),
                    naive(&chosen, &leaf, most),
                    "leaf {v}/{r}, {at} roots, most {most}"
                );
            }
        }
    }
}

#[test]
fn the_furthest_draws_of_the_noise_do_not_stand_out_but_a_leaf_beyond_its_tail_does() {
    // 2 × 1000 leaves whose log ratios sit at an exponential tail's
    // quantiles (scale 0.05), above normal and below: the furthest ten
    // are where such noise puts them, the first of all ln 11 scales beyond
    // the eleventh.
    let (beta, n) = (0.05, 1000);
    let x = |i: usize| beta * (f64::from(n) / i as f64).ln();
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    for i in 1..=n as usize {
        pairs.push((100.0 * x(i).exp(), 100.0));
        pairs.push((100.0 * (-x(i)).exp(), 100.0));
    }
    let judge = |pairs: &[(f64, f64)], leaf: (f64, f64)| -> (usize, bool) {
        let named = Named((0..pairs.len()).map(|i| vec![format!("l{i}")]).collect());
        let leaves = Leaves::of(pairs, 1, &named);
        let tail = leaves.tail(10);
        let fit = Fit::leaf(leaf.0, leaf.1);
        (tail.as_far(&fit, 1.0), tail.stands_out(&fit, 1.0))
    };
    assert_eq!(judge(&pairs, pairs[0]), (1, false), "the furthest above");
    assert_eq!(judge(&pairs, pairs[1]), (1, false), "the furthest below");
    // One leaf further out, by `s` scales past where the eleventh now is
    // (the old tenth).
    let beyond = |s: f64| (100.0 * (x(10) + s * beta).exp(), 100.0);
    for (s, stands) in [(8.0, true), (4.0, false)] {
        let mut with = pairs.clone();
        with.push(beyond(s));
        assert_eq!(judge(&with, beyond(s)), (1, stands), "{s} scales beyond");
    }
    // Below normal alike, down to a leaf that vanished.
    let mut with = pairs.clone();
    with.push((0.0, 100.0));
    assert_eq!(judge(&with, (0.0, 100.0)), (1, true));
    // Twenty leaves a side are too few to fit a tail on: the count alone
    // decides.
    let few: Vec<(f64, f64)> = pairs
        .iter()
        .copied()
        .step_by(100)
        .chain(pairs.iter().copied().skip(1).step_by(100))
        .collect();
    assert_eq!(judge(&few, few[0]), (1, true));
}

/// [`Named`] that also sums the leaves inside a segment.
struct Summed<'a> {
    named: Named,
    pairs: &'a [(f64, f64)],
}

impl LeafKeys for Summed<'_> {
    fn within<'s>(&'s self, elements: &Elements) -> Box<dyn Fn(u32) -> bool + 's> {
        self.named.within(elements)
    }

    fn sums(&self, root: &Elements, wanted: &[Elements]) -> Option<Vec<Fit>> {
        let in_root = self.named.within(root);
        Some(
            wanted
                .iter()
                .map(|w| {
                    let inside = self.named.within(w);
                    let mut fit = Fit::default();
                    for (i, (v, r)) in (0u32..).zip(self.pairs) {
                        if in_root(i) && inside(i) {
                            fit.add(&Fit::leaf(*v, *r));
                        }
                    }
                    fit
                })
                .collect(),
        )
    }
}

#[test]
fn an_intersection_the_cube_pruned_is_summed_from_the_leaves() {
    // Channel w halved everywhere, and EU ∧ p1 collapsed: EU ∧ p1 crosses
    // the root w, and their intersection — one leaf — was pruned from the
    // candidates, as a cube too large to keep whole prunes it.
    let leaves = grid(|a, b, c| {
        if a == "EU" && b == "p1" {
            0.2
        } else if c == "w" {
            0.5
        } else {
            1.0
        }
    });
    let (full, total) = cube(&leaves, 3);
    let leaf = el(&[(0, "EU"), (1, "p1"), (2, "w")]);
    let pruned: Vec<Candidate> = full.iter().filter(|c| c.elements != leaf).cloned().collect();
    let pairs: Vec<(f64, f64)> = leaves.iter().map(|l| (l.1, l.2)).collect();
    let keys = Summed {
        named: Named::of(&leaves),
        pairs: &pairs,
    };
    let at = |c: &[Candidate], e: &Elements| c.iter().position(|x| &x.elements == e).expect("a candidate");
    let (crossing, root) = (el(&[(0, "EU"), (1, "p1")]), el(&[(2, "w")]));
    let beside_root = |c: &[Candidate], keys: Option<&dyn LeafKeys>| {
        let index = Index::of(c);
        let mut beside = Beside::new(c, &index);
        beside.add(at(c, &root), keys);
        beside.fit(at(c, &crossing))
    };
    let measured = beside_root(&full, None).expect("EU ∧ p1 beside w");
    assert_eq!(
        beside_root(&pruned, None),
        None,
        "not measured without the leaves"
    );
    assert_eq!(beside_root(&pruned, Some(&keys)), Some(measured));
    // And so the search names EU ∧ p1 beside w, as over the whole cube.
    let found = |c: &[Candidate]| unusual_among(c, &total, &pairs, 3, &keys);
    assert_eq!(found(&full), vec![root.clone(), crossing.clone()]);
    assert_eq!(found(&pruned), found(&full));
}

/// Leaves `a0..a9 × d0..d9 × e0..e{n}` whose noise has a long tail
/// downwards (`2 − e^{0.2ε}`): the median moved by 1, the sums by about
/// 0.98, everywhere alike. `a1 ∧ d1` lost two thirds.
fn skewed_with_a_cause(per: usize) -> Vec<(Vec<String>, f64, f64)> {
    let eps = normals_from(0x9e37_79b9_7f4a_7c15, 100 * per);
    let mut out = Vec::new();
    for a in 0..10 {
        for d in 0..10 {
            for e in 0..per {
                let n = (a * 10 + d) * per + e;
                let r = 100.0 + (n % 53) as f64;
                let noise = (2.0 - (0.2 * eps[n]).exp()).max(0.05);
                let cause = if (a, d) == (1, 1) { 1.0 / 3.0 } else { 1.0 };
                out.push((
                    vec![format!("a{a}"), format!("d{d}"), format!("e{e}")],
                    r * noise * cause,
                    r,
                ));
            }
        }
    }
    out
}

#[test]
fn unusual_widens_only_when_the_rest_of_the_parent_moved_apart_from_the_leaves_outside_it() {
    let leaves = skewed_with_a_cause(600);
    let (c, total, pairs) = owned_cube(&leaves, 2);
    let k = normal_factor(&pairs);
    let noise = normals(&pairs, &[k], Counted::No)[0].1;
    let at = |e: &Elements| c.iter().position(|x| &x.elements == e).unwrap();
    let (d1, cause) = (el(&[(1, "d1")]), el(&[(0, "a1"), (1, "d1")]));
    // The rest of d1 (5400 leaves) is far from the median, as every
    // large segment is, but not from the factor of the leaves outside d1.
    let rest = c[at(&d1)].fit.minus(&c[at(&cause)].fit);
    let outside = total.minus(&c[at(&d1)].fit);
    assert!(
        rest.significance(k, noise) >= Settings::of(Roots::Unusual).widen,
        "{noise:?}"
    );
    let against = outside.factor().expect("the leaves outside d1 have a factor");
    assert!(rest.significance(against, noise) < 1.0);
    assert_eq!(
        unusual_among(&c, &total, &pairs, 3, &Named::of(&leaves)),
        vec![cause]
    );
}
