//! The typed definitions of a project, as the loader builds them from TOML.
//!
//! Every user-written name keeps its [`Loc`] so that later checks (and the
//! engine) can point at it. Values are already parsed (targets, durations,
//! periods, SQL fragments); nothing here touches data.

use std::fmt;

use chrono::{NaiveDate, Weekday};
use chrono_tz::Tz;
use indexmap::IndexMap;

use crate::calendar::Grain;
use crate::diag::{Loc, Located};
use crate::sql::{Formula, SqlFragment};

pub mod reconcile;
pub mod review;

pub use reconcile::Reconcile;
pub use review::Review;

/// A whole project: settings and every definition, in the order written.
#[derive(Debug, Clone)]
pub struct Project {
    pub settings: Settings,
    pub sources: IndexMap<String, Source>,
    pub metrics: IndexMap<String, MeasureDef>,
    pub kpis: IndexMap<String, MeasureDef>,
    pub contracts: IndexMap<String, Contract>,
    pub incentives: IndexMap<String, Incentive>,
    pub partnerships: IndexMap<String, Partnership>,
    pub scorecards: IndexMap<String, Scorecard>,
    pub alerts: IndexMap<String, Alert>,
    pub reconciles: IndexMap<String, Reconcile>,
    pub reviews: IndexMap<String, Review>,
    pub connections: IndexMap<String, Connection>,
}

impl Project {
    /// A KPI or metric by id.
    pub fn measure(&self, id: &str) -> Option<&MeasureDef> {
        self.kpis.get(id).or_else(|| self.metrics.get(id))
    }

    /// KPIs and metrics, KPIs first.
    pub fn measures(&self) -> impl Iterator<Item = &MeasureDef> {
        self.kpis.values().chain(self.metrics.values())
    }
}

/// `[project]`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub timezone: Tz,
    pub week_start: Weekday,
    /// Month (1–12) in which the fiscal year starts.
    pub fiscal_year_start: u32,
    pub currency: Option<String>,
    pub include: Vec<Located<String>>,
    pub loc: Option<Loc>,
}

impl Settings {
    /// The project's calendar: its zone, first day of the week and fiscal
    /// year.
    pub fn calendar(&self) -> crate::calendar::Calendar {
        crate::calendar::Calendar {
            tz: self.timezone,
            week_start: self.week_start,
            fiscal_year_start: self.fiscal_year_start,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            name: String::new(),
            timezone: Tz::UTC,
            week_start: Weekday::Mon,
            fiscal_year_start: 1,
            currency: None,
            include: Vec::new(),
            loc: None,
        }
    }
}

/// File formats a source can be read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Parquet,
    Json,
}

impl FileFormat {
    pub const NAMES: [&'static str; 4] = ["csv", "parquet", "json", "ndjson"];

    pub fn from_name(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(FileFormat::Csv),
            "parquet" => Some(FileFormat::Parquet),
            "json" | "ndjson" | "jsonl" => Some(FileFormat::Json),
            _ => None,
        }
    }

    /// Guesses the format from a path's extension (globs included).
    pub fn from_path(path: &str) -> Option<Self> {
        let ext = path.rsplit('.').next()?;
        FileFormat::from_name(ext)
    }
}

/// Where a source's rows come from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Files on disk (a path or glob relative to the project root).
    Files {
        path: Located<String>,
        format: FileFormat,
    },
    /// Rows pushed through the API or `yardstick push` (`store = true`),
    /// kept in the state store and checked against the declared `columns`.
    Store,
    /// SQL over other sources.
    View {
        sql: Located<String>,
        /// Source ids the query reads from.
        reads: Vec<Located<String>>,
    },
    /// A table or view of a database (`connection` with `table`).
    Database {
        /// The `[connection.ID]` it is read through.
        connection: Located<String>,
        relation: Relation,
    },
}

/// What a database source reads.
#[derive(Debug, Clone)]
pub enum Relation {
    /// A table or view of the database, optionally schema-qualified
    /// (`public.orders`).
    Table(Located<String>),
}

