//! The search for root causes: which few segments (sets of dimension
//! values) explain why a KPI moved.
//!
//! **The criterion.** Each leaf (one combination of every dimension's
//! value) has a value `v` and an expected value `r` (the reference for an
//! additive measure; for a ratio's rate, the numerator the leaf would have
//! had at its reference rate). What is *normal* is that every leaf moved
//! by the same factor `k` — the robust, reference-weighted median of the
//! leaves' `v/r`, so a collapse in a few leaves does not set it. The
//! *unusual movement* is the squared distance of the leaves from normal,
//! `E = Σ (v − k·r)²`. A cause `S` is a segment whose leaves moved by a
//! factor of their own, `k_S = Σ v·r / Σ r²` (least squares); its
//! explanatory power is how much of `E` that removes:
//! `Δ(S) = Σ r² · (k_S − k)²` (a segment absent from the reference
//! explains all of its own leaves, `Σ v²`). The *root causes* are chosen
//! greedily: the segment with the highest `Δ`, then the next on the leaves
//! not yet explained, and so on — each must explain at least
//! [`Settings::min_gain`] of `E`, and the search stops once
//! [`Settings::enough`] of `E` is explained. Succinctness: a segment with
//! more dimensions must explain more than one with fewer
//! ([`Settings::depth_penalty`] per extra dimension), and a root never
//! nests inside another root. Two roots may cross (`region=EU` and
//! `product=SKU-1`): the second is then judged on its leaves outside the
//! first, which needs their intersection among the candidates.
//!
//! What is normal is ambiguous when more than half of the reference moved
//! together (a collapse of the biggest team): [`search_normal`] tries both
//! the median's factor and 1 (nothing moved) and keeps the one that leaves
//! less unexplained, nearer 1 when they are close.
//!
//! A segment that explains all of its parent's unusual movement scores as
//! high as the parent and loses on succinctness; a parent that is unusual
//! only through one child scores `Δ(child) · share` and loses to the
//! child. So the search names `region=EU ∧ partner=P7` when only P7's EU
//! business collapsed, and `region=EU` when all of EU did.

use std::collections::HashMap;

/// The dimension values a segment fixes: `(dimension index, value)`,
/// sorted by dimension; `None` is SQL's NULL (a value of its own).
pub type Elements = Vec<(usize, Option<String>)>;

/// Sums over a segment's leaves, enough to fit and judge it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Fit {
    pub v: f64,
    pub r: f64,
    pub vv: f64,
    pub vr: f64,
    pub rr: f64,
}

impl Fit {
    /// One leaf.
    pub fn leaf(v: f64, r: f64) -> Fit {
        Fit {
            v,
            r,
            vv: v * v,
            vr: v * r,
            rr: r * r,
        }
    }

    pub fn add(&mut self, o: &Fit) {
        self.v += o.v;
        self.r += o.r;
        self.vv += o.vv;
        self.vr += o.vr;
        self.rr += o.rr;
    }

    fn minus(&self, o: &Fit) -> Fit {
        Fit {
            v: self.v - o.v,
            r: self.r - o.r,
            vv: self.vv - o.vv,
            vr: self.vr - o.vr,
            rr: self.rr - o.rr,
        }
    }

    /// The unusual movement of these leaves: `Σ (v − k·r)²`.
    pub fn deviation(&self, k: f64) -> f64 {
        (self.vv - 2.0 * k * self.vr + k * k * self.rr).max(0.0)
    }

    /// How much of [`Fit::deviation`] a factor of the segment's own removes.
    pub fn gain(&self, k: f64) -> f64 {
        // Relative to the sizes summed, what rounding leaves is zero.
        let tiny = 1e-12 * self.vv.max(self.rr * k * k);
        if self.rr > tiny {
            let d = self.vr - k * self.rr;
            (d * d / self.rr).min(self.deviation(k)).max(0.0)
        } else {
            // Nothing expected here: the segment explains its own leaves.
            self.vv.max(0.0)
        }
    }
}

/// A segment the query found, with its sums.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub elements: Elements,
    pub fit: Fit,
}

/// How many roots, and how much each must explain.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// At most this many roots.
    pub max_roots: usize,
    /// A root explains at least this share of the unusual movement.
    pub min_gain: f64,
    /// Stop once the roots explain this share of it.
    pub enough: f64,
    /// Each dimension beyond the first costs this share of a segment's
    /// explanatory power when roots are compared.
    pub depth_penalty: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_roots: 5,
            min_gain: 0.1,
            enough: 0.9,
            depth_penalty: 0.05,
        }
    }
}

