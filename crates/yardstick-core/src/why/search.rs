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
//! nests inside another root. Read as [`Roots::Explain`], a root's own
//! movement must stand out of the leaves' noise ([`Settings::least`],
//! see below): where each leaf is a few orders, one leaf that tripled
//! makes much of a small gap's squared movement, and is noise. Two roots
//! may cross (`region=EU` and
//! `product=SKU-1`): the second is then judged on its leaves outside the
//! first, which needs their intersection among the candidates (or summed
//! from the leaves, [`LeafKeys::sums`]).
//!
//! **Wider when the rest moved too, narrower when it did not.** The
//! segment chosen is
//! widened to its parent (one dimension fewer) when the parent's other
//! leaves also moved unusually, in the same direction: `bitrate=4000`
//! rather than `bitrate=4000 ∧ device=android` when every device at that
//! bitrate dropped, android most — but not when the rest's movement is
//! that of a few other children (`device=ios` at that bitrate collapsed
//! too, the other devices did not move): each of those is a root of its
//! own ([`widen`]). Conversely, read as [`Roots::Explain`], a segment
//! whose movement is one child's — its other leaves did not move its way
//! by that test — is set aside for the child: `partner=CloudCo` explains
//! nearly all that `partner=CloudCo ∧ region=EU` does when only
//! CloudCo's EU business collapsed, and more once a dimension costs
//! succinctness. Read so, a rest moved too only when, taken whole with
//! its leaves new this period, it moved at least half as far as its old
//! leaves did. A segment's movement is *unusual* when
//! its own factor is far from normal against the leaves' noise
//! ([`Fit::significance`], at least [`Settings::significance`] for a root
//! of its own, [`Settings::widen`] to widen one already found). The noise
//! is measured on the leaves ([`noise`]): a part whatever a leaf's size,
//! and a part that shrinks with it — at least what counting makes when
//! the leaves count events ([`Counted`]), so that one failure of five
//! requests is not unusual while a fifth of a thousand is. Read as
//! [`Roots::Unusual`], the rest's factor is judged against that of the
//! leaves outside the parent and the roots, not against the median's: a
//! parent of a million leaves is not unusual for a median a little off
//! the sums.
//!
//! **Two readings of "root".** [`Roots::Explain`] (the default) names the
//! few segments that explain the gap, as above. [`Roots::Unusual`] names
//! every segment that moved unusually (up to [`Settings::max_roots`])
//! however little of the gap it explains — a small partner whose orders
//! stopped entirely, hidden in a month where everything else moved by a
//! few percent. Its test is the one above with two samples: the segment's
//! factor against the sums of the leaves outside it and the roots
//! ([`Fit::significance_apart`]), so that a median biased against the
//! sums (noise not symmetric in the log) does not make every large
//! segment of millions of leaves unusual. A single leaf must also stand
//! out among the leaves outside the roots ([`Leaves`]): over millions of
//! them, the noise's tail holds hundreds that moved as far as any cause.
//! And a larger segment unusual only by one leaf that does not stand out
//! (without it, its significance falls below [`Settings::significance`]
//! and its other leaves did not move its way beyond [`Settings::widen`])
//! is no root: the leaf is set aside as noise and the round looks again.
//!
//! What is normal is ambiguous when more than half of the reference moved
//! together (a collapse of the biggest team): [`search_normal`] tries both
//! the median's factor and 1 (nothing moved) and keeps the one that leaves
//! less unexplained, nearer 1 when they are close. A median of nothing
//! (most of the reference in leaves now empty) is no normal: the ratio of
//! the sums takes its place ([`normal_factor`]). Read as explain, no change
//! does, and also of a median beyond the sums that few leaves moved with —
//! nearly half of the reference collapsed and a few other leaves fell
//! part of the way, the median among them: against it, a fall would be
//! explained by the segments that rose, and against the sums none of the
//! gap would be ([`explaining_normal`]).
//!
//! A segment that explains all of its parent's unusual movement scores as
//! high as the parent and loses on succinctness; a parent that is unusual
//! only through one child scores `Δ(child) · share` and loses to the
//! child. So the search names `region=EU ∧ partner=P7` when only P7's EU
//! business collapsed, and `region=EU` when all of EU did.

