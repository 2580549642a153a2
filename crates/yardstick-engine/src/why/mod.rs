//! `yardstick why`: why a KPI moved (or missed) in one period — the gap
//! between its value and a reference split over its dimensions into a
//! ranked list of causes, each a set of dimension values.
//!
//! How it runs: the KPI is reduced to parts that add up over rows (an
//! additive measure, or a ratio's numerator and denominator); one query
//! per part aggregates the period and the reference to *leaves* (one per
//! combination of the dimensions' values); one grouping-sets query over
//! the leaves gives every segment of up to `depth` dimensions with the
//! sums the search needs, pruned in the query to the segments that can
//! matter (a cube too large for one query is computed grouping by
//! grouping, `cube`); `core::why::search` ranks them. The arithmetic (contributions,
//! mix and rate) is `core::why`'s. Availability has leaves of its own,
//! from interval arithmetic (`availability`): by unit a ratio, by
//! incident an additive share of downtime.

mod availability;
pub mod clauses;
mod cube;
pub mod effect;
mod query;
mod split;

use std::collections::BTreeMap;

use serde::Serialize;
use yardstick_core::calendar::Period;
use yardstick_core::model::{GrowthRef, Measure, MeasureDef, Project};
use yardstick_core::why::search::{self, Candidate, Counted, Elements, Fit, Roots, Settings};
use yardstick_core::why::{RatioParts, mix_rate, share};

use crate::eval::{EvalError, EvalOptions};
use crate::explain::resolve_period;
use crate::sources::Catalog;
pub use cube::set_budget as set_cube_budget;
use query::{Leaf, Window};
use split::{Form, Split, split_of, split_parts};

/// How far a `why` has come, for a progress display: on large data it
/// takes a while (a case of 24M leaves, a minute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the rows into leaves, one per combination of the
    /// dimensions' values.
    Reading,
    /// Adding up the leaves into segments: `done` of `total` groupings
    /// (combinations of dimensions) so far.
    Grouping {
        leaves: usize,
        done: usize,
        total: usize,
    },
    /// Searching the segments kept for the causes.
    Searching { segments: usize },
}

/// What the period is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Vs {
    Previous,
    YearAgo,
    Target,
    Baseline,
    Forecast,
}

