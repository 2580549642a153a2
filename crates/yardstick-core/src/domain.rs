//! What values a measure can produce, and targets that lie outside them.
//!
//! Shares and availability are fractions in [0, 1]; counts are never
//! negative; sums (and counts) of rows whose values are all non-negative
//! never are either, which callers that have the values say with
//! [`Domain::non_negative`]. Forecasts and projections keep their points
//! and ranges inside the domain; `check` warns about a target that no
//! possible value meets, or that every possible value meets.

use crate::diag::{Diagnostic, Diagnostics, Located};
use crate::model::{Measure, MeasureDef, Target, Threshold};

/// A closed range of possible values; `None` is unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Domain {
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Domain {
    /// Any number.
    pub const ANY: Domain = Domain { lo: None, hi: None };
    /// A fraction: shares and availability.
    pub const FRACTION: Domain = Domain {
        lo: Some(0.0),
        hi: Some(1.0),
    };
    /// Zero or more: counts.
    pub const NON_NEGATIVE: Domain = Domain {
        lo: Some(0.0),
        hi: None,
    };

    /// The domain of a definition's measure, from its form alone.
    pub fn of(m: &MeasureDef) -> Domain {
        match m.measure.as_ref().map(|x| &x.value) {
            Some(Measure::Share { .. } | Measure::Availability { .. }) => Domain::FRACTION,
            Some(Measure::Aggregate { measure, .. }) if is_count(&measure.text) => Domain::NON_NEGATIVE,
            _ => Domain::ANY,
        }
    }

    /// This domain, floored at zero when the caller knows the values are
    /// sums or counts of non-negative amounts.
    pub fn non_negative(self) -> Domain {
        Domain {
            lo: Some(self.lo.map_or(0.0, |lo| lo.max(0.0))),
            hi: self.hi,
        }
    }

    /// `x` moved into the domain (NaN stays NaN); `-0` becomes `0`.
    pub fn clamp(&self, x: f64) -> f64 {
        let mut x = x;
        if let Some(lo) = self.lo {
            x = if x < lo { lo } else { x };
        }
        if let Some(hi) = self.hi {
            x = if x > hi { hi } else { x };
        }
        if x == 0.0 { 0.0 } else { x }
    }

    fn lo(&self) -> f64 {
        self.lo.unwrap_or(f64::NEG_INFINITY)
    }

    fn hi(&self) -> f64 {
        self.hi.unwrap_or(f64::INFINITY)
    }

    /// Whether some value of the domain meets `t`.
    pub fn can_meet(&self, t: &Target) -> bool {
        let (lo, hi) = (self.lo(), self.hi());
        match *t {
            Target::AtLeast(x) => x <= hi,
            Target::Above(x) => x < hi,
            Target::AtMost(x) => x >= lo,
            Target::Below(x) => x > lo,
            Target::Between(a, b) => a <= hi && b >= lo && a <= b,
        }
    }

    /// Whether every value of the domain meets `t` (only a bounded side can
    /// make that true).
    pub fn always_meets(&self, t: &Target) -> bool {
        let (lo, hi) = (self.lo(), self.hi());
        match *t {
            Target::AtLeast(x) => x <= lo,
            Target::Above(x) => x < lo,
            Target::AtMost(x) => x >= hi,
            Target::Below(x) => x > hi,
            Target::Between(a, b) => a <= lo && b >= hi,
        }
    }
}

/// Whether an aggregate is one `count(…)` call.
fn is_count(text: &str) -> bool {
    crate::sql::is_single_call(text, &["count"])
}

/// Warns about thresholds of `m` that no possible value meets, or that
/// every possible value meets, naming the fix where one is clear.
pub fn check_target_domains(m: &MeasureDef, d: &mut Diagnostics) {
    if let Some(t) = &m.target {
        check_threshold(m, t, "target", d);
    }
    if let Some(w) = &m.warning {
        check_threshold(m, w, "warning", d);
    }
    for dated in &m.targets {
        check_threshold(m, &dated.target, "target", d);
        if let Some(w) = &dated.warning {
            check_threshold(m, w, "warning", d);
        }
    }
}

