//! Reconciliation (`[reconcile.ID]`): two sources that should hold the same
//! records — ours and a partner's — matched on keys and compared column by
//! column with tolerances, and KPIs computed on both sides.
//!
//! The definition and its tolerance rules (the one place that says when
//! two values agree) are in `model::reconcile`; this module holds the
//! bridge causes, the standing of a period and the static checks. The engine joins the records and computes the KPIs on
//! DataFusion.
//!
//! Tolerances follow datacompy's rule so that counts agree with it: numbers
//! `a` (left) and `b` (right) agree when `|a − b| ≤ abs + rel·|b|`; two
//! missing values agree, a missing value and a present one do not.

use crate::calendar::Grain;
use crate::diag::{Diagnostic, Diagnostics, Located};
pub use crate::model::reconcile::{ColumnPair, Compared, KpiTolerance, Reconcile, Rule};
use crate::model::{Cadence, Project, Shape};

/// What a part of a KPI difference comes from (the bridge), in the order
/// the bridge walks from the left value to the right one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// Records whose key is not unique on one side (never paired).
    DuplicateKeys,
    /// Records only on the left.
    OnlyLeft,
    /// Records only on the right.
    OnlyRight,
    /// Matched records whose value of one compared column differs.
    Value,
    /// Matched records whose times fall in different periods.
    Period,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::DuplicateKeys => "duplicate_keys",
            Cause::OnlyLeft => "only_left",
            Cause::OnlyRight => "only_right",
            Cause::Value => "value",
            Cause::Period => "period",
        }
    }
}

impl serde::Serialize for Cause {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Reconcile {
    /// The right-side name of a left column (keys and compared columns).
    pub fn right_name(&self, left: &str) -> Option<&str> {
        self.keys
            .iter()
            .chain(self.compare.iter().map(|c| &c.column))
            .find(|c| c.left.value == left)
            .map(|c| c.right.value.as_str())
    }

