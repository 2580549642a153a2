//! Targets judged by their own history: one that no recent period met, or
//! that every recent period met by a wide margin, is probably not the
//! target its owner means. `check` (with data) reports both as located
//! warnings; the definitions are valid either way.
//!
//! The rule: over the last [`PERIODS`] complete calendar periods of a KPI
//! with a value (every entity's rows together), and only with at least
//! [`MIN_PERIODS`] of them, `target-never-met` when no row met its target,
//! `target-always-met` when every row met it with at least [`MARGIN`] to
//! spare (relative to the target: `>= 400` met by values of 500 and more).
//! Rolling windows are left out (their daily rows overlap).

use std::collections::BTreeMap;

use yardstick_core::diag::{Diagnostic, Diagnostics, Located};
use yardstick_core::format;
use yardstick_core::model::{Cadence, MeasureDef, Threshold};
use yardstick_core::{Project, Target};

use crate::eval::{Evaluation, Row};

/// How many recent periods are judged.
pub const PERIODS: usize = 12;
/// Fewer periods than this say nothing yet.
pub const MIN_PERIODS: usize = 6;
/// "A wide margin": a quarter of the target.
pub const MARGIN: f64 = 0.25;

/// The warnings for every KPI of `project`, from `evaluation`.
pub fn target_history(project: &Project, evaluation: &Evaluation) -> Diagnostics {
    let mut by_kpi: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in &evaluation.evaluations {
        if r.complete && r.value.is_some() && r.threshold.is_some() {
            by_kpi.entry(r.kpi.as_str()).or_default().push(r);
        }
    }
    let mut d = Diagnostics::default();
    for (id, rows) in by_kpi {
        let Some(k) = project.kpis.get(id) else { continue };
        if !matches!(k.cadence.as_ref().map(|c| &c.value), Some(Cadence::Every(_))) {
            continue;
        }
        if let Some(w) = judge(k, &rows, project.settings.currency.as_deref()) {
            d.push(w);
        }
    }
    d
}

fn judge(k: &MeasureDef, rows: &[&Row], currency: Option<&str>) -> Option<Diagnostic> {
    // Rows come in period order per entity; keep the last PERIODS periods.
    let mut periods: Vec<&str> = rows.iter().map(|r| r.period.as_str()).collect();
    periods.sort_unstable();
    periods.dedup();
    if periods.len() < MIN_PERIODS {
        return None;
    }
    let recent = &periods[periods.len().saturating_sub(PERIODS)..];
    let judged: Vec<(&Row, f64, Target)> = rows
        .iter()
        .filter(|r| recent.contains(&r.period.as_str()))
        .filter_map(|r| Some((*r, r.value?, r.threshold?)))
        .collect();
    let latest = judged.iter().max_by(|a, b| a.0.period.cmp(&b.0.period))?;
    let (lo, hi) = judged
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v, _)| {
            (lo.min(*v), hi.max(*v))
        });
    let unit = k.display_unit();
    let shown = |v: f64| format::value(v, unit, currency);
    let range = if lo == hi {
        shown(lo)
    } else {
        format!("{} to {}", shown(lo), shown(hi))
    };
    let n = recent.len();
    let what = crate::consequences::period_word(k);
    let at = located_target(k, &latest.0.target)?;
    if judged.iter().all(|(_, v, t)| !t.holds(*v)) {
        return Some(
            Diagnostic::warning(
                "target-never-met",
                format!(
                    "`{}` missed this target in every one of its last {n} {what}s (values {range})",
                    k.id.value
                ),
            )
            .at(&at.loc)
            .hint("a target nobody meets is not a goal: check its unit and size against the values"),
        );
    }
    if judged.iter().all(|(_, v, t)| wide_margin(t, *v)) {
        return Some(
            Diagnostic::warning(
                "target-always-met",
                format!(
                    "`{}` met this target by more than {:.0}% in every one of its last {n} {what}s (values {range})",
                    k.id.value,
                    MARGIN * 100.0
                ),
            )
            .at(&at.loc)
            .hint("a target met without effort says little: is it still the goal?"),
        );
    }
    None
}

