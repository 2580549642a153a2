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
//! **Wider, not narrower, when the rest moved too.** The segment chosen is
//! widened to its parent (one dimension fewer) when the parent's other
//! leaves also moved unusually, in the same direction: `bitrate=4000`
//! rather than `bitrate=4000 ∧ device=android` when every device at that
//! bitrate dropped, android most. A segment's movement is *unusual* when
//! its own factor is far from normal against the leaves' noise:
//! `ln(k_S/k)² · n_S / σ² ≥` [`Settings::significance`], `σ` the robust
//! spread (scaled median absolute deviation) of the leaves' `ln(v/(k·r))`
//! and `n_S = (Σr²)² / Σr⁴` how many leaves' worth of evidence it holds.
//!
//! **Two readings of "root".** [`Roots::Explain`] (the default) names the
//! few segments that explain the gap, as above. [`Roots::Unusual`] names
//! every segment that moved unusually (by the test above, up to
//! [`Settings::max_roots`]) however little of the gap it explains — a
//! small partner whose orders stopped entirely, hidden in a month where
//! everything else moved by a few percent.
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
    /// `Σ r⁴`: with `rr`, how many leaves' worth of evidence the segment
    /// holds ([`Fit::significance`]).
    pub r4: f64,
    /// `Σ v²` and `Σ v` over the leaves where nothing was expected
    /// (`r = 0`): new business (or, split by incident, new incidents)
    /// inside a segment, which the segment explains as far as its value is
    /// new ([`Fit::gain`]).
    pub nv: f64,
    pub vn: f64,
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
            r4: (r * r) * (r * r),
            nv: if r == 0.0 { v * v } else { 0.0 },
            vn: if r == 0.0 { v } else { 0.0 },
        }
    }

    pub fn add(&mut self, o: &Fit) {
        self.v += o.v;
        self.r += o.r;
        self.vv += o.vv;
        self.vr += o.vr;
        self.rr += o.rr;
        self.r4 += o.r4;
        self.nv += o.nv;
        self.vn += o.vn;
    }

    fn minus(&self, o: &Fit) -> Fit {
        Fit {
            v: self.v - o.v,
            r: self.r - o.r,
            vv: self.vv - o.vv,
            vr: self.vr - o.vr,
            rr: self.rr - o.rr,
            r4: self.r4 - o.r4,
            nv: self.nv - o.nv,
            vn: self.vn - o.vn,
        }
    }

    /// The unusual movement of these leaves: `Σ (v − k·r)²`.
    pub fn deviation(&self, k: f64) -> f64 {
        (self.vv - 2.0 * k * self.vr + k * k * self.rr).max(0.0)
    }

    /// How much of [`Fit::deviation`] a factor of the segment's own
    /// removes, with its leaves where nothing was expected in the measure
    /// the segment's value is new (so a new partner is explained by
    /// itself more than by the region it sells in).
    pub fn gain(&self, k: f64) -> f64 {
        // Relative to the sizes summed, what rounding leaves is zero.
        let tiny = 1e-12 * self.vv.max(self.rr * k * k);
        if self.rr > tiny {
            let d = self.vr - k * self.rr;
            let newness = if self.v > 0.0 {
                (self.vn / self.v).clamp(0.0, 1.0)
            } else {
                0.0
            };
            (d * d / self.rr + self.nv.max(0.0) * newness)
                .min(self.deviation(k))
                .max(0.0)
        } else {
            // Nothing expected here: the segment explains its own leaves.
            self.vv.max(0.0)
        }
    }
}

/// The least factor a segment's movement is measured with: a segment that
/// vanished moved by a thousandth, not by an infinite log.
const FLOOR: f64 = 1e-3;

/// The least noise assumed: movements of a percent are never unusual.
const LEAST_NOISE: f64 = 0.01;