/// `[connection.ID]`: a database that sources read from. The URL, which
/// may carry a password, is only ever read from the environment.
#[derive(Debug, Clone)]
pub struct Connection {
    pub id: Located<String>,
    pub kind: ConnectionKind,
    /// The environment variable that holds the URL.
    pub url_env: Located<String>,
    pub description: Option<String>,
}

/// The databases a connection can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    Postgres,
}

impl ConnectionKind {
    pub const NAMES: [(&'static str, ConnectionKind); 2] = [
        ("postgres", ConnectionKind::Postgres),
        ("postgresql", ConnectionKind::Postgres),
    ];

    pub fn name(self) -> &'static str {
        match self {
            ConnectionKind::Postgres => "postgres",
        }
    }
}

/// What one row of a source stands for.
#[derive(Debug, Clone)]
pub enum Shape {
    /// One fact at an instant.
    Event { time: Located<String> },
    /// A span of time; an empty `end` is still going.
    Interval {
        start: Located<String>,
        end: Located<String>,
    },
    /// A lookup table without time.
    Reference,
}

/// Column types users may pin with `columns = { … }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Int,
    Double,
    Bool,
    Timestamp,
    Date,
}

impl ColumnType {
    pub const NAMES: [&'static str; 6] = ["string", "int", "double", "bool", "timestamp", "date"];

    pub fn from_name(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "string" | "text" | "utf8" => Some(ColumnType::String),
            "int" | "integer" | "bigint" | "int64" => Some(ColumnType::Int),
            "double" | "float" | "float64" | "decimal" => Some(ColumnType::Double),
            "bool" | "boolean" => Some(ColumnType::Bool),
            "timestamp" | "datetime" => Some(ColumnType::Timestamp),
            "date" => Some(ColumnType::Date),
            _ => None,
        }
    }
}

/// `[source.ID]`.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: Located<String>,
    pub origin: Option<Origin>,
    pub shape: Shape,
    pub owner: Option<String>,
    /// The party that pushes this stored source's rows (its tokens may push
    /// into it, and into no other source).
    pub submitted_by: Option<String>,
    pub freshness: Option<Located<Duration>>,
    pub columns: Vec<(Located<String>, ColumnType)>,
    pub description: Option<String>,
}

impl Source {
    /// Columns this definition names directly (time, start, end).
    pub fn time_columns(&self) -> Vec<&Located<String>> {
        match &self.shape {
            Shape::Event { time } => vec![time],
            Shape::Interval { start, end } => vec![start, end],
            Shape::Reference => vec![],
        }
    }
}

/// A length of time such as `28d` or `6h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration {
    pub amount: u32,
    pub unit: DurationUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationUnit {
    Minute,
    Hour,
    Day,
    Week,
}

impl Duration {
    pub const FORMS: &'static str =
        "a whole number followed by m, h, d or w, such as \"30m\", \"6h\", \"1d\" or \"28d\"";

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit())?;
        let (num, unit) = s.split_at(split);
        let amount: u32 = num.parse().ok().filter(|n| *n > 0)?;
        let unit = match unit.trim() {
            "m" | "min" | "minute" | "minutes" => DurationUnit::Minute,
            "h" | "hour" | "hours" => DurationUnit::Hour,
            "d" | "day" | "days" => DurationUnit::Day,
            "w" | "week" | "weeks" => DurationUnit::Week,
            _ => return None,
        };
        Some(Duration { amount, unit })
    }

    /// Whole days, if the duration is a whole number of days.
    pub fn whole_days(&self) -> Option<u32> {
        match self.unit {
            DurationUnit::Day => Some(self.amount),
            DurationUnit::Week => Some(self.amount * 7),
            _ => None,
        }
    }

    pub fn to_chrono(&self) -> chrono::Duration {
        let n = i64::from(self.amount);
        match self.unit {
            DurationUnit::Minute => chrono::Duration::minutes(n),
            DurationUnit::Hour => chrono::Duration::hours(n),
            DurationUnit::Day => chrono::Duration::days(n),
            DurationUnit::Week => chrono::Duration::weeks(n),
        }
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = match self.unit {
            DurationUnit::Minute => "m",
            DurationUnit::Hour => "h",
            DurationUnit::Day => "d",
            DurationUnit::Week => "w",
        };
        write!(f, "{}{u}", self.amount)
    }
}