/// [`check_target_domains`] for one threshold judging `m` (a clause's
/// target is one too).
pub fn check_threshold(m: &MeasureDef, t: &Located<Threshold>, role: &str, d: &mut Diagnostics) {
    let domain = Domain::of(m);
    if domain == Domain::ANY {
        return;
    }
    let what = if domain == Domain::FRACTION {
        "a share or availability lies between 0 and 1 (0% and 100%)"
    } else {
        "a count is never negative"
    };
    let target = &t.value.target;
    if !domain.can_meet(target) {
        let hint = match (domain == Domain::FRACTION, percent_fix(&t.value.text)) {
            (true, Some(fix)) => format!("{what}: write `{fix}`"),
            _ => what.to_string(),
        };
        d.push(
            Diagnostic::warning(
                "impossible-target",
                format!(
                    "this {role} can never be met: no value of `{}` can be `{}`",
                    m.id.value, t.value.text
                ),
            )
            .at(&t.loc)
            .hint(hint),
        );
    } else if domain.always_meets(target) {
        d.push(
            Diagnostic::warning(
                "trivial-target",
                format!(
                    "this {role} is always met: every value of `{}` is `{}`",
                    m.id.value, t.value.text
                ),
            )
            .at(&t.loc)
            .hint(what),
        );
    }
}

/// `>= 90` → `>= 90%`, when the numbers read as percentages fit [0, 100].
fn percent_fix(text: &str) -> Option<String> {
    if text.contains('%') {
        return None;
    }
    let numbers: Vec<f64> = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|w| !w.is_empty())
        .filter_map(|w| w.parse().ok())
        .collect();
    if numbers.is_empty() || numbers.iter().any(|x| *x > 100.0) {
        return None;
    }
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        let in_number = c.is_ascii_digit() || c == '.';
        let next_in_number = chars.peek().is_some_and(|n| n.is_ascii_digit() || *n == '.');
        if in_number && !next_in_number {
            out.push('%');
        }
    }
    Some(out)
}

impl MeasureDef {
    /// The unit its values are shown in: the declared `unit`, else `%` for
    /// shares and availability (values 0–1 are percentages unless the
    /// definition says otherwise).
    pub fn display_unit(&self) -> Option<&str> {
        self.unit
            .as_deref()
            .or_else(|| (Domain::of(self) == Domain::FRACTION).then_some("%"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_one_count_call() {
        assert!(is_count("count(*)"));
        assert!(is_count("COUNT(DISTINCT customer_id)"));
        assert!(is_count("count(case when a then 1 end)"));
        assert!(!is_count("count(*) - 5"));
        assert!(!is_count("sum(amount)"));
        assert!(!is_count("count(a) / count(b)"));
    }

    #[test]
    fn targets_against_a_fraction() {
        let f = Domain::FRACTION;
        assert!(!f.can_meet(&Target::AtLeast(90.0)));
        assert!(f.can_meet(&Target::AtLeast(0.9)));
        assert!(f.can_meet(&Target::AtLeast(1.0)));
        assert!(!f.can_meet(&Target::Above(1.0)));
        assert!(!f.can_meet(&Target::Below(0.0)));
        assert!(f.always_meets(&Target::AtLeast(0.0)));
        assert!(f.always_meets(&Target::AtMost(1.0)));
        assert!(!f.always_meets(&Target::AtMost(0.99)));
        assert!(!Domain::NON_NEGATIVE.can_meet(&Target::Below(0.0)));
        assert!(!Domain::NON_NEGATIVE.always_meets(&Target::AtMost(1e9)));
    }

    #[test]
    fn percent_fixes() {
        assert_eq!(percent_fix(">= 90").as_deref(), Some(">= 90%"));
        assert_eq!(
            percent_fix("between 95 and 99.5").as_deref(),
            Some("between 95% and 99.5%")
        );
        assert_eq!(percent_fix(">= 250"), None);
        assert_eq!(percent_fix(">= 90%"), None);
    }

    #[test]
    fn clamping_keeps_values_possible() {
        assert_eq!(Domain::FRACTION.clamp(1.12), 1.0);
        assert_eq!(Domain::FRACTION.clamp(-0.17), 0.0);
        assert_eq!(Domain::NON_NEGATIVE.clamp(-0.0).to_bits(), 0.0f64.to_bits());
        assert_eq!(Domain::ANY.clamp(-3.0), -3.0);
        assert_eq!(Domain::ANY.non_negative().clamp(-3.0), 0.0);
    }
}