impl Fit {
    /// The segment's own factor against normal, as a log (0 when nothing
    /// was expected here or normal is no value at all).
    fn log_factor(&self, k: f64) -> f64 {
        if self.rr <= 0.0 || k <= 0.0 {
            return 0.0;
        }
        ((self.vr / self.rr).max(FLOOR * k) / k).ln()
    }

    /// How unusual the segment's movement is against the leaves' noise
    /// `σ` (of `ln(v/(k·r))`): `ln(k_S/k)² · n_S / σ²` with `n_S = (Σr²)²/Σr⁴`
    /// (infinite for a segment with values where nothing was expected).
    pub fn significance(&self, k: f64, noise: f64) -> f64 {
        let tiny = 1e-12 * self.vv.max(self.rr * k * k);
        if self.rr <= tiny || self.r4 <= 0.0 {
            return if self.vv > tiny { f64::INFINITY } else { 0.0 };
        }
        let lf = self.log_factor(k);
        let noise = noise.max(LEAST_NOISE);
        lf * lf * (self.rr * self.rr / self.r4) / (noise * noise)
    }
}

/// The leaves' noise: the scaled median absolute deviation of
/// `ln(v/(k·r))` over leaves with a value and an expectation, at least
/// 1%.
pub fn noise(leaves: &[(f64, f64)], k: f64) -> f64 {
    if k <= 0.0 || !k.is_finite() {
        return LEAST_NOISE;
    }
    let mut logs: Vec<f64> = leaves
        .iter()
        .filter(|(v, r)| *v > 0.0 && *r > 0.0 && v.is_finite() && r.is_finite())
        .map(|(v, r)| (v / (k * r)).ln())
        .collect();
    let Some(mid) = median(&mut logs) else {
        return LEAST_NOISE;
    };
    let mut spread: Vec<f64> = logs.iter().map(|x| (x - mid).abs()).collect();
    median(&mut spread).map_or(LEAST_NOISE, |m| (1.4826 * m).max(LEAST_NOISE))
}

fn median(xs: &mut [f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let n = xs.len() / 2;
    let (_, m, _) = xs.select_nth_unstable_by(n, f64::total_cmp);
    Some(*m)
}

/// A segment the query found, with its sums.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub elements: Elements,
    pub fit: Fit,
}

/// What makes a segment a root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Roots {
    /// The few segments that explain most of the unusual movement.
    #[default]
    Explain,
    /// Every segment that moved unusually against the leaves' noise.
    Unusual,
}

impl Roots {
    pub fn parse(s: &str) -> Option<Roots> {
        match s {
            "explain" => Some(Roots::Explain),
            "unusual" => Some(Roots::Unusual),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Roots::Explain => "explain",
            Roots::Unusual => "unusual",
        }
    }
}

/// How many roots, and how much each must explain.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub roots: Roots,
    /// At most this many roots.
    pub max_roots: usize,
    /// A root explains at least this share of the unusual movement.
    pub min_gain: f64,
    /// Stop once the roots explain this share of it.
    pub enough: f64,
    /// Each dimension beyond the first costs this share of a segment's
    /// explanatory power when roots are compared.
    pub depth_penalty: f64,
    /// A movement is unusual when its significance (see the module docs)
    /// reaches this: widening a root, and every root of [`Roots::Unusual`].
    pub significance: f64,
}