/// A threshold such as `>= 99.5%` or `between 10 and 20`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    AtLeast(f64),
    Above(f64),
    AtMost(f64),
    Below(f64),
    Between(f64, f64),
}

impl Target {
    pub const FORMS: &'static str = "\">= 15\", \"> 0.2\", \"<= 4\", \"< 1\" or \"between 10 and 20\"; a % suffix divides by 100 (\">= 99.5%\" is 0.995)";

    /// Parses the target syntax of LANGUAGE.md §5.
    pub fn parse(s: &str) -> Result<Target, String> {
        let t = s.trim();
        if let Some(rest) = strip_prefix_ci(t, "between") {
            let lower = rest.to_ascii_lowercase();
            let Some(and) = lower.find(" and ") else {
                return Err("`between` needs two bounds: \"between 10 and 20\"".into());
            };
            let lo = parse_number(&rest[..and])?;
            let hi = parse_number(&rest[and + 5..])?;
            if lo > hi {
                return Err(format!("the lower bound {lo} is above the upper bound {hi}"));
            }
            return Ok(Target::Between(lo, hi));
        }
        type Make = fn(f64) -> Target;
        let ops: [(&str, Make); 6] = [
            (">=", Target::AtLeast),
            ("≥", Target::AtLeast),
            ("<=", Target::AtMost),
            ("≤", Target::AtMost),
            (">", Target::Above),
            ("<", Target::Below),
        ];
        for (op, make) in ops {
            if let Some(rest) = t.strip_prefix(op) {
                return parse_number(rest)
                    .map(make)
                    .map_err(|e| format!("`{t}` is not a target ({e} after `{op}`)"));
            }
        }
        if parse_number(t).is_ok() {
            return Err(format!("a target needs a comparison, e.g. \">= {t}\""));
        }
        Err(format!("`{t}` is not a target"))
    }

    /// Whether `value` meets this target.
    pub fn holds(&self, value: f64) -> bool {
        match *self {
            Target::AtLeast(t) => value >= t,
            Target::Above(t) => value > t,
            Target::AtMost(t) => value <= t,
            Target::Below(t) => value < t,
            Target::Between(lo, hi) => lo <= value && value <= hi,
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Target::AtLeast(t) => write!(f, ">= {t}"),
            Target::Above(t) => write!(f, "> {t}"),
            Target::AtMost(t) => write!(f, "<= {t}"),
            Target::Below(t) => write!(f, "< {t}"),
            Target::Between(lo, hi) => write!(f, "between {lo} and {hi}"),
        }
    }
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
        .filter(|rest| rest.starts_with(char::is_whitespace))
}

/// A number with an optional `%` suffix (divides by 100) and `_`/`,`
/// thousands separators.
pub fn parse_number(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let (digits, scale) = match t.strip_suffix('%') {
        Some(d) => (d.trim_end(), 100.0),
        None => (t, 1.0),
    };
    let cleaned: String = digits.chars().filter(|c| *c != '_' && *c != ',').collect();
    match cleaned.parse::<f64>() {
        Ok(v) if v.is_finite() && !cleaned.is_empty() => Ok(v / scale),
        _ if t.is_empty() => Err("a number is missing".into()),
        _ => Err(format!("`{t}` is not a number")),
    }
}

/// A target together with the text it was written as (reported as is).
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub target: Target,
    pub text: String,
}

impl Threshold {
    pub fn parse(s: &str) -> Result<Threshold, String> {
        Target::parse(s).map(|target| Threshold {
            target,
            text: s.trim().to_string(),
        })
    }
}

/// One entry of an effective-dated `targets` list.
#[derive(Debug, Clone)]
pub struct DatedTarget {
    /// First day (in the project zone) on which this target is in force.
    pub from: Located<NaiveDate>,
    pub target: Located<Threshold>,
    pub warning: Option<Located<Threshold>>,
    pub note: Option<String>,
}

