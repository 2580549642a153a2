//! Judging a value against its target (LANGUAGE.md §6).

use crate::model::{PayoutPoint, Target};

/// The status of one KPI × period × entity, written in JSON as
/// `no_data`, `met`, `warning` or `missed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    NoData,
    Met,
    Warning,
    Missed,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NoData => "no_data",
            Status::Met => "met",
            Status::Warning => "warning",
            Status::Missed => "missed",
        }
    }
}

/// `no_data` without a value; `None` (no status) without a target; else met,
/// warning or missed.
pub fn judge(value: Option<f64>, target: Option<Target>, warning: Option<Target>) -> Option<Status> {
    let Some(v) = value else {
        return Some(Status::NoData);
    };
    let t = target?;
    Some(if t.holds(v) {
        Status::Met
    } else if warning.is_some_and(|w| w.holds(v)) {
        Status::Warning
    } else {
        Status::Missed
    })
}

/// value ÷ target for `>=`/`>`, target ÷ value for `<=`/`<`, 1 inside a
/// `between` range, otherwise no value (and none where a division by zero
/// would be needed).
pub fn attainment(value: Option<f64>, target: Option<Target>) -> Option<f64> {
    let v = value?;
    let ratio = |a: f64, b: f64| (b != 0.0).then(|| a / b).filter(|r| r.is_finite());
    match target? {
        Target::AtLeast(t) | Target::Above(t) => ratio(v, t),
        Target::AtMost(t) | Target::Below(t) => ratio(t, v),
        Target::Between(lo, hi) => (lo <= v && v <= hi).then_some(1.0),
    }
}

/// Payout by attainment: linear between points, 0 below the first point,
/// the last point's pay above the last (LANGUAGE.md §9).
pub fn payout(attainment: f64, curve: &[PayoutPoint]) -> f64 {
    let (Some(first), Some(last)) = (curve.first(), curve.last()) else {
        return 0.0;
    };
    if attainment < first.at {
        return 0.0;
    }
    if attainment >= last.at {
        return last.pay;
    }
    for w in curve.windows(2) {
        let (a, b) = (&w[0], &w[1]);
        if attainment >= a.at && attainment < b.at {
            return a.pay + (b.pay - a.pay) * (attainment - a.at) / (b.at - a.at);
        }
    }
    last.pay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_target_then_warning() {
        let t = Some(Target::AtLeast(15.0));
        let w = Some(Target::AtLeast(12.0));
        assert_eq!(judge(Some(17.0), t, w), Some(Status::Met));
        assert_eq!(judge(Some(15.0), t, w), Some(Status::Met));
        assert_eq!(judge(Some(13.0), t, w), Some(Status::Warning));
        assert_eq!(judge(Some(11.0), t, w), Some(Status::Missed));
        assert_eq!(judge(None, t, w), Some(Status::NoData));
        assert_eq!(judge(Some(1.0), None, None), None);
    }

    #[test]
    fn attainment_by_direction() {
        assert_eq!(
            attainment(Some(17.0), Some(Target::AtLeast(15.0))),
            Some(17.0 / 15.0)
        );
        assert_eq!(attainment(Some(50.0), Some(Target::AtMost(60.0))), Some(1.2));
        assert_eq!(
            attainment(Some(15.0), Some(Target::Between(10.0, 20.0))),
            Some(1.0)
        );
        assert_eq!(attainment(Some(25.0), Some(Target::Between(10.0, 20.0))), None);
        assert_eq!(attainment(Some(0.1), Some(Target::AtLeast(0.0))), None);
        assert_eq!(attainment(Some(0.0), Some(Target::AtMost(4.0))), None);
    }

    #[test]
    fn payout_is_linear_between_points_and_capped() {
        let curve = [
            PayoutPoint { at: 0.8, pay: 0.0 },
            PayoutPoint { at: 1.0, pay: 5000.0 },
            PayoutPoint {
                at: 1.5,
                pay: 10000.0,
            },
        ];
        assert_eq!(payout(0.7, &curve), 0.0);
        assert_eq!(payout(0.9, &curve), 2500.0);
        assert_eq!(payout(1.0, &curve), 5000.0);
        assert_eq!(payout(1.25, &curve), 7500.0);
        assert_eq!(payout(3.0, &curve), 10000.0);
    }
}