impl Settings {
    /// The settings of a reading of "root".
    pub fn of(roots: Roots) -> Settings {
        match roots {
            Roots::Explain => Settings::default(),
            Roots::Unusual => Settings {
                roots,
                max_roots: 10,
                min_gain: 0.0,
                enough: f64::INFINITY,
                ..Settings::default()
            },
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            roots: Roots::Explain,
            significance: 100.0,
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
pub fn search_normal(
    candidates: &[Candidate],
    total: &Fit,
    leaves: &[(f64, f64)],
    ks: &[f64],
    settings: &Settings,
) -> Found {
    let mut tried: Vec<(f64, f64, Vec<Ranked>)> = ks
        .iter()
        .filter(|k| k.is_finite())
        .map(|&k| {
            let ranked = search(candidates, total, k, noise(leaves, k), settings);
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
            ranked: search(candidates, total, 1.0, noise(leaves, 1.0), settings),
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
/// leaves, `k` the normal factor, `noise` the leaves' ([`noise`]).
pub fn search(candidates: &[Candidate], total: &Fit, k: f64, noise: f64, settings: &Settings) -> Vec<Ranked> {
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
    let unusual = settings.roots == Roots::Unusual;
    let mut roots: Vec<(usize, f64)> = Vec::new();
    let mut explained = 0.0;
    if energy > 0.0 {
        while roots.len() < settings.max_roots && explained < settings.enough * energy {
            let mut best: Option<(usize, f64, f64)> = None;
            for (i, c) in candidates.iter().enumerate() {
                if c.elements.is_empty() || own[i] <= 0.0 || own[i] * penalty(c) < settings.min_gain * energy
                {
                    continue;
                }
                let Some(fit) = fit_beside(c, &roots, candidates, &by_elements) else {
                    continue;
                };
                if unusual && fit.significance(k, noise) < settings.significance {
                    continue;
                }
                let g = fit.gain(k);
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
                Some((i, g, judged)) if judged > 0.0 && judged >= settings.min_gain * energy => {
                    let (i, g) = widened(i, g, &roots, candidates, &by_elements, k, noise, settings);
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

/// The root chosen, widened while a parent's other leaves moved unusually
/// in the same direction (the parent explaining most, when several did):
/// its index and what it explains beside the roots before it.
#[allow(clippy::too_many_arguments)]
fn widened(
    mut i: usize,
    mut g: f64,
    roots: &[(usize, f64)],
    candidates: &[Candidate],
    by_elements: &HashMap<&Elements, usize>,
    k: f64,
    noise: f64,
    settings: &Settings,
) -> (usize, f64) {
    loop {
        let c = &candidates[i];
        let up_direction = c.fit.log_factor(k) > 0.0;
        let mut up: Option<(usize, f64)> = None;
        for drop in 0..c.elements.len() {
            if c.elements.len() < 2 {
                break;
            }
            let mut parent = c.elements.clone();
            parent.remove(drop);
            let Some(&j) = by_elements.get(&parent) else {
                continue;
            };
            let rest = candidates[j].fit.minus(&c.fit);
            let lf = rest.log_factor(k);
            if lf == 0.0 || (lf > 0.0) != up_direction || rest.significance(k, noise) < settings.significance
            {
                continue;
            }
            let Some(fit) = fit_beside(&candidates[j], roots, candidates, by_elements) else {
                continue;
            };
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

/// What `c` is beside the roots already chosen (its leaves outside them):
/// `None` when it nests with one of them, or crosses roots in a way the
/// candidates cannot measure (their intersection was not computed, or the
/// roots it crosses themselves overlap).
fn fit_beside(
    c: &Candidate,
    roots: &[(usize, f64)],
    candidates: &[Candidate],
    by_elements: &HashMap<&Elements, usize>,
) -> Option<Fit> {
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
    Some(fit)
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
        let pairs: Vec<(f64, f64)> = leaves.iter().map(|l| (l.1, l.2)).collect();
        let k = normal_factor(&pairs);
        search(&c, &total, k, noise(&pairs, k), &Settings::default())
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
        let found = search_normal(&c, &total, &pairs, &[median, 1.0], &Settings::default());
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
    fn a_root_widens_to_its_parent_when_the_rest_of_it_moved_too() {
        // EU ∧ p2 vanished and the rest of EU lost a fifth: EU ∧ p2 alone
        // explains more than EU, but all of EU moved.
        let leaves = grid(|a, b, _| match (a, b) {
            ("EU", "p2") => 0.0,
            ("EU", _) => 0.8,
            _ => 1.0,
        });
        let (c, _) = cube(&leaves, 3);
        let pairs: Vec<(f64, f64)> = leaves.iter().map(|l| (l.1, l.2)).collect();
        let k = normal_factor(&pairs);
        let eu = c.iter().position(|x| x.elements == el(&[(0, "EU")])).unwrap();
        let eu_p2 = c
            .iter()
            .position(|x| x.elements == el(&[(0, "EU"), (1, "p2")]))
            .unwrap();
        assert!(
            c[eu_p2].fit.gain(k) * 0.95 > c[eu].fit.gain(k),
            "the child explains more"
        );
        assert_eq!(roots(&leaves), vec![el(&[(0, "EU")])]);
        // Only EU ∧ p2 moved: it stays as narrow as it is.
        let only = grid(|a, b, _| if (a, b) == ("EU", "p2") { 0.0 } else { 1.0 });
        assert_eq!(roots(&only), vec![el(&[(0, "EU"), (1, "p2")])]);
    }

    /// Leaves that move by a few percent each (a fixed pseudo-random
    /// pattern), EU halving, and one tiny leaf vanishing.
    fn noisy_with_a_small_collapse() -> Vec<(Vec<&'static str>, f64, f64)> {
        let mut leaves = grid(|_, _, _| 1.0);
        for (i, l) in leaves.iter_mut().enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let wobble = 1.0 + 0.08 * (((i * 7919) % 13) as f64 / 12.0 - 0.5);
            let half = if l.0[0] == "EU" { 0.5 } else { 1.0 };
            l.1 = l.2 * wobble * half;
        }
        let tiny = leaves.iter().position(|l| l.0 == ["LATAM", "p4", "z"]).unwrap();
        leaves[tiny].1 = 0.0;
        leaves[tiny].2 = 1.0;
        leaves
    }

    #[test]
    fn unusual_roots_include_a_small_segment_that_vanished() {
        let leaves = noisy_with_a_small_collapse();
        let (c, total) = cube(&leaves, 3);
        let pairs: Vec<(f64, f64)> = leaves.iter().map(|l| (l.1, l.2)).collect();
        let found = |roots: Roots| -> Vec<Elements> {
            search_normal(
                &c,
                &total,
                &pairs,
                &[normal_factor(&pairs), 1.0],
                &Settings::of(roots),
            )
            .ranked
            .into_iter()
            .filter(|r| r.root)
            .map(|r| c[r.index].elements.clone())
            .collect()
        };
        let eu = el(&[(0, "EU")]);
        let tiny = el(&[(0, "LATAM"), (1, "p4"), (2, "z")]);
        // It explains almost nothing of the gap: not a root to explain it.
        assert_eq!(found(Roots::Explain), vec![eu.clone()]);
        // It moved most unusually of all; the wobble of the others is noise.
        let unusual = found(Roots::Unusual);
        assert_eq!(unusual, vec![eu, tiny], "{unusual:?}");
    }

    #[test]
    fn the_noise_is_the_spread_of_the_leaves_log_changes() {
        // Log changes 0 (twice), ±0.1 (three each way) and one outlier: the
        // median absolute deviation is 0.1, whatever the outlier.
        let e = f64::exp;
        let mut leaves = vec![(1.0, 1.0), (2.0, 2.0), (e(5.0), 1.0)];
        for _ in 0..3 {
            leaves.push((e(0.1), 1.0));
            leaves.push((e(-0.1), 1.0));
        }
        assert!(
            (noise(&leaves, 1.0) - 0.14826).abs() < 1e-9,
            "{}",
            noise(&leaves, 1.0)
        );
        // Nothing moved: the least noise assumed.
        assert_eq!(noise(&[(2.0, 2.0), (3.0, 3.0)], 1.0), 0.01);
        let f = Fit::leaf(0.0, 10.0);
        assert!((f.significance(1.0, 0.5) - (1e-3f64).ln().powi(2) / 0.25).abs() < 1e-9);
        assert_eq!(Fit::leaf(5.0, 0.0).significance(1.0, 0.5), f64::INFINITY);
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