/// `baseline`.
#[derive(Debug, Clone)]
pub enum Baseline {
    Value(f64),
    /// Mean of the KPI's values over the periods inside this label's range.
    Period(Located<String>),
}

/// `benchmark`.
#[derive(Debug, Clone)]
pub struct Benchmark {
    pub value: f64,
    pub source: Option<String>,
}

/// `growth = { vs = … }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrowthRef {
    Previous,
    YearAgo,
}

/// `cumulative = { reset = … }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reset {
    Quarter,
    Year,
    FiscalYear,
    Never,
}

/// How a value is computed (LANGUAGE.md §4).
#[derive(Debug, Clone)]
pub enum Measure {
    Aggregate {
        source: Located<String>,
        measure: SqlFragment,
        filter: Option<SqlFragment>,
    },
    Share {
        source: Located<String>,
        condition: SqlFragment,
        filter: Option<SqlFragment>,
    },
    Percentile {
        source: Located<String>,
        of: SqlFragment,
        /// Between 0 and 100.
        p: f64,
        filter: Option<SqlFragment>,
    },
    Ratio {
        numerator: Located<String>,
        denominator: Located<String>,
    },
    Formula(Formula),
    Growth {
        of: Located<String>,
        vs: GrowthRef,
    },
    Cumulative {
        of: Located<String>,
        reset: Reset,
    },
    Availability {
        down: Located<String>,
        exclude: Option<Located<String>>,
        per: Option<Located<String>>,
        units: Option<Located<String>>,
    },
}

impl Measure {
    /// The form's name as written in TOML.
    pub fn form(&self) -> &'static str {
        match self {
            Measure::Aggregate { .. } => "measure",
            Measure::Share { .. } => "share",
            Measure::Percentile { .. } => "percentile",
            Measure::Ratio { .. } => "ratio",
            Measure::Formula(_) => "formula",
            Measure::Growth { .. } => "growth",
            Measure::Cumulative { .. } => "cumulative",
            Measure::Availability { .. } => "availability",
        }
    }

    /// The source a source-based form reads.
    pub fn source(&self) -> Option<&Located<String>> {
        match self {
            Measure::Aggregate { source, .. }
            | Measure::Share { source, .. }
            | Measure::Percentile { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Ids of other KPIs or metrics this measure is computed from.
    pub fn inputs(&self) -> Vec<&Located<String>> {
        match self {
            Measure::Ratio {
                numerator,
                denominator,
            } => vec![numerator, denominator],
            Measure::Formula(f) => f.refs(),
            Measure::Growth { of, .. } | Measure::Cumulative { of, .. } => vec![of],
            _ => vec![],
        }
    }

    /// SQL fragments evaluated against the measure's source.
    pub fn fragments(&self) -> Vec<&SqlFragment> {
        match self {
            Measure::Aggregate { measure, filter, .. } => std::iter::once(measure).chain(filter).collect(),
            Measure::Share {
                condition, filter, ..
            } => std::iter::once(condition).chain(filter).collect(),
            Measure::Percentile { of, filter, .. } => std::iter::once(of).chain(filter).collect(),
            _ => vec![],
        }
    }
}

/// Whether a definition is a KPI (with target) or a helper metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeasureKind {
    Kpi,
    Metric,
}

impl MeasureKind {
    pub fn table(self) -> &'static str {
        match self {
            MeasureKind::Kpi => "kpi",
            MeasureKind::Metric => "metric",
        }
    }
}

/// `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Individual,
    Team,
    Company,
    Partnership,
}

impl Level {
    pub const NAMES: [&'static str; 4] = ["individual", "team", "company", "partnership"];
}

/// When a KPI is evaluated: calendar periods or a rolling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Every(Grain),
    /// A rolling window of this many days, evaluated at the end of each day.
    Window {
        days: u32,
    },
}