    /// The grain of the periods: the KPIs' cadence, else `every`.
    pub fn grain(&self, p: &Project) -> Option<Grain> {
        self.kpis
            .iter()
            .filter_map(|k| p.kpis.get(&k.value))
            .find_map(|k| match k.cadence.as_ref().map(|c| c.value) {
                Some(Cadence::Every(g)) => Some(g),
                _ => None,
            })
            .or(self.every.as_ref().map(|g| g.value))
    }
}

/// Static checks: sources and KPIs exist, KPIs can be computed on both
/// sides, the periods are well defined.
pub fn check_reconciles(p: &Project, d: &mut Diagnostics) {
    for r in p.reconciles.values() {
        check_one(p, r, d);
    }
}

fn check_one(p: &Project, r: &Reconcile, d: &mut Diagnostics) {
    let source_ids: Vec<&str> = p.sources.keys().map(String::as_str).collect();
    for side in [&r.left, &r.right].into_iter().flatten() {
        if !p.sources.contains_key(&side.value) {
            d.push(
                Diagnostic::error("unknown-reference", format!("unknown source `{}`", side.value))
                    .at(&side.loc)
                    .maybe_hint(crate::diag::suggestion(&side.value, source_ids.iter().copied())),
            );
        }
    }
    let (Some(left), Some(right)) = (&r.left, &r.right) else {
        return;
    };
    let (Some(ls), Some(rs)) = (p.sources.get(&left.value), p.sources.get(&right.value)) else {
        return;
    };
    let timed = |s: &Shape| !matches!(s, Shape::Reference);
    if timed(&ls.shape) != timed(&rs.shape) {
        let (with, without) = if timed(&ls.shape) {
            (left, right)
        } else {
            (right, left)
        };
        d.push(
            Diagnostic::error(
                "reconcile-time",
                format!(
                    "source `{}` has a time column and `{}` has none, so their records cannot be put in the same periods",
                    with.value, without.value
                ),
            )
            .at(&without.loc)
            .hint("give both sources a `time` column, or neither"),
        );
    }
    let mut grain: Option<(Grain, &Located<String>)> = None;
    for k in &r.kpis {
        let Some(kpi) = p.kpis.get(&k.value) else {
            let ids: Vec<&str> = p.kpis.keys().map(String::as_str).collect();
            d.push(
                Diagnostic::error("unknown-reference", format!("unknown KPI `{}`", k.value))
                    .at(&k.loc)
                    .maybe_hint(crate::diag::suggestion(&k.value, ids.iter().copied())),
            );
            continue;
        };
        let Some(measure) = kpi.measure.as_ref() else {
            continue;
        };
        let reads_left = measure.value.source().is_some_and(|s| s.value == left.value);
        if !reads_left {
            d.push(
                Diagnostic::error(
                    "reconcile-kpi",
                    format!(
                        "KPI `{}` is not computed from source `{}`, so it cannot be computed on both sides",
                        k.value, left.value
                    ),
                )
                .at(&k.loc)
                .related(&kpi.id.loc, "KPI defined here")
                .hint(format!(
                    "list KPIs written as measure, share or percentile over `{}`",
                    left.value
                )),
            );
            continue;
        }
        if !timed(&ls.shape) {
            continue;
        }
        match kpi.cadence.as_ref().map(|c| c.value) {
            Some(Cadence::Every(g)) => match grain {
                Some((first, at)) if first != g => d.push(
                    Diagnostic::error(
                        "reconcile-grain",
                        format!(
                            "KPI `{}` is evaluated per {} but `{}` per {}: one reconciliation compares periods of one length",
                            k.value,
                            g.name(),
                            at.value,
                            first.name()
                        ),
                    )
                    .at(&k.loc)
                    .hint("reconcile KPIs of different cadences in separate [reconcile] tables"),
                ),
                Some(_) => {}
                None => grain = Some((g, k)),
            },
            Some(Cadence::Window { .. }) => d.push(
                Diagnostic::error(
                    "reconcile-grain",
                    format!(
                        "KPI `{}` is a rolling window: a record counts in many windows, so its difference has no single cause",
                        k.value
                    ),
                )
                .at(&k.loc)
                .hint("reconcile a KPI with a calendar `every`"),
            ),
            None => {}
        }
        if !kpi.for_each.is_empty() {
            d.push(
                Diagnostic::warning(
                    "reconcile-entities",
                    format!(
                        "KPI `{}` is evaluated per {}; the reconciliation compares its value over all of them together",
                        k.value,
                        kpi.for_each.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                )
                .at(&k.loc),
            );
        }
        // Every column the KPI reads must be matched or compared, or the
        // difference it makes could not be explained.
        let time_col = match &ls.shape {
            Shape::Event { time } => Some(time.value.as_str()),
            Shape::Interval { start, .. } => Some(start.value.as_str()),
            Shape::Reference => None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for f in measure.value.fragments() {
            for c in &f.columns {
                if Some(c.value.as_str()) == time_col
                    || r.right_name(&c.value).is_some()
                    || seen.contains(&c.value.as_str())
                {
                    continue;
                }
                seen.push(&c.value);
                d.push(
                    Diagnostic::error(
                        "reconcile-uncompared",
                        format!(
                            "KPI `{}` reads column `{}`, which the reconciliation neither matches on nor compares, so the difference it makes could not be explained",
                            k.value, c.value
                        ),
                    )
                    .at(&k.loc)
                    .related(&c.loc, "read here")
                    .hint(format!("add `{}` to `compare`", c.value)),
                );
            }
        }
    }
    if let (Some(every), Some((g, k))) = (&r.every, grain)
        && every.value != g
    {
        d.push(
            Diagnostic::error(
                "reconcile-grain",
                format!(
                    "`every` says {} but KPI `{}` is evaluated per {}",
                    every.value.name(),
                    k.value,
                    g.name()
                ),
            )
            .at(&every.loc)
            .hint("leave `every` out: the KPIs' cadence gives the periods"),
        );
    }
}

/// Where a reconciliation's period stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// No discrepancy, or one a party accepted.
    Agreed,
    /// Records differ but every KPI is within its tolerance.
    WithinTolerance,
    /// A KPI is outside its tolerance, or a party disputes the period.
    Disputed,
}

/// What a party said about a period's discrepancy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    /// Accepted, one side's numbers standing.
    Accepted,
    Disputed,
}

impl Said {
    pub const NAMES: [&'static str; 2] = ["accepted", "disputed"];

    pub fn from_name(s: &str) -> Option<Said> {
        match s {
            "accepted" => Some(Said::Accepted),
            "disputed" => Some(Said::Disputed),
            _ => None,
        }
    }
}

/// A period's standing: what the parties said last, else what the numbers
/// say.
pub fn standing(all_within_tolerance: bool, discrepant_records: u64, said: Option<Said>) -> Standing {
    match said {
        Some(Said::Accepted) => Standing::Agreed,
        Some(Said::Disputed) => Standing::Disputed,
        None if !all_within_tolerance => Standing::Disputed,
        None if discrepant_records > 0 => Standing::WithinTolerance,
        None => Standing::Agreed,
    }
}