/// One ranked candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// Index into the candidates.
    pub index: usize,
    /// Its explanatory power: the share of the unusual movement it
    /// explains (for a root after the first: of what the roots before it
    /// left).
    pub score: f64,
    pub root: bool,
}

/// The normal factor: the `r`-weighted median of the leaves' `v/r` (1 when
/// nothing was expected anywhere).
pub fn normal_factor(leaves: &[(f64, f64)]) -> f64 {
    let mut xs: Vec<(f64, f64)> = leaves
        .iter()
        .filter(|(v, r)| *r > 0.0 && v.is_finite() && r.is_finite())
        .map(|(v, r)| (v / r, *r))
        .collect();
    if xs.is_empty() {
        return 1.0;
    }
    xs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = xs.iter().map(|x| x.1).sum::<f64>() / 2.0;
    let mut acc = 0.0;
    for (i, (k, w)) in xs.iter().enumerate() {
        acc += w;
        if acc > half {
            return *k;
        }
        if acc == half {
            // Exactly half: the midpoint of the two middle factors.
            return xs.get(i + 1).map_or(*k, |n| (k + n.0) / 2.0);
        }
    }
    xs.last().map_or(1.0, |x| x.0)
}

/// What the search settled on: the normal factor and the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub k: f64,
    pub ranked: Vec<Ranked>,
}

/// Searches with each candidate normal factor and keeps the one that
/// leaves the least unexplained (`E(k)` less what its roots explain);
/// within 10% of each other, the factor nearer 1 (nothing moved) wins. The
/// median alone takes a collapse of more than half the reference for what
/// is normal; "nothing moved" alone takes a common trend for a cause.
pub fn search_normal(candidates: &[Candidate], total: &Fit, ks: &[f64], settings: &Settings) -> Found {
    let mut tried: Vec<(f64, f64, Vec<Ranked>)> = ks
        .iter()
        .filter(|k| k.is_finite())
        .map(|&k| {
            let ranked = search(candidates, total, k, settings);
            let energy = total.deviation(k);
            let explained: f64 = ranked.iter().filter(|r| r.root).map(|r| r.score).sum();
            (k, energy * (1.0 - explained.min(1.0)), ranked)
        })
        .collect();
    let best = tried.iter().map(|t| t.1).fold(f64::INFINITY, f64::min);
    tried.retain(|t| t.1 <= best * 1.1 + f64::EPSILON);
    tried.sort_by(|a, b| (a.0 - 1.0).abs().total_cmp(&(b.0 - 1.0).abs()));
    match tried.into_iter().next() {
        Some((k, _, ranked)) => Found { k, ranked },
        None => Found {
            k: 1.0,
            ranked: search(candidates, total, 1.0, settings),
        },
    }
}

/// Whether segment `fine` lies inside segment `coarse` (fixes every value
/// `coarse` fixes).
pub fn within(fine: &Elements, coarse: &Elements) -> bool {
    coarse.iter().all(|c| fine.contains(c))
}

/// Whether two segments share no leaf (they fix a dimension differently).
pub fn disjoint(a: &Elements, b: &Elements) -> bool {
    a.iter().any(|(d, v)| b.iter().any(|(e, w)| d == e && v != w))
}

fn union(a: &Elements, b: &Elements) -> Elements {
    let mut u = a.clone();
    for x in b {
        if !u.contains(x) {
            u.push(x.clone());
        }
    }
    u.sort();
    u
}