/// `[kpi.ID]` or `[metric.ID]`.
#[derive(Debug, Clone)]
pub struct MeasureDef {
    pub kind: MeasureKind,
    pub id: Located<String>,
    pub name: Option<String>,
    pub objective: Option<String>,
    pub description: Option<String>,
    pub unit: Option<String>,
    pub tags: Vec<String>,
    /// Parties outside the organisation this KPI is shared with (API
    /// tokens of such a party see it).
    pub parties: Vec<String>,
    pub owner: Option<String>,
    pub level: Option<Level>,
    /// `None` when the definition's measure was missing or invalid (already reported).
    pub measure: Option<Located<Measure>>,
    pub cadence: Option<Located<Cadence>>,
    pub for_each: Vec<Located<String>>,
    /// Whether `for_each` was written (metrics inherit their user's entity otherwise).
    pub for_each_set: bool,
    pub dimensions: Vec<Located<String>>,
    pub target: Option<Located<Threshold>>,
    pub warning: Option<Located<Threshold>>,
    pub targets: Vec<DatedTarget>,
    /// Whether `target` or `targets` was written, even if invalid (so one
    /// bad target is reported once, not again as "no target").
    pub target_declared: bool,
    pub baseline: Option<Baseline>,
    pub benchmark: Option<Benchmark>,
    pub fill: Option<f64>,
}

impl MeasureDef {
    /// Whether any target is defined (plain or effective-dated).
    pub fn has_target(&self) -> bool {
        self.target.is_some() || !self.targets.is_empty()
    }

    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id.value)
    }

    /// The target and warning threshold in force for a period starting on
    /// local day `first` (LANGUAGE.md §5: the entry in force at its start).
    pub fn thresholds_at(&self, first: NaiveDate) -> (Option<&Threshold>, Option<&Threshold>) {
        if let Some(t) = &self.target {
            return (Some(&t.value), self.warning.as_ref().map(|w| &w.value));
        }
        match self.targets.iter().rev().find(|t| t.from.value <= first) {
            Some(t) => (
                Some(&t.target.value),
                t.warning.as_ref().or(self.warning.as_ref()).map(|w| &w.value),
            ),
            None => (None, None),
        }
    }
}

/// `breach_when`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreachRule {
    Any,
    Consecutive(u32),
    OfLast { n: u32, m: u32 },
}

impl BreachRule {
    pub const FORMS: &'static str =
        "\"any\", \"N consecutive\" (e.g. \"2 consecutive\") or \"N of last M\" (e.g. \"3 of last 6\")";

    pub fn parse(s: &str) -> Result<BreachRule, String> {
        let words: Vec<String> = s.split_whitespace().map(str::to_ascii_lowercase).collect();
        let num = |w: &str| w.parse::<u32>().ok().filter(|n| *n > 0);
        match words.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["any"] => Ok(BreachRule::Any),
            [n, "consecutive"] => num(n)
                .map(BreachRule::Consecutive)
                .ok_or_else(|| format!("`{n}` is not a positive whole number")),
            [n, "of", "last", m] => {
                let (Some(n), Some(m)) = (num(n), num(m)) else {
                    return Err("N and M must be positive whole numbers".into());
                };
                if n > m {
                    return Err(format!("{n} of last {m} can never happen: N must not exceed M"));
                }
                Ok(BreachRule::OfLast { n, m })
            }
            _ => Err(format!("`{s}` is not a breach rule")),
        }
    }
}

/// One remedy of a clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Remedy {
    /// A share of the period's fee (0.1 = 10%).
    Credit(f64),
    /// Any other consequence, e.g. `contract_review`.
    Action(String),
}

/// One tier of `credits`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreditTier {
    /// The tier applies when the value is strictly below this bound.
    pub below: f64,
    pub credit: f64,
}

/// `[[contract.ID.clause]]`.
#[derive(Debug, Clone)]
pub struct Clause {
    pub id: Located<String>,
    pub text: Option<String>,
    pub kpi: Option<Located<String>>,
    pub target: Option<Located<Threshold>>,
    /// Effective-dated targets instead of `target` (amendments): the entry
    /// in force at a period's start judges it.
    pub targets: Vec<DatedTarget>,
    pub breach_when: BreachRule,
    pub remedies: Vec<Remedy>,
    /// Sorted from the worst (lowest bound) to the mildest.
    pub credits: Vec<CreditTier>,
    pub credit_cap: Option<f64>,
}