mod beside;
mod tail;
mod widen;

use beside::{Beside, Index};
use tail::Tail;
pub use tail::{LeafKeys, Leaves};
use widen::{Values, carried_by_a_child, widened};

/// The dimension values a segment fixes: `(dimension index, value)`,
/// sorted by dimension; `None` is SQL's NULL (a value of its own). A value
/// is shared, not copied, by the segments that fix it: a case keeps tens
/// of millions of segments.
pub type Elements = Vec<(usize, Value)>;

/// A dimension's value in [`Elements`]: `None` is SQL's NULL.
pub type Value = Option<std::sync::Arc<str>>;

/// Sums over a segment's leaves, enough to fit and judge it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Fit {
    pub v: f64,
    pub r: f64,
    pub vv: f64,
    pub vr: f64,
    pub rr: f64,
    /// `Σ r³` and `Σ r⁴`: with `rr`, the evidence of the least-squares
    /// factor, which [`Fit::significance`] falls back to only when the
    /// reference sums to nothing or less (otherwise the ratio of sums'
    /// evidence is `(Σr)²/Σr²`).
    pub r3: f64,
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
            r3: (r * r) * r,
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
        self.r3 += o.r3;
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
            r3: self.r3 - o.r3,
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
    /// Whether the segment's factor is the ratio of its sums (`Σv/Σr`
    /// where something was expected): whenever its reference sums to more
    /// than nothing. Otherwise (references of both signs) the least-squares
    /// `Σvr/Σr²`. The ratio of sums, because the reference is as noisy as
    /// the period when it is one (`--vs previous`): a leaf whose reference
    /// came out high then weighs more in `Σvr/Σr²` and shows a fall, so
    /// that every large segment seemed to fall by about the noise's square
    /// — significant, over millions of leaves, where nothing moved.
    fn by_sums(&self) -> bool {
        self.r > 0.0
    }

    /// Whether these sums, what is left of `whole` once parts of it are
    /// taken away, are nothing but the rounding of that subtraction
    /// (sums in another order).
    pub(super) fn only_rounding_of(&self, whole: &Fit) -> bool {
        let rounding = |left: f64, all: f64| left.abs() <= 1e-9 * all.abs();
        rounding(self.rr, whole.rr) && rounding(self.vv, whole.vv)
    }

    /// The segment's own factor against normal, as a log (0 when nothing
    /// was expected here or normal is no value at all).
    fn log_factor(&self, k: f64) -> f64 {
        if self.rr <= 0.0 || k <= 0.0 {
            return 0.0;
        }
        let own = if self.by_sums() {
            (self.v - self.vn) / self.r
        } else {
            self.vr / self.rr
        };
        (own.max(FLOOR * k) / k).ln()
    }

    /// How unusual the segment's movement is against the leaves' noise
    /// `a/r + b` ([`Noise`]): the squared movement over its variance,
    /// `1 / (b·Σr²/(Σr)²/ln(k_S/k)² + a·Σr/(Σr)²/(k_S/k − 1)²)` for the
    /// ratio of sums (`Σr⁴/(Σr²)²` and `Σr³/(Σr²)²` for least squares).
    /// The size-free part judges the change as a log (noise that scales
    /// with the value: a segment that vanished moved by a thousandth); the
    /// counting part as a difference (one failure of five requests is 20%,
    /// not a log's −0.22 for every 4 of 5). With size-free noise alone,
    /// `ln(k_S/k)² · n_S / b`, `n_S = (Σr)²/Σr²` the leaves' worth of
    /// evidence the segment holds. Infinite for a segment with values
    /// where nothing was expected.
    pub fn significance(&self, k: f64, noise: Noise) -> f64 {
        self.significance_beside(k, noise, (0.0, 0.0))
    }

    /// The factor of these leaves' sums (the ratio of sums, or least
    /// squares when the reference sums to nothing or less): `None` when
    /// nothing was expected.
    fn factor(&self) -> Option<f64> {
        if self.rr <= 0.0 {
            return None;
        }
        let f = if self.by_sums() {
            (self.v - self.vn) / self.r
        } else {
            self.vr / self.rr
        };
        (f.is_finite() && f > 0.0).then_some(f)
    }

    /// The variance of [`Fit::factor`]'s log per unit of each part of the
    /// noise: `(level, counting)`.
    fn variance_parts(&self) -> (f64, f64) {
        if self.by_sums() {
            let r2 = self.r * self.r;
            (self.rr / r2, self.r / r2)
        } else {
            let rr2 = self.rr * self.rr;
            (self.r4 / rr2, self.r3.max(0.0) / rr2)
        }
    }

    /// How unusual the segment's movement is against `rest`'s (the
    /// leaves outside it and outside the roots): a two-sample test, the
    /// squared difference of their log factors over the sum of their
    /// variances. Normal (`k`) is what the leaves' median says; the rest
    /// is what the segment's sums are compared with, so that a bias of
    /// the median against sums (noise that is not symmetric in the log)
    /// does not make every large segment unusual. When the rest has no
    /// factor, against `k`.
    pub fn significance_apart(&self, rest: &Fit, k: f64, noise: Noise) -> f64 {
        match rest.factor() {
            Some(kr) => self.significance_beside(kr, noise, rest.variance_parts()),
            None => self.significance(k, noise),
        }
    }

    /// [`Fit::significance`] against `k`, whose own variance (per unit of
    /// each part of the noise) is `known`.
    fn significance_beside(&self, k: f64, noise: Noise, known: (f64, f64)) -> f64 {
        let tiny = 1e-12 * self.vv.max(self.rr * k * k);
        // `Σr⁴` matters to least squares alone. Beside a root it is the
        // difference of two large sums, which can round to nothing or less
        // for a small rest (a leaf of 0.07 beside one of 844: 5·10¹¹ less
        // 5·10¹¹); read there, it made the rest infinitely unusual.
        if self.rr <= tiny || (!self.by_sums() && self.r4 <= 0.0) {
            return if self.vv > tiny { f64::INFINITY } else { 0.0 };
        }
        let lf = self.log_factor(k);
        let lin = lf.exp() - 1.0;
        if lf == 0.0 || lin == 0.0 {
            return 0.0;
        }
        // The factor's variance per unit of each part of the noise.
        let (per_level, per_count) = self.variance_parts();
        let (per_level, per_count) = (per_level + known.0, per_count + known.1);
        1.0 / (noise.level * per_level / (lf * lf) + noise.per_size * per_count / (lin * lin))
    }
}

