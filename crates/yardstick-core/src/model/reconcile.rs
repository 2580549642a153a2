//! `[reconcile.ID]` as loaded: both sides, keys, compared columns with
//! their tolerance rules, KPIs and owners (see `crate::reconcile` for the
//! checks and the semantics around them).
//!
//! Tolerances follow datacompy's rule so that counts agree with it: numbers
//! `a` (left) and `b` (right) agree when `|a − b| ≤ abs + rel·|b|`; two
//! missing values agree, a missing value and a present one do not.

use super::Duration;
use crate::calendar::Grain;
use crate::diag::Located;

/// `[reconcile.ID]`.
#[derive(Debug, Clone)]
pub struct Reconcile {
    pub id: Located<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Source ids of both sides; the left is usually ours.
    pub left: Option<Located<String>>,
    pub right: Option<Located<String>>,
    /// Columns that identify a record, named on each side.
    pub keys: Vec<ColumnPair>,
    /// Columns compared on matched records, in order (the bridge's order).
    pub compare: Vec<Compared>,
    /// KPIs over `left`, computed on both sides.
    pub kpis: Vec<Located<String>>,
    /// How far the KPI values may differ and still agree.
    pub tolerance: Option<Located<KpiTolerance>>,
    /// The period of record-level counts when no KPI gives one.
    pub every: Option<Located<Grain>>,
    /// Who fixes each side's data (default: the source's `owner`).
    pub owner_left: Option<String>,
    pub owner_right: Option<String>,
    /// Parties who may see this reconciliation.
    pub parties: Vec<String>,
}

/// A column as named on the left and on the right.
#[derive(Debug, Clone)]
pub struct ColumnPair {
    pub left: Located<String>,
    pub right: Located<String>,
}

/// A compared column and when its two values agree.
#[derive(Debug, Clone)]
pub struct Compared {
    pub column: ColumnPair,
    pub rule: Rule,
}

/// When two values of a compared column agree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    /// Equal values (numbers, strings, times, booleans).
    Exact,
    /// Numbers with `|a − b| ≤ abs + rel·|b|`.
    Numeric { abs: f64, rel: f64 },
    /// Strings equal once trimmed and upper-cased.
    Fold,
    /// Times at most this far apart.
    Window(Duration),
}

impl Rule {
    /// Whether two numbers agree (datacompy's rule; missing = missing).
    pub fn numbers_agree(self, left: Option<f64>, right: Option<f64>) -> bool {
        let (abs, rel) = match self {
            Rule::Numeric { abs, rel } => (abs, rel),
            _ => (0.0, 0.0),
        };
        match (left, right) {
            (None, None) => true,
            (Some(a), Some(b)) => (a - b).abs() <= abs + rel * b.abs(),
            _ => false,
        }
    }

    /// How the rule is written, for reports.
    pub fn describe(self) -> String {
        match self {
            Rule::Exact => "exact".into(),
            Rule::Fold => "ignoring case and surrounding spaces".into(),
            Rule::Numeric { abs, rel } => match (abs > 0.0, rel > 0.0) {
                (true, true) => format!("within {abs} + {}%", rel * 100.0),
                (true, false) => format!("within {abs}"),
                (false, true) => format!("within {}%", rel * 100.0),
                (false, false) => "exact".into(),
            },
            Rule::Window(d) => format!("within {d}"),
        }
    }
}

/// How far two KPI values may differ: `|l − r| ≤ abs + rel·|r|`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KpiTolerance {
    pub abs: f64,
    pub rel: f64,
}

impl KpiTolerance {
    /// Differences this small relative to the values are rounding, not
    /// disagreement (sums of the same amounts in another order).
    pub const ROUNDING: f64 = 1e-9;

    /// Whether two KPI values agree: within the tolerance, or apart by no
    /// more than rounding. Two missing values agree.
    pub fn agrees(self, left: Option<f64>, right: Option<f64>) -> bool {
        match (left, right) {
            (Some(l), Some(r)) => {
                (l - r).abs() <= self.abs + self.rel * r.abs() + Self::ROUNDING * l.abs().max(r.abs())
            }
            (None, None) => true,
            _ => false,
        }
    }
}