impl Clause {
    /// The clause's own target in force for a period starting on local day
    /// `first`: `target`, or the `targets` entry in force then. `None`
    /// where the clause sets none (the KPI's own target judges it) or
    /// before its first dated entry.
    pub fn target_at(&self, first: NaiveDate) -> Option<&Threshold> {
        match &self.target {
            Some(t) => Some(&t.value),
            None => self
                .targets
                .iter()
                .rev()
                .find(|t| t.from.value <= first)
                .map(|t| &t.target.value),
        }
    }

    /// Whether the clause sets a target of its own (plain or dated).
    pub fn has_target(&self) -> bool {
        self.target.is_some() || !self.targets.is_empty()
    }
}

/// `fee = { amount, every }`.
#[derive(Debug, Clone)]
pub struct Fee {
    pub amount: f64,
    pub every: Grain,
}

/// `[contract.ID]`.
#[derive(Debug, Clone)]
pub struct Contract {
    pub id: Located<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub provider: Option<String>,
    pub client: Option<String>,
    pub fee: Option<Located<Fee>>,
    pub start: Option<NaiveDate>,
    pub end: Option<NaiveDate>,
    pub clauses: Vec<Clause>,
}

/// One point of a payout curve.
#[derive(Debug, Clone, PartialEq)]
pub struct PayoutPoint {
    /// Attainment (1.0 = 100%).
    pub at: f64,
    pub pay: f64,
}

/// `[incentive.ID]`.
#[derive(Debug, Clone)]
pub struct Incentive {
    pub id: Located<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub kpi: Option<Located<String>>,
    /// Ascending by `at`.
    pub payout: Vec<PayoutPoint>,
}

/// `kind` of a partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnershipKind {
    JointVenture,
    Technology,
    Distribution,
    Other,
}

impl PartnershipKind {
    pub const NAMES: [&'static str; 4] = ["joint_venture", "technology", "distribution", "other"];

    pub fn name(self) -> &'static str {
        match self {
            PartnershipKind::JointVenture => "joint_venture",
            PartnershipKind::Technology => "technology",
            PartnershipKind::Distribution => "distribution",
            PartnershipKind::Other => "other",
        }
    }
}

/// `[partnership.ID]`.
#[derive(Debug, Clone)]
pub struct Partnership {
    pub id: Located<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub kind: PartnershipKind,
    pub partners: Vec<String>,
    pub kpis: Vec<Located<String>>,
    pub review_every: Option<Grain>,
}