/// Whether `v` meets `t` with [`MARGIN`] of the target to spare.
fn wide_margin(t: &Target, v: f64) -> bool {
    match *t {
        Target::AtLeast(x) | Target::Above(x) => x > 0.0 && v >= x * (1.0 + MARGIN),
        Target::AtMost(x) | Target::Below(x) => x > 0.0 && v <= x * (1.0 - MARGIN),
        Target::Between(..) => false,
    }
}

/// A proposed target is unrealistic when the last [`PERIODS`] periods met
/// it in fewer than this share of them.
pub const RARELY: f64 = 0.1;

/// A target proposed for KPI `kpi` judged by the KPI's own recent values
/// (the last [`PERIODS`] complete periods, at least [`MIN_PERIODS`]): met
/// in fewer than [`RARELY`] of them, or met in every one by a wide margin.
/// The warning says so with the figures; `None` when it looks realistic or
/// history says nothing yet.
pub fn review_target(
    project: &Project,
    evaluation: &Evaluation,
    kpi: &str,
    proposed: &Threshold,
) -> Option<String> {
    let k = project.kpis.get(kpi)?;
    if !matches!(k.cadence.as_ref().map(|c| &c.value), Some(Cadence::Every(_))) {
        return None;
    }
    let mut rows: Vec<(&str, f64)> = evaluation
        .evaluations
        .iter()
        .filter(|r| r.kpi == kpi && r.complete)
        .filter_map(|r| Some((r.period.as_str(), r.value?)))
        .collect();
    let mut periods: Vec<&str> = rows.iter().map(|r| r.0).collect();
    periods.sort_unstable();
    periods.dedup();
    if periods.len() < MIN_PERIODS {
        return None;
    }
    let recent = &periods[periods.len().saturating_sub(PERIODS)..];
    rows.retain(|r| recent.contains(&r.0));
    let n = rows.len();
    let met = rows.iter().filter(|r| proposed.target.holds(r.1)).count();
    let unit = k.display_unit();
    let shown = |v: f64| format::value(v, unit, project.settings.currency.as_deref());
    let (lo, hi) = rows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(r.1), hi.max(r.1))
        });
    let range = if lo == hi {
        shown(lo)
    } else {
        format!("{} to {}", shown(lo), shown(hi))
    };
    let what = crate::consequences::period_word(k);
    let of = if n == recent.len() {
        format!("{n} {what}s")
    } else {
        format!("{n} results over the last {} {what}s", recent.len())
    };
    if (met as f64) < RARELY * n as f64 {
        return Some(format!(
            "`{kpi}` would have met `{}` in {met} of its last {of} (values {range}): a target met in fewer than {:.0}% of them is not realistic",
            proposed.text,
            RARELY * 100.0
        ));
    }
    if rows.iter().all(|r| wide_margin(&proposed.target, r.1)) {
        return Some(format!(
            "`{kpi}` would have met `{}` by more than {:.0}% in every one of its last {of} (values {range}): is it still a goal?",
            proposed.text,
            MARGIN * 100.0
        ));
    }
    None
}

/// The written target whose text is `text` (the plain target or a dated
/// one), for the warning's location.
fn located_target<'a>(k: &'a MeasureDef, text: &Option<String>) -> Option<&'a Located<Threshold>> {
    let text = text.as_deref()?;
    k.target
        .iter()
        .chain(k.targets.iter().map(|d| &d.target))
        .find(|t| t.value.text == text)
        .or(k.target.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wide_margin_is_a_quarter_of_the_target() {
        assert!(wide_margin(&Target::AtLeast(400.0), 500.0));
        assert!(!wide_margin(&Target::AtLeast(400.0), 499.0));
        assert!(wide_margin(&Target::AtMost(72.0), 54.0));
        assert!(!wide_margin(&Target::AtMost(72.0), 60.0));
        assert!(!wide_margin(&Target::AtLeast(0.0), 10.0));
        assert!(!wide_margin(&Target::Between(1.0, 2.0), 1.5));
    }
}