/// The leaves' noise, as the variance of a leaf's log change:
/// `per_size / r + level` for a leaf expected to hold `r`. The first part
/// is the noise of counting (a rate over few requests jumps; over many it
/// holds still); the second, noise whatever the size (a forecast's error).
/// `level` is at least `LEAST_NOISE`².
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    pub per_size: f64,
    pub level: f64,
}

impl Noise {
    /// Noise of one level whatever the size: `σ²`, `σ` at least 1%.
    pub fn level(sigma: f64) -> Noise {
        Noise {
            per_size: 0.0,
            level: sigma.max(LEAST_NOISE).powi(2),
        }
    }
}

/// What the leaves' values are, beyond numbers: counting has a noise of
/// its own, which a small leaf shows most (a rate over five requests
/// jumps by 20% on one failure).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Counted {
    /// Amounts: their noise is measured on the leaves alone.
    #[default]
    No,
    /// Whole numbers of events (orders, requests): at least Poisson's
    /// noise, a variance as large as the count.
    Counts,
    /// A share of whole numbers (successes of requests, whole and never
    /// more than the requests), now at this overall rate: at least the
    /// binomial noise of its successes.
    Share(f64),
}

impl Counted {
    /// The variance of a leaf's log change that counting alone makes,
    /// times the leaf's expected value `r`, at the normal factor `k`.
    /// Counts: `Var(v) = k·r`, so `Var(v/(k·r)) = 1/(k·r)`. A share at
    /// rate `p`: `Var(v) = d·p·(1−p)` over `d ≈ k·r/p` requests, so
    /// `(1−p)/(k·r)`.
    pub fn per_size(self, k: f64) -> f64 {
        if k <= 0.0 || !k.is_finite() {
            return 0.0;
        }
        match self {
            Counted::No => 0.0,
            Counted::Counts => 1.0 / k,
            Counted::Share(p) => (1.0 - p).clamp(0.0, 1.0) / k,
        }
    }
}