/// `[scorecard.ID]`.
#[derive(Debug, Clone)]
pub struct Scorecard {
    pub id: Located<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    /// KPI or scorecard id → weight.
    pub weights: Vec<(Located<String>, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_every_documented_form() {
        assert_eq!(Target::parse(">= 15"), Ok(Target::AtLeast(15.0)));
        assert_eq!(Target::parse("<= 4"), Ok(Target::AtMost(4.0)));
        assert_eq!(Target::parse("> 0.2"), Ok(Target::Above(0.2)));
        assert_eq!(Target::parse("<1"), Ok(Target::Below(1.0)));
        assert_eq!(Target::parse(">= 99.5%"), Ok(Target::AtLeast(0.995)));
        assert_eq!(
            Target::parse("between 10 and 20"),
            Ok(Target::Between(10.0, 20.0))
        );
        assert_eq!(
            Target::parse("Between 10% AND 20%"),
            Ok(Target::Between(0.1, 0.2))
        );
        assert_eq!(Target::parse(">= 25,000"), Ok(Target::AtLeast(25000.0)));
    }

    #[test]
    fn bad_targets_say_what_is_wrong() {
        assert!(Target::parse("15").unwrap_err().contains(">= 15"));
        assert!(Target::parse(">== 15").is_err());
        assert!(Target::parse("between 20 and 10").unwrap_err().contains("above"));
        assert!(Target::parse("between 10").is_err());
        assert!(Target::parse("at least 5").is_err());
        assert!(Target::parse(">= NaN").is_err());
    }

    #[test]
    fn targets_hold_at_their_bounds() {
        assert!(Target::AtLeast(0.995).holds(0.995));
        assert!(!Target::Above(1.0).holds(1.0));
        assert!(Target::AtMost(4.0).holds(4.0));
        assert!(!Target::Below(4.0).holds(4.0));
        assert!(Target::Between(1.0, 2.0).holds(1.0) && Target::Between(1.0, 2.0).holds(2.0));
        assert!(!Target::Between(1.0, 2.0).holds(2.0001));
    }

    #[test]
    fn durations_and_breach_rules_parse() {
        assert_eq!(Duration::parse("28d").and_then(|d| d.whole_days()), Some(28));
        assert_eq!(Duration::parse("4w").and_then(|d| d.whole_days()), Some(28));
        assert_eq!(Duration::parse("6h").and_then(|d| d.whole_days()), None);
        assert!(Duration::parse("0d").is_none() && Duration::parse("d").is_none());
        assert_eq!(BreachRule::parse("any"), Ok(BreachRule::Any));
        assert_eq!(BreachRule::parse("2 consecutive"), Ok(BreachRule::Consecutive(2)));
        assert_eq!(
            BreachRule::parse("3 of last 6"),
            Ok(BreachRule::OfLast { n: 3, m: 6 })
        );
        assert!(BreachRule::parse("7 of last 6").is_err());
        assert!(BreachRule::parse("twice").is_err());
    }
}

/// What an alert watches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertWhen {
    /// The latest complete period's status is one of `statuses`.
    Status,
    /// The period in progress is projected `at_risk` or `off_track`.
    Projection,
    /// The KPI's daily series has an anomaly on the latest complete day.
    Anomaly,
    /// A source's newest row is older than its `freshness`.
    Stale,
    /// Error budget burning fast over two windows (SRE workbook).
    BurnRate,
    /// A reconciliation's latest complete period has a KPI outside its
    /// tolerance.
    Discrepancy,
}

impl AlertWhen {
    pub const NAMES: [(&'static str, AlertWhen); 6] = [
        ("status", AlertWhen::Status),
        ("projection", AlertWhen::Projection),
        ("anomaly", AlertWhen::Anomaly),
        ("stale", AlertWhen::Stale),
        ("burn_rate", AlertWhen::BurnRate),
        ("discrepancy", AlertWhen::Discrepancy),
    ];

    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, w)| *w == self)
            .map_or("status", |(n, _)| n)
    }
}

/// The body of a webhook call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertPayload {
    /// Yardstick's JSON notice.
    Json,
    /// `{"text": …}`, as Slack's incoming webhooks (and Mattermost, Teams' Slack
    /// connector) take it.
    Slack,
}

/// Where an alert is delivered besides the log.
#[derive(Debug, Clone)]
pub enum AlertTarget {
    Url(Located<String>),
    /// The URL is in this environment variable (webhook URLs are secrets).
    Env(Located<String>),
}

/// `[alert.ID]`.
#[derive(Debug, Clone)]
pub struct Alert {
    pub id: Located<String>,
    pub name: Option<String>,
    pub when: Located<AlertWhen>,
    pub kpi: Option<Located<String>>,
    pub source: Option<Located<String>>,
    /// A contract and one of its clauses: the clause's KPI and target.
    pub contract: Option<Located<String>>,
    pub clause: Option<Located<String>>,
    /// The reconciliation a `discrepancy` alert watches.
    pub reconcile: Option<Located<String>>,
    /// For `status` (default `missed`) and `projection` (default `at_risk`
    /// and `off_track`).
    pub statuses: Vec<Located<String>>,
    pub webhook: Option<AlertTarget>,
    pub payload: AlertPayload,
    pub owner: Option<String>,
}