/// Ranks the candidates: the roots first, in the order chosen, then every
/// other candidate by its own explanatory power. `total` is the fit of all
/// leaves, `k` the normal factor.
pub fn search(candidates: &[Candidate], total: &Fit, k: f64, settings: &Settings) -> Vec<Ranked> {
    let energy = total.deviation(k);
    let by_elements: HashMap<&Elements, usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (&c.elements, i))
        .collect();
    let own: Vec<f64> = candidates.iter().map(|c| c.fit.gain(k)).collect();
    let penalty = |c: &Candidate| {
        let extra = c.elements.len().saturating_sub(1) as f64;
        (1.0 - settings.depth_penalty).powf(extra)
    };
    let mut roots: Vec<(usize, f64)> = Vec::new();
    let mut explained = 0.0;
    if energy > 0.0 {
        while roots.len() < settings.max_roots && explained < settings.enough * energy {
            let mut best: Option<(usize, f64, f64)> = None;
            for (i, c) in candidates.iter().enumerate() {
                if c.elements.is_empty() || own[i] * penalty(c) < settings.min_gain * energy {
                    continue;
                }
                let Some(g) = gain_beside(c, &roots, candidates, &by_elements, k) else {
                    continue;
                };
                let judged = g * penalty(c);
                // Equal up to rounding (sums in another order) is a tie,
                // which the segment with fewer dimensions wins.
                let better = match best {
                    None => true,
                    Some((j, _, b)) => {
                        let tie = (judged - b).abs() <= 1e-9 * b.abs();
                        (judged > b && !tie) || (tie && candidates[j].elements.len() > c.elements.len())
                    }
                };
                if better {
                    best = Some((i, g, judged));
                }
            }
            match best {
                Some((i, g, judged)) if judged >= settings.min_gain * energy => {
                    roots.push((i, g / energy));
                    explained += g;
                }
                _ => break,
            }
        }
    }
    let mut out: Vec<Ranked> = roots
        .iter()
        .map(|&(index, score)| Ranked {
            index,
            score,
            root: true,
        })
        .collect();
    let mut rest: Vec<Ranked> = (0..candidates.len())
        .filter(|i| !candidates[*i].elements.is_empty() && !roots.iter().any(|r| r.0 == *i))
        .map(|index| Ranked {
            index,
            score: if energy > 0.0 { own[index] / energy } else { 0.0 },
            root: false,
        })
        .collect();
    rest.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(
                candidates[a.index]
                    .elements
                    .len()
                    .cmp(&candidates[b.index].elements.len()),
            )
            .then(candidates[a.index].elements.cmp(&candidates[b.index].elements))
    });
    out.extend(rest);
    out
}