/// The leaves' noise: the scaled median absolute deviation (MAD) `s` of
/// `ln(v/(k·r))` over leaves with a value and an expectation. When the
/// leaves count events, the part that shrinks with size is what counting
/// makes ([`Counted::per_size`]), and the level what the leaves show
/// beyond it: `s² − a·h`, `h` their median `1/r`. Otherwise one level for
/// all, `s²`. The level is at least 1%² either way. (Measuring a part
/// that shrinks with size on amounts was tried: a collapse of a segment
/// of few large orders then looked like the noise of small ones.)
pub fn noise(leaves: &[(f64, f64)], k: f64, counted: Counted) -> Noise {
    if k <= 0.0 || !k.is_finite() {
        return Noise::level(LEAST_NOISE);
    }
    let per_size = counted.per_size(k);
    let logs: Vec<(f64, f64)> = leaves
        .iter()
        .filter(|(v, r)| *v > 0.0 && *r > 0.0 && v.is_finite() && r.is_finite())
        .map(|(v, r)| (*r, (v / (k * r)).ln()))
        .collect();
    let s = mad(logs.iter().map(|x| x.1).collect()).unwrap_or(0.0);
    let mut inv: Vec<f64> = logs.iter().map(|x| 1.0 / x.0).collect();
    let h = median(&mut inv).unwrap_or(0.0);
    Noise {
        per_size,
        level: (s * s - per_size * h).max(LEAST_NOISE * LEAST_NOISE),
    }
}