impl Vs {
    pub const NAMES: [&'static str; 5] = ["previous", "year_ago", "target", "baseline", "forecast"];

    pub fn parse(s: &str) -> Option<Vs> {
        Some(match s {
            "previous" => Vs::Previous,
            "year_ago" => Vs::YearAgo,
            "target" => Vs::Target,
            "baseline" => Vs::Baseline,
            "forecast" => Vs::Forecast,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        Vs::NAMES[self as usize]
    }
}

/// What `why` is asked.
#[derive(Debug, Clone)]
pub struct WhyOptions {
    pub kpi: String,
    pub period: String,
    pub vs: Vs,
    /// `col=value` pairs naming the entity of a `for_each` KPI.
    pub entity: Vec<(String, String)>,
    /// `col=value` pairs the rows are restricted to (a segment to look
    /// inside, e.g. the breakdown of one cause).
    pub within: Vec<(String, String)>,
    /// Columns to split by (default: the KPI's `dimensions` and its
    /// `for_each` columns not fixed by `entity`).
    pub dimensions: Option<Vec<String>>,
    pub depth: usize,
    /// Causes listed (roots always are).
    pub top: usize,
    /// What makes a segment a root.
    pub roots: Roots,
    pub as_of: chrono::DateTime<chrono::Utc>,
}

/// One cause: a segment, its value now and in the reference, and what it
/// adds to the gap.
#[derive(Debug, Clone, Serialize)]
pub struct Cause {
    /// Dimension → value (`null`: rows where the column is empty).
    pub elements: BTreeMap<String, Option<String>>,
    /// The KPI over the segment's rows (for a ratio, the segment's ratio).
    pub value: Option<f64>,
    pub reference: Option<f64>,
    /// What the segment adds to the gap; disjoint segments that cover the
    /// whole add up to it exactly.
    pub contribution: f64,
    /// `contribution / gap`.
    pub share: Option<f64>,
    /// For a ratio: the part of the contribution from the segment's share
    /// of the denominator moving, and from its own ratio moving.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mix: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// How unusual: the share of the period's unusual movement this cause
    /// explains (see `criterion`).
    pub score: f64,
    /// Whether it belongs to the smallest set of causes that explains the
    /// movement: what to act on.
    pub root: bool,
}

/// Everything `why` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Why {
    pub kpi: String,
    pub name: Option<String>,
    pub period: String,
    pub vs: Vs,
    /// What the reference is, in words (`2026-05`, `the target >= 60000`).
    pub reference_is: String,
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<BTreeMap<String, String>>,
    /// The segment looked inside, when restricted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within: Option<BTreeMap<String, String>>,
    /// `additive`; `ratio` (mix and rate effects); for availability,
    /// `units` (a ratio: uptime over scheduled time, per unit) or
    /// `incidents` (each cause's downtime, overlaps going to the incident
    /// that started first; a cause's value is the availability had only
    /// its incidents happened).
    pub split: &'static str,
    /// For a ratio: which effect the roots were searched on (`mix` or
    /// `rate`, whichever moved the ratio more).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<&'static str>,
    /// When the KPI is explained through another (growth through what
    /// grows), which and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub through: Option<String>,
    pub value: Option<f64>,
    pub reference: Option<f64>,
    pub gap: Option<f64>,
    /// How everything moved together, relative (`0.05`: 5% up): the
    /// movement no cause needs to explain.
    pub normal_change: f64,
    /// Share of the unusual movement the roots explain together.
    pub explained: f64,
    pub dimensions: Vec<String>,
    pub depth: usize,
    pub complete: bool,
    /// What makes a segment a root: `explain` or `unusual`.
    pub mode: &'static str,
    /// What is normal and what makes a root, in words.
    pub criterion: String,
    pub causes: Vec<Cause>,
}

/// What is normal, as `why` states it: how everything moved together.
const NORMAL: &str = "Normal is every segment moving by the same factor (the median of the finest \
segments weighted by their reference, or no change, whichever leaves less unexplained; where most \
of the reference came to nothing, the ratio of the sums takes the median's place — read as \
explain, no change does, as it does where the median lies beyond the sums' movement with less \
than half of the reference within a quarter of it)";

/// For availability: time lost does not grow with the business as sales
/// do, and with few units or causes a median would call one of two the
/// normal one.
const NORMAL_AVAILABILITY: &str = "Normal is no change in availability (time lost does not grow \
with the business as sales do)";

/// The criterion of `--roots explain` (the default), after what is normal.
const CRITERION: &str = "a cause is a segment that moved by a factor of its own, scored by the \
share of the unusual movement (squared distance from normal) it explains. Roots are chosen \
greedily by that score among the segments whose own movement stands out of the finest \
segments' noise (significance ≥ 25, see --roots unusual), a segment with more dimensions only \
when it explains more, each explaining at least 10% and stopping at 90%; a root is widened to \
its parent when the parent's other segments (outside the roots before it) also moved in the \
same direction beyond that noise and, taken whole with segments new this period, at least half \
as far, and set aside for its child explaining most when its other segments did not.";

/// The criterion of `--roots explain` where the finest segments measure no
/// noise: availability's units and incidents (each a cause rather than a
/// draw of noise), or fewer than [`NOISE_LEAVES`] finest segments (their
/// spread is the causes' own). No root must stand out of it, and none is
/// narrowed for it.
const CRITERION_NO_NOISE: &str = "a cause is a segment that moved by a factor of its own, \
scored by the share of the unusual movement (squared distance from normal) it explains. Roots \
are chosen greedily by that score, a segment with more dimensions only when it explains more, \
each explaining at least 10% and stopping at 90%; a root is widened to its parent when the \
parent's other segments (outside the roots before it) also moved in the same direction beyond \
the finest segments' noise (significance ≥ 25, see --roots unusual) and, taken whole with \
segments new this period, at least half as far.";

/// The criterion of `--roots unusual`, after what is normal.
const CRITERION_UNUSUAL: &str = "A root is every segment whose own factor is unusual against \
that of the segments outside it and the roots before it, given the finest segments' noise \
(significance ln(factor/their factor)² ÷ noise² ÷ (1/its segments' worth of evidence + 1/theirs) \
≥ 100, noise the scaled median absolute deviation of the finest segments' log change; when they \
count events, whole numbers or a share of them, counting's own Poisson or binomial noise is \
added, judged on the difference rather than the log, so a small segment's jump counts for less), \
chosen greedily by the share of the unusual movement it explains (up to 10, widened to a parent \
whose other segments moved the same way, against the factor of the segments outside the parent \
and the roots, with significance ≥ 25 — but not when, without its other children that moved \
so on their own, it did not, and no more of them moved than did not), however little of the \
gap that is. A single finest \
segment is a root only when at most 10 of the finest segments outside the roots moved as far in \
its direction, and the tail of the others beyond the 11th (an exponential in the log, its scale \
fitted on the 30 after the 11th) expects fewer than 0.05 of them as far; one that came to \
nothing (or less, or under a thousandth of normal) and one that came where nothing was expected \
moved as far, the two ways, and are counted together. A larger segment that \
is unusual only by one finest segment inside it (without it, its significance < 100, and its \
others did not move its way with significance ≥ 25) is a root only when that one is.";

/// The fewest finest segments (with a value and a reference) whose spread
/// is taken for noise a root must stand out of, read as explain.
const NOISE_LEAVES: usize = 10;

/// Whether the period's leaves count events, which has a noise of its own
/// ([`Counted`]): whole numbers (a share's successes never more than its
/// requests). Time, amounts with fractions and forecasts are not counted.
fn counted(leaves: &[Leaf], effect: Option<&str>, form: Form, availability: bool) -> Counted {
    let whole = |x: f64| x >= 0.0 && x.fract() == 0.0 && x < 9.0e15;
    if availability || form == Form::Downtime || leaves.is_empty() {
        return Counted::No;
    }
    match effect {
        Some("rate") => {
            if leaves
                .iter()
                .all(|l| whole(l.numerator) && whole(l.denominator) && l.numerator <= l.denominator)
            {
                let n: f64 = leaves.iter().map(|l| l.numerator).sum();
                let d: f64 = leaves.iter().map(|l| l.denominator).sum();
                Counted::Share((n + 0.5) / (d + 1.0))
            } else {
                Counted::No
            }
        }
        Some(_) => {
            if leaves.iter().all(|l| whole(l.denominator)) {
                Counted::Counts
            } else {
                Counted::No
            }
        }
        None => {
            if leaves.iter().all(|l| whole(l.numerator)) {
                Counted::Counts
            } else {
                Counted::No
            }
        }
    }
}

/// Answers `why` for one KPI and period.
pub async fn why(project: &Project, catalog: &Catalog, o: &WhyOptions) -> Result<Why, EvalError> {
    why_with_progress(project, catalog, o, &|_| {}).await
}

/// [`why`], telling `progress` each [`Stage`] as it is reached.
pub async fn why_with_progress(
    project: &Project,
    catalog: &Catalog,
    o: &WhyOptions,
    progress: &(dyn Fn(Stage) + Sync),
) -> Result<Why, EvalError> {
    let (kpi, _, period) = resolve_period(project, &o.kpi, &o.period)?;
    // Growth is explained through what grows, against its own reference.
    let (kpi, vs, through) = match kpi.measure.as_ref().map(|m| &m.value) {
        Some(Measure::Growth { of, vs }) => {
            let inner = project
                .measure(&of.value)
                .ok_or_else(|| EvalError::Internal(format!("`{}` vanished", of.value)))?;
            let vs = match vs {
                GrowthRef::Previous => Vs::Previous,
                GrowthRef::YearAgo => Vs::YearAgo,
            };
            let why = format!(
                "`{}` is the growth of `{}`: its change is explained through `{}` against the {}",
                o.kpi,
                of.value,
                of.value,
                if vs == Vs::Previous {
                    "previous period"
                } else {
                    "same period a year before"
                }
            );
            (inner, vs, Some(why))
        }
        _ => (kpi, o.vs, None),
    };
    let split = split_of(project, kpi)?;
    let cal = project.settings.calendar();
    let as_of_us = o.as_of.timestamp_micros();
    let start_us = cal.start(&period).timestamp_micros();
    let end_us = cal.end(&period).timestamp_micros();
    if start_us > as_of_us {
        return Err(EvalError::Data(format!(
            "`{}` starts after the evaluation instant: nothing to explain yet",
            o.period
        )));
    }
    let complete = end_us <= as_of_us;
    let now = Window {
        start_us,
        end_us: end_us.min(as_of_us.saturating_add(1)),
    };
    let (reference_period, scale_to, reference_is) =
        reference_of(project, catalog, kpi, &period, vs, o).await?;
    let rp_start = cal.start(&reference_period).timestamp_micros();
    let rp_end = cal.end(&reference_period).timestamp_micros();
    // A period still running is compared with as much of the reference.
    let reference = Window {
        start_us: rp_start,
        end_us: if complete {
            rp_end
        } else {
            (rp_start + (now.end_us - now.start_us)).min(rp_end)
        },
    };
    let dims = dimensions_of(catalog, kpi, &split, o)?;
    let entity: Vec<(String, Option<String>)> = entity_filter(kpi, &o.entity)?
        .into_iter()
        .chain(o.within.iter().cloned())
        .map(|(c, v)| (c, Some(v)))
        .collect();
    progress(Stage::Reading);
    let (mut leaves, keys, form, split_name) = match &split {
        Split::Availability(spec) => {
            let fixed = |pairs: &[(String, String)]| -> Vec<(String, Option<String>)> {
                pairs.iter().map(|(c, v)| (c.clone(), Some(v.clone()))).collect()
            };
            let a = availability::leaves(
                project,
                catalog,
                spec,
                &dims,
                &fixed(&o.entity),
                &fixed(&o.within),
                now,
                reference,
                as_of_us,
            )
            .await?;
            if a.scheduled.0 <= 0 {
                return Err(EvalError::Data(format!(
                    "`{}` has no scheduled time in {} to split",
                    o.kpi, o.period
                )));
            }
            match a.by {
                availability::By::Unit => (a.leaves, a.keys, Form::Ratio, "units"),
                availability::By::Incident => (a.leaves, a.keys, Form::Downtime, "incidents"),
            }
        }
        Split::Additive(_) | Split::Ratio { .. } => {
            let (leaves, keys) = query::leaves(
                project,
                catalog,
                &split_parts(&split),
                &dims,
                &entity,
                now,
                reference,
            )
            .await?;
            match split {
                Split::Additive(_) => (leaves, keys, Form::Additive, "additive"),
                _ => (leaves, keys, Form::Ratio, "ratio"),
            }
        }
    };
    // Split by incident the leaves are unavailability: what the KPI
    // needed is one minus it.
    let scale_to = match form {
        Form::Downtime => scale_to.map(|t| 1.0 - t),
        _ => scale_to,
    };
    // A target, baseline or forecast: the reference period's leaves
    // scaled so that their KPI is that value (spread by their shares).
    if let Some(t) = scale_to {
        match form {
            Form::Additive | Form::Downtime => {
                let refs: Vec<f64> = leaves.iter().map(|l| l.reference_numerator).collect();
                for (l, p) in leaves.iter_mut().zip(yardstick_core::why::spread(t, &refs)) {
                    l.reference_numerator = p;
                }
            }
            Form::Ratio => {
                let n: f64 = leaves.iter().map(|l| l.reference_numerator).sum();
                let d: f64 = leaves.iter().map(|l| l.reference_denominator).sum();
                let rate = n / d;
                for l in leaves.iter_mut() {
                    if rate.is_finite() && rate != 0.0 {
                        l.reference_numerator *= t / rate;
                    } else {
                        // No rate to scale: every segment at the value.
                        l.reference_numerator = t * l.reference_denominator;
                    }
                }
            }
        }
    }
    let ratio = form == Form::Ratio;
    // The model each leaf is judged by: value and expected value.
    let (effect, model): (Option<&'static str>, Vec<(f64, f64)>) = if ratio {
        let parts: Vec<RatioParts> = leaves.iter().map(Leaf::parts).collect();
        let (mix, rate) = mix_rate(&parts).map_or((0.0, 0.0), |(_, p)| {
            (
                p.iter().map(|x| x.mix).sum::<f64>(),
                p.iter().map(|x| x.rate).sum::<f64>(),
            )
        });
        let rn: f64 = leaves.iter().map(|l| l.reference_numerator).sum();
        let rd: f64 = leaves.iter().map(|l| l.reference_denominator).sum();
        let overall = if rd != 0.0 { rn / rd } else { 0.0 };
        if mix.abs() > rate.abs() {
            (
                Some("mix"),
                leaves
                    .iter()
                    .map(|l| (l.denominator, l.reference_denominator))
                    .collect(),
            )
        } else {
            (
                Some("rate"),
                leaves
                    .iter()
                    .map(|l| {
                        let r = if l.reference_denominator != 0.0 {
                            l.reference_numerator / l.reference_denominator
                        } else {
                            overall
                        };
                        (l.numerator, l.denominator * r)
                    })
                    .collect(),
            )
        }
    } else {
        (
            None,
            leaves
                .iter()
                .map(|l| (l.numerator, l.reference_numerator))
                .collect(),
        )
    };
    let availability = matches!(split, Split::Availability(_));
    let counted = counted(&leaves, effect, form, availability);
    let mut ks: Vec<f64> = if availability {
        vec![1.0]
    } else {
        match o.roots {
            Roots::Explain => vec![search::explaining_normal(&model), 1.0],
            Roots::Unusual => vec![search::normal_factor(&model), 1.0],
        }
    };
    // A median of exactly 1, or none read as explain: one search, not two.
    ks.dedup();
    let mut total_fit = Fit::default();
    for (v, r) in &model {
        total_fit.add(&Fit::leaf(*v, *r));
    }
    // Of the causes not roots, `--top` at most are shown: no more are ranked.
    // Availability's units and incidents are few, each a cause, and a few
    // finest segments' spread is their causes' own: neither measures a
    // noise a root must stand out of.
    let measured = model
        .iter()
        .filter(|(v, r)| *v > 0.0 && *r > 0.0 && v.is_finite() && r.is_finite())
        .count();
    let no_noise = availability || measured < NOISE_LEAVES;
    let base = Settings::of(o.roots);
    let settings = Settings {
        others: o.top,
        least: if no_noise { 0.0 } else { base.least },
        narrow: base.narrow && !no_noise,
        ..base
    };
    let normals = search::normals(&model, &ks, counted);
    let depth = o.depth.clamp(1, dims.len().max(1));
    // Segments explaining less than a hundredth of what a root must
    // cannot matter; every unusual segment may, however little it explains.
    // A cube over budget keeps, of the segments deeper than three
    // dimensions, the unusual ones (`cube::Prune`).
    let prune = match o.roots {
        Roots::Explain => cube::Prune {
            gain: ks
                .iter()
                .map(|k| (*k, 0.01 * settings.min_gain * total_fit.deviation(*k)))
                .collect(),
            unusual: Vec::new(),
        },
        Roots::Unusual => cube::Prune {
            gain: Vec::new(),
            unusual: normals.clone(),
        },
    };
    let grouped = |done: usize, total: usize| {
        progress(Stage::Grouping {
            leaves: leaves.len(),
            done,
            total,
        });
    };
    let segments = cube::segments(&leaves, &keys, &model, dims.len(), depth, &prune, &grouped).await?;
    progress(Stage::Searching {
        segments: segments.len(),
    });
    // The candidates take the segments' place in memory (the standard
    // library collects a `Vec`'s `into_iter().map()` in place when the
    // layouts allow), not a second copy beside them.
    let parts: Vec<RatioParts> = segments.iter().map(|s| s.parts).collect();
    let candidates: Vec<Candidate> = segments
        .into_iter()
        .map(|s| Candidate {
            elements: s.elements,
            fit: s.fit,
        })
        .collect();
    let index = query::LeafIndex {
        leaves: &leaves,
        keys: &keys,
        model: &model,
    };
    // Only the unusual reading judges a leaf among the others.
    let tail = match o.roots {
        Roots::Unusual => search::Leaves::of(&model, dims.len(), &index),
        Roots::Explain => search::Leaves::none(),
    };
    let search::Found { k, ranked } =
        search::search_normal(&candidates, &total_fit, &normals, &tail, &settings);
    let whole = RatioParts {
        numerator: leaves.iter().map(|l| l.numerator).sum(),
        denominator: leaves.iter().map(|l| l.denominator).sum(),
        reference_numerator: leaves.iter().map(|l| l.reference_numerator).sum(),
        reference_denominator: leaves.iter().map(|l| l.reference_denominator).sum(),
    };
    let (value, reference_value) = if ratio {
        let r = |n: f64, d: f64| (d != 0.0).then(|| n / d);
        (
            r(whole.numerator, whole.denominator),
            r(whole.reference_numerator, whole.reference_denominator),
        )
    } else if form == Form::Downtime {
        (Some(1.0 - whole.numerator), Some(1.0 - whole.reference_numerator))
    } else {
        (Some(whole.numerator), Some(whole.reference_numerator))
    };
    let gap = value.zip(reference_value).map(|(v, r)| v - r);
    let mut causes = Vec::new();
    let mut explained = 0.0;
    for r in &ranked {
        if !r.root && causes.len() >= o.top.max(causes.iter().filter(|c: &&Cause| c.root).count()) {
            break;
        }
        if r.root {
            explained += r.score;
        }
        let (elements, p) = (&candidates[r.index].elements, &parts[r.index]);
        causes.push(cause(elements, p, &whole, form, gap, r, &dims));
    }
    Ok(Why {
        kpi: o.kpi.clone(),
        name: kpi.name.clone(),
        period: cal.label(&period),
        vs,
        reference_is,
        unit: kpi.display_unit().map(str::to_string),
        entity: (!o.entity.is_empty()).then(|| o.entity.iter().cloned().collect()),
        within: (!o.within.is_empty()).then(|| o.within.iter().cloned().collect()),
        split: split_name,
        effect,
        through,
        value,
        reference: reference_value,
        gap,
        normal_change: k - 1.0,
        explained: explained.min(1.0),
        dimensions: dims,
        depth,
        complete,
        mode: o.roots.name(),
        criterion: {
            let normal = if availability { NORMAL_AVAILABILITY } else { NORMAL };
            match o.roots {
                Roots::Explain if no_noise => format!("{normal}; {CRITERION_NO_NOISE}"),
                Roots::Explain => format!("{normal}; {CRITERION}"),
                Roots::Unusual => format!("{normal}. {CRITERION_UNUSUAL}"),
            }
        },
        causes,
    })
}

fn cause(
    elements: &Elements,
    p: &RatioParts,
    whole: &RatioParts,
    form: Form,
    gap: Option<f64>,
    ranked: &search::Ranked,
    dims: &[String],
) -> Cause {
    let elements = elements
        .iter()
        .map(|(d, v)| (dims[*d].clone(), v.as_deref().map(str::to_string)))
        .collect();
    if form == Form::Ratio {
        let r = |n: f64, d: f64| (d != 0.0).then(|| n / d);
        // The segment against the rest: its term of the ratio moved by
        // its mix and its rate.
        let rest = RatioParts {
            numerator: whole.numerator - p.numerator,
            denominator: whole.denominator - p.denominator,
            reference_numerator: whole.reference_numerator - p.reference_numerator,
            reference_denominator: whole.reference_denominator - p.reference_denominator,
        };
        let (mix, rate) = mix_rate(&[*p, rest]).map_or((0.0, 0.0), |(_, x)| (x[0].mix, x[0].rate));
        let contribution = mix + rate;
        Cause {
            elements,
            value: r(p.numerator, p.denominator),
            reference: r(p.reference_numerator, p.reference_denominator),
            contribution,
            share: gap.and_then(|g| share(contribution, g)),
            mix: Some(mix),
            rate: Some(rate),
            score: ranked.score,
            root: ranked.root,
        }
    } else {
        // Split by incident: the availability had only the segment's
        // incidents happened, so that contribution = value − reference.
        let (value, reference) = match form {
            Form::Downtime => (1.0 - p.numerator, 1.0 - p.reference_numerator),
            _ => (p.numerator, p.reference_numerator),
        };
        let contribution = value - reference;
        Cause {
            elements,
            value: Some(value),
            reference: Some(reference),
            contribution,
            share: gap.and_then(|g| share(contribution, g)),
            mix: None,
            rate: None,
            score: ranked.score,
            root: ranked.root,
        }
    }
}

/// What `why` splits a KPI by when not told: its declared `dimensions`
/// and `for_each` columns, or a fleet's availability by its units.
pub fn default_dimensions(kpi: &MeasureDef) -> Vec<String> {
    let mut dims: Vec<String> = Vec::new();
    for d in kpi.dimensions.iter().chain(&kpi.for_each) {
        if !dims.contains(&d.value) {
            dims.push(d.value.clone());
        }
    }
    if dims.is_empty()
        && let Some(Measure::Availability { per: Some(u), .. }) = kpi.measure.as_ref().map(|m| &m.value)
    {
        dims.push(u.value.clone());
    }
    dims
}

/// The dimensions to split by, checked against the sources.
fn dimensions_of(
    catalog: &Catalog,
    kpi: &MeasureDef,
    split: &Split,
    o: &WhyOptions,
) -> Result<Vec<String>, EvalError> {
    let fixed: Vec<&str> = o
        .entity
        .iter()
        .chain(&o.within)
        .map(|(c, _)| c.as_str())
        .collect();
    let dims: Vec<String> = match &o.dimensions {
        Some(d) => d.clone(),
        None => default_dimensions(kpi)
            .into_iter()
            .filter(|d| !fixed.contains(&d.as_str()))
            .collect(),
    };
    if dims.is_empty() {
        // Availability splits by its incidents' columns: say which.
        let columns = match split {
            Split::Availability(a) => catalog
                .tables
                .get(&a.down)
                .map(|t| {
                    let names: Vec<&str> = t.schema.fields().iter().map(|f| f.name().as_str()).collect();
                    format!(" (by incident: columns of `{}`: {})", a.down, names.join(", "))
                })
                .unwrap_or_default(),
            _ => String::new(),
        };
        return Err(EvalError::Data(format!(
            "`{}` declares no `dimensions` to split by; name columns with --dimensions{columns}",
            kpi.id.value
        )));
    }
    if dims.len() > 24 {
        return Err(EvalError::Data(format!(
            "{} dimensions are more than the 24 `why` combines",
            dims.len()
        )));
    }
    for part in split_parts(split) {
        let Some(t) = catalog.tables.get(&part.source) else {
            return Err(EvalError::Internal(format!(
                "source `{}` not registered",
                part.source
            )));
        };
        for d in dims.iter().chain(o.within.iter().map(|(c, _)| c)) {
            if t.schema.field_with_unqualified_name(d).is_err() {
                let cols: Vec<String> = t.schema.fields().iter().map(|f| f.name().clone()).collect();
                return Err(EvalError::Data(format!(
                    "`{d}` is not a column of source `{}`; its columns: {}",
                    part.source,
                    cols.join(", ")
                )));
            }
        }
    }
    Ok(dims)
}

/// `col = value` conditions for the entity of a `for_each` KPI.
fn entity_filter(kpi: &MeasureDef, entity: &[(String, String)]) -> Result<Vec<(String, String)>, EvalError> {
    for (c, _) in entity {
        if !kpi.for_each.iter().any(|f| &f.value == c) {
            let cols: Vec<&str> = kpi.for_each.iter().map(|f| f.value.as_str()).collect();
            return Err(EvalError::Data(if cols.is_empty() {
                format!(
                    "`{}` has no for_each, so `--entity {c}=…` does not apply",
                    kpi.id.value
                )
            } else {
                format!("`{}` is split by {}, not by `{c}`", kpi.id.value, cols.join(", "))
            }));
        }
    }
    Ok(entity.to_vec())
}

/// The reference period, the value it is scaled to (a target, baseline
/// or forecast), and what the reference is in words.
async fn reference_of(
    project: &Project,
    catalog: &Catalog,
    kpi: &MeasureDef,
    period: &Period,
    vs: Vs,
    o: &WhyOptions,
) -> Result<(Period, Option<f64>, String), EvalError> {
    let cal = project.settings.calendar();
    let prev = cal.prev(period);
    match vs {
        Vs::Previous => Ok((prev, None, cal.label(&prev))),
        Vs::YearAgo => {
            let y = cal.year_ago(period);
            Ok((y, None, cal.label(&y)))
        }
        Vs::Target => {
            let (t, _) = kpi.thresholds_at(period.first);
            let t = t.ok_or_else(|| {
                EvalError::Data(format!(
                    "`{}` has no target in force in {}",
                    kpi.id.value, o.period
                ))
            })?;
            Ok((
                prev,
                Some(needed(&t.target)),
                format!("the target {} (spread like {})", t.text, cal.label(&prev)),
            ))
        }
        Vs::Baseline | Vs::Forecast => {
            let row = evaluated(project, catalog, kpi, period, o, vs == Vs::Forecast).await?;
            let value = if vs == Vs::Baseline {
                row.ok_or_else(|| {
                    EvalError::Data(format!("`{}` has no `baseline` to compare with", kpi.id.value))
                })?
            } else {
                row.ok_or_else(|| {
                    EvalError::Data(format!(
                        "`{}` has too little history before {} to forecast it",
                        kpi.id.value, o.period
                    ))
                })?
            };
            Ok((
                prev,
                Some(value),
                format!(
                    "the {} {} (spread like {})",
                    vs.name(),
                    yardstick_core::format::value(
                        value,
                        kpi.display_unit(),
                        project.settings.currency.as_deref()
                    ),
                    cal.label(&prev)
                ),
            ))
        }
    }
}

/// The KPI's baseline in the period, or its forecast from the complete
/// periods before it.
async fn evaluated(
    project: &Project,
    catalog: &Catalog,
    kpi: &MeasureDef,
    period: &Period,
    o: &WhyOptions,
    forecast: bool,
) -> Result<Option<f64>, EvalError> {
    let cal = project.settings.calendar();
    let opts = EvalOptions {
        as_of: o.as_of,
        from: None,
        to: Some(cal.start(period).with_timezone(&chrono::Utc)),
        kpis: vec![kpi.id.value.clone()],
        by: None,
        projections: false,
    };
    let ev = crate::evaluate(project, catalog, &opts).await?;
    let label = cal.label(period);
    let entity_matches = |r: &crate::eval::Row| {
        o.entity.iter().all(|(c, v)| {
            r.entity
                .as_ref()
                .and_then(|e| e.get(c))
                .is_some_and(|x| x.to_string() == *v)
        })
    };
    let rows: Vec<_> = ev
        .evaluations
        .iter()
        .filter(|r| r.kpi == kpi.id.value && entity_matches(r))
        .collect();
    if !forecast {
        return Ok(rows.iter().find(|r| r.period == label).and_then(|r| r.baseline));
    }
    let history: Vec<f64> = rows
        .iter()
        .filter(|r| r.complete && r.period < label)
        .filter_map(|r| r.value)
        .collect();
    let season = crate::eval::season_of(period.kind);
    Ok(yardstick_forecast::forecast(&history, season, 1)
        .ok()
        .and_then(|f| f.points.first().map(|p| p.value)))
}

/// The value a target asks for: its bound (a range's midpoint).
fn needed(t: &yardstick_core::model::Target) -> f64 {
    use yardstick_core::model::Target;
    match *t {
        Target::AtLeast(x) | Target::Above(x) | Target::AtMost(x) | Target::Below(x) => x,
        Target::Between(lo, hi) => (lo + hi) / 2.0,
    }
}