/// What `c` explains beside the roots already chosen: `None` when it
/// nests with one of them, or crosses roots in a way the candidates cannot
/// measure (their intersection was not computed, or the roots it crosses
/// themselves overlap).
fn gain_beside(
    c: &Candidate,
    roots: &[(usize, f64)],
    candidates: &[Candidate],
    by_elements: &HashMap<&Elements, usize>,
    k: f64,
) -> Option<f64> {
    let mut crossed: Vec<&Elements> = Vec::new();
    for (r, _) in roots {
        let root = &candidates[*r].elements;
        if within(&c.elements, root) || within(root, &c.elements) {
            return None;
        }
        if !disjoint(&c.elements, root) {
            crossed.push(root);
        }
    }
    for (i, a) in crossed.iter().enumerate() {
        if crossed[i + 1..].iter().any(|b| !disjoint(a, b)) {
            return None;
        }
    }
    let mut fit = c.fit;
    for root in crossed {
        let both = union(&c.elements, root);
        let i = by_elements.get(&both)?;
        fit = fit.minus(&candidates[*i].fit);
    }
    Some(fit.gain(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(pairs: &[(usize, &str)]) -> Elements {
        let mut e: Elements = pairs.iter().map(|(d, v)| (*d, Some(v.to_string()))).collect();
        e.sort();
        e
    }

    /// Every segment of up to `depth` dimensions over the leaves, with its
    /// fit: what the grouping-sets query returns.
    fn cube(leaves: &[(Vec<&str>, f64, f64)], depth: usize) -> (Vec<Candidate>, Fit) {
        let dims = leaves[0].0.len();
        let mut map: HashMap<Elements, Fit> = HashMap::new();
        let mut total = Fit::default();
        for (vals, v, r) in leaves {
            let f = Fit::leaf(*v, *r);
            total.add(&f);
            for mask in 1u32..(1 << dims) {
                if mask.count_ones() as usize > depth {
                    continue;
                }
                let e: Elements = (0..dims)
                    .filter(|d| mask & (1 << d) != 0)
                    .map(|d| (d, Some(vals[d].to_string())))
                    .collect();
                map.entry(e).or_default().add(&f);
            }
        }
        let mut c: Vec<Candidate> = map
            .into_iter()
            .map(|(elements, fit)| Candidate { elements, fit })
            .collect();
        c.sort_by(|a, b| a.elements.cmp(&b.elements));
        (c, total)
    }

    fn grid(f: impl Fn(&str, &str, &str) -> f64) -> Vec<(Vec<&'static str>, f64, f64)> {
        let mut out = Vec::new();
        for a in ["EU", "US", "APAC", "LATAM"] {
            for b in ["p1", "p2", "p3", "p4"] {
                for c in ["w", "x", "y", "z"] {
                    let r = 100.0;
                    out.push((vec![a, b, c], f(a, b, c) * r * 1.1, r));
                }
            }
        }
        out
    }

    fn roots(leaves: &[(Vec<&str>, f64, f64)]) -> Vec<Elements> {
        let (c, total) = cube(leaves, 3);
        let k = normal_factor(&leaves.iter().map(|l| (l.1, l.2)).collect::<Vec<_>>());
        search(&c, &total, k, &Settings::default())
            .into_iter()
            .filter(|r| r.root)
            .map(|r| c[r.index].elements.clone())
            .collect()
    }

    #[test]
    fn the_normal_factor_ignores_a_collapsed_minority() {
        let leaves = grid(|a, b, _| if a == "EU" && b == "p2" { 0.1 } else { 1.0 });
        let k = normal_factor(&leaves.iter().map(|l| (l.1, l.2)).collect::<Vec<_>>());
        assert!((k - 1.1).abs() < 1e-12, "{k}");
        assert_eq!(normal_factor(&[(1.0, 0.0)]), 1.0);
        assert_eq!(normal_factor(&[(1.0, 1.0), (3.0, 1.0)]), 2.0);
    }

    #[test]
    fn one_element_a_combination_and_crossing_causes_are_found() {
        assert_eq!(
            roots(&grid(|a, _, _| if a == "EU" { 0.5 } else { 1.0 })),
            vec![el(&[(0, "EU")])]
        );
        assert_eq!(
            roots(&grid(|a, b, _| if a == "EU" && b == "p2" { 0.1 } else { 1.0 })),
            vec![el(&[(0, "EU"), (1, "p2")])]
        );
        let two = roots(&grid(|a, _, c| {
            (if a == "US" { 0.5 } else { 1.0 }) * (if c == "z" { 0.4 } else { 1.0 })
        }));
        assert_eq!(two.len(), 2, "{two:?}");
        assert!(
            two.contains(&el(&[(0, "US")])) && two.contains(&el(&[(2, "z")])),
            "{two:?}"
        );
    }

    #[test]
    fn a_collapse_of_most_of_the_reference_is_the_cause_not_the_normal() {
        // Three of four regions halve and LATAM stays: the median says
        // "halving is normal" and names LATAM; "nothing moved" names the
        // three that halved.
        let leaves = grid(|a, _, _| if a == "LATAM" { 1.0 / 1.1 } else { 0.5 / 1.1 });
        let (c, total) = cube(&leaves, 3);
        let pairs: Vec<(f64, f64)> = leaves.iter().map(|l| (l.1, l.2)).collect();
        let median = normal_factor(&pairs);
        assert!((median - 0.5).abs() < 1e-9, "{median}");
        let found = search_normal(&c, &total, &[median, 1.0], &Settings::default());
        // Either reading names one root; they explain the same, so the
        // factor nearer "nothing moved" is kept, and LATAM is normal.
        assert_eq!(found.k, 1.0);
        let roots: Vec<&Elements> = found
            .ranked
            .iter()
            .filter(|r| r.root)
            .map(|r| &c[r.index].elements)
            .collect();
        assert!(!roots.contains(&&el(&[(0, "LATAM")])), "{roots:?}");
    }

    #[test]
    fn no_unusual_movement_has_no_root() {
        assert!(roots(&grid(|_, _, _| 1.0)).is_empty());
    }

    #[test]
    fn a_segment_new_this_period_explains_itself() {
        let mut leaves = grid(|_, _, _| 1.0);
        leaves.push((vec!["EU", "p9", "x"], 5000.0, 0.0));
        assert_eq!(roots(&leaves), vec![el(&[(1, "p9")])]);
    }

    #[test]
    fn nesting_and_disjointness() {
        let eu = el(&[(0, "EU")]);
        let eu_p2 = el(&[(0, "EU"), (1, "p2")]);
        let us = el(&[(0, "US")]);
        let z = el(&[(2, "z")]);
        assert!(within(&eu_p2, &eu) && !within(&eu, &eu_p2));
        assert!(disjoint(&eu, &us) && !disjoint(&eu, &z) && !disjoint(&eu_p2, &eu));
    }
}