/// The scaled median absolute deviation (`None` for no value).
fn mad(mut xs: Vec<f64>) -> Option<f64> {
    let mid = median(&mut xs)?;
    let mut spread: Vec<f64> = xs.iter().map(|x| (x - mid).abs()).collect();
    median(&mut spread).map(|m| 1.4826 * m)
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
    /// reaches this: every root of [`Roots::Unusual`].
    pub significance: f64,
    /// A root is widened to a parent whose other leaves moved the same way
    /// with at least this significance: less than a root's own, as it
    /// only asks whether a movement already found goes further.
    pub widen: f64,
    /// Of the other candidates, at most this many are ranked after the
    /// roots (the best): a cube of millions of segments is not sorted
    /// whole for a `--top` of ten.
    pub others: usize,
    /// Read as [`Roots::Explain`], a root's own movement is at least this
    /// unusual, as widening asks of a parent's: a leaf of a few orders
    /// that doubled can explain much of a small gap, and is noise.
    pub least: f64,
    /// Read as [`Roots::Explain`], a root whose other leaves did not move
    /// its way is set aside for its child ([`widen`]). Off where the
    /// leaves measure no noise (a few teams: their spread is the causes').
    pub narrow: bool,
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
                // Its roots are tested on their own (significance ≥ 100)
                // and every segment that moved is one: none set aside.
                least: 0.0,
                narrow: false,
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
            widen: 25.0,
            others: usize::MAX,
            least: 25.0,
            narrow: true,
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
/// nothing was expected anywhere). A median of nothing — more than half
/// of the reference in leaves that are now empty, common where the leaves
/// are few orders each — would say that everything vanished as normal,
/// and read the rest as growth: the ratio of the sums is normal then.
pub fn normal_factor(leaves: &[(f64, f64)]) -> f64 {
    let median = weighted_median(leaves);
    if median > 0.0 {
        return median;
    }
    ratio_of_sums(leaves).unwrap_or(median)
}

/// `Σv/Σr` over the finite leaves, when it is a finite factor above 0.
fn ratio_of_sums(leaves: &[(f64, f64)]) -> Option<f64> {
    let (v, r) = leaves
        .iter()
        .filter(|(v, r)| v.is_finite() && r.is_finite())
        .fold((0.0, 0.0), |(a, b), (v, r)| (a + v, b + r));
    let sums = v / r;
    (sums.is_finite() && sums > 0.0).then_some(sums)
}

/// How far (as a factor either way) a leaf's movement may be from the
/// median's and still count as moving with it.
const TOGETHER: f64 = 1.25;

/// The normal factor read as [`Roots::Explain`]: the median of
/// [`normal_factor`] where it is a movement most of the business shared,
/// and no change where it is not — the gap is what is to be explained,
/// and against the ratio of the sums none of it would be (`Σ(v − k·r)`
/// is 0 there). Not where the median is nothing (most of the reference
/// in leaves now empty), nor where it lies beyond the sums (everything
/// fell, or grew, further than the whole did) with less than half of the
/// reference moving within [`TOGETHER`] of it: nearly half of the
/// reference collapsed and a few other leaves fell part of the way, the
/// median among those few. Against it, a fall would be explained by the
/// segments that rose. Where a minority collapsed and the rest moved
/// together, the median is beyond the sums too, and normal.
pub fn explaining_normal(leaves: &[(f64, f64)]) -> f64 {
    let median = weighted_median(leaves);
    if median <= 0.0 {
        return 1.0;
    }
    let Some(sums) = ratio_of_sums(leaves) else {
        return median;
    };
    if !((sums < 1.0 && median < sums) || (sums > 1.0 && median > sums)) {
        return median;
    }
    let finite = || leaves.iter().filter(|(v, r)| v.is_finite() && r.is_finite());
    let (all, with_median) = finite().fold((0.0, 0.0), |(all, with), (v, r)| {
        let near = *r > 0.0 && (v / r / median).ln().abs() <= TOGETHER.ln();
        (all + r, if near { with + r } else { with })
    });
    if 2.0 * with_median > all { median } else { 1.0 }
}

/// The `r`-weighted median of the leaves' `v/r` (1 when nothing was
/// expected anywhere).
fn weighted_median(leaves: &[(f64, f64)]) -> f64 {
    let mut xs: Vec<(f64, f64)> = leaves
        .iter()
        .filter(|(v, r)| *r > 0.0 && v.is_finite() && r.is_finite())
        .map(|(v, r)| (v / r, *r))
        .collect();
    if xs.is_empty() {
        return 1.0;
    }
    xs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
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

/// Each finite candidate normal factor with the leaves' noise at it,
/// computed once for both the cube's pruning and [`search_normal`]. No
/// finite factor: "nothing moved" (1).
pub fn normals(leaves: &[(f64, f64)], ks: &[f64], counted: Counted) -> Vec<(f64, Noise)> {
    let mut out: Vec<(f64, Noise)> = ks
        .iter()
        .filter(|k| k.is_finite())
        .map(|&k| (k, noise(leaves, k, counted)))
        .collect();
    if out.is_empty() {
        out.push((1.0, noise(leaves, 1.0, counted)));
    }
    out
}

/// Searches with each candidate normal factor (and its noise, from
/// [`normals`]) and keeps the one that leaves the least unexplained
/// (`E(k)` less what its roots explain); within 10% of each other, the
/// factor nearer 1 (nothing moved) wins. The median alone takes a collapse
/// of more than half the reference for what is normal; "nothing moved"
/// alone takes a common trend for a cause.
pub fn search_normal(
    candidates: &[Candidate],
    total: &Fit,
    normals: &[(f64, Noise)],
    leaves: &Leaves<'_>,
    settings: &Settings,
) -> Found {
    let index = Index::of(candidates);
    let mut tried: Vec<(f64, f64, Vec<Ranked>)> = normals
        .iter()
        .map(|&(k, n)| {
            let ranked = search_in(&index, candidates, total, k, n, leaves, settings);
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
        // No factor given: nothing moved, at the least noise.
        None => Found {
            k: 1.0,
            ranked: search_in(
                &index,
                candidates,
                total,
                1.0,
                Noise::level(0.0),
                leaves,
                settings,
            ),
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
/// leaves, `k` the normal factor, `noise` the leaves' ([`noise`]). No
/// leaf is judged against the others' tail ([`Leaves`]), which needs them.
pub fn search(
    candidates: &[Candidate],
    total: &Fit,
    k: f64,
    noise: Noise,
    settings: &Settings,
) -> Vec<Ranked> {
    search_in(
        &Index::of(candidates),
        candidates,
        total,
        k,
        noise,
        &Leaves::none(),
        settings,
    )
}

/// [`search`] with the candidates' index built already.
#[allow(clippy::too_many_arguments)]
fn search_in(
    index: &Index<'_>,
    candidates: &[Candidate],
    total: &Fit,
    k: f64,
    noise: Noise,
    leaves: &Leaves<'_>,
    settings: &Settings,
) -> Vec<Ranked> {
    let energy = total.deviation(k);
    let own: Vec<f64> = candidates.iter().map(|c| c.fit.gain(k)).collect();
    let penalty = |c: &Candidate| {
        let extra = c.elements.len().saturating_sub(1) as f64;
        (1.0 - settings.depth_penalty).powf(extra)
    };
    let unusual = settings.roots == Roots::Unusual;
    let mut roots: Vec<(usize, f64)> = Vec::new();
    let mut beside = Beside::new(candidates, index);
    // Each dimension's values, looked up when a root is first widened.
    let values = Values::of(candidates);
    // The leaves outside the roots chosen.
    let mut outside = *total;
    // The leaves outside the roots, when a leaf may be a root.
    let judge_leaves =
        unusual && leaves.judged() && candidates.iter().any(|c| leaves.is_leaf(c.elements.len()));
    let mut tail = if judge_leaves {
        leaves.tail(settings.max_roots)
    } else {
        Tail::default()
    };
    let mut explained = 0.0;
    // Leaves whose movement alone made a segment unusual, without standing
    // out of the noise's tail themselves: their numbers and sums.
    let mut noise_leaves: Vec<(u32, Fit)> = Vec::new();
    // Segments set aside for a child that carries their movement (none,
    // and no room for them, when the reading does not narrow).
    let mut away = vec![false; if settings.narrow { candidates.len() } else { 0 }];
    if energy > 0.0 {
        while roots.len() < settings.max_roots && explained < settings.enough * energy {
            let mut best: Option<(usize, f64, f64)> = None;
            for (i, c) in candidates.iter().enumerate() {
                if c.elements.is_empty()
                    || away.get(i).copied().unwrap_or(false)
                    || own[i] <= 0.0
                    || own[i] * penalty(c) < settings.min_gain * energy
                {
                    continue;
                }
                let Some(fit) = beside.fit(i) else {
                    continue;
                };
                if unusual
                    && (fit.significance_apart(&outside.minus(&fit), k, noise) < settings.significance
                        || (leaves.is_leaf(c.elements.len()) && !tail.stands_out(&c.fit, k)))
                {
                    continue;
                }
                if settings.least > 0.0 && fit.significance(k, noise) < settings.least {
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
                // A segment whose movement is a leaf's set aside as noise
                // is not a root (the leaf's own segment never is one).
                let one_leafs = |fit: &Fit| {
                    if noise_leaves.is_empty() || leaves.is_leaf(c.elements.len()) {
                        return false;
                    }
                    let rest = outside.minus(fit);
                    noise_leaves.iter().any(|(leaf, lf)| {
                        only_by(fit, lf, &rest, k, noise, settings) && leaves.holds(&c.elements, *leaf)
                    })
                };
                if better && !one_leafs(&fit) {
                    best = Some((i, g, judged));
                }
            }
            match best {
                Some((i, g, judged)) if judged > 0.0 && judged >= settings.min_gain * energy => {
                    // Is its movement one leaf's, a leaf that does not stand
                    // out of the noise's tail? Then that leaf is set aside
                    // and the round looks again.
                    if judge_leaves
                        && noise_leaves.len() < MOST_NOISE_LEAVES
                        && !leaves.is_leaf(candidates[i].elements.len())
                        && let Some(fit) = beside.fit(i)
                    {
                        let chosen: Vec<&Elements> =
                            roots.iter().map(|r| &candidates[r.0].elements).collect();
                        let rest = outside.minus(&fit);
                        let strongest = leaves.strongest(&candidates[i].elements, &fit, &chosen, |without| {
                            left_without(&fit, without, &rest, k, noise)
                        });
                        if let Some((leaf, lf)) = strongest
                            && only_by(&fit, &lf, &rest, k, noise, settings)
                            && !tail.stands_out(&lf, k)
                            && !noise_leaves.iter().any(|n| n.0 == leaf)
                        {
                            noise_leaves.push((leaf, lf));
                            continue;
                        }
                    }
                    // A segment whose movement is one child's is set aside,
                    // and the round looks again.
                    if settings.narrow && carried_by_a_child(i, &beside, &values, k, noise, settings) {
                        away[i] = true;
                        continue;
                    }
                    let (i, g) = widened(i, g, &beside, &values, &outside, k, noise, settings);
                    roots.push((i, g / energy));
                    explained += g;
                    if let Some(fit) = beside.fit(i) {
                        outside = outside.minus(&fit);
                    }
                    if roots.len() < settings.max_roots && explained < settings.enough * energy {
                        beside.add(i, leaves.keys());
                        if judge_leaves {
                            let chosen: Vec<&Elements> =
                                roots.iter().map(|r| &candidates[r.0].elements).collect();
                            leaves.beside(&mut tail, &candidates[i].elements, &chosen);
                        }
                    }
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
    // Best first; equal scores, fewer dimensions first, then by elements
    // (no two candidates have the same): a total order, so the best
    // `others` selected and sorted are the first `others` of all sorted.
    let order = |a: &Ranked, b: &Ranked| {
        b.score
            .total_cmp(&a.score)
            .then(
                candidates[a.index]
                    .elements
                    .len()
                    .cmp(&candidates[b.index].elements.len()),
            )
            .then(candidates[a.index].elements.cmp(&candidates[b.index].elements))
    };
    if rest.len() > settings.others {
        if settings.others == 0 {
            rest.clear();
        } else {
            rest.select_nth_unstable_by(settings.others - 1, order);
            rest.truncate(settings.others);
        }
    }
    rest.sort_unstable_by(order);
    out.extend(rest);
    out
}

/// Whether a segment's movement (`fit`, beside the roots) is that of
/// `leaf` alone: without it, what is left is not unusual on its own
/// against `rest` (the leaves outside the segment and the roots), and did
/// not move the segment's way beyond the bar of widening either — the
/// segment's other leaves did not move with its largest.
fn only_by(fit: &Fit, leaf: &Fit, rest: &Fit, k: f64, noise: Noise, settings: &Settings) -> bool {
    let without = fit.minus(leaf);
    let left = left_without(fit, &without, rest, k, noise);
    let against = rest.factor().unwrap_or(k);
    let (own, theirs) = (fit.log_factor(against), without.log_factor(against));
    let with_it = left >= settings.widen && theirs != 0.0 && (theirs > 0.0) == (own > 0.0);
    left < settings.significance && !with_it
}

/// How unusual what is left of a segment (`fit`) without part of it is
/// (`without`), against `rest`: nothing when it is only the rounding of
/// the subtraction (nothing moved).
fn left_without(fit: &Fit, without: &Fit, rest: &Fit, k: f64, noise: Noise) -> f64 {
    if without.only_rounding_of(fit) {
        0.0
    } else {
        without.significance_apart(rest, k, noise)
    }
}

/// The most leaves one search sets aside as noise that made a segment
/// unusual on its own (each costs a look at every leaf and another round).
const MOST_NOISE_LEAVES: usize = 32;

#[cfg(test)]
mod tests;
