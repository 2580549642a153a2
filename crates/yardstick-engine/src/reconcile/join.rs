//! The record-level plan: both sides projected to their keys, compared
//! columns, time and period, and a full outer join on the keys. Each
//! joined row gets its kind, a mismatch flag per compared column and the
//! periods of its two times.
//!
//! Keys are assumed unique first (one join, as a peer engine would run
//! it). Whether they were is read off that join's counts
//! (`records::Counted::duplicates`); only if not are the keys found more
//! than once on either side computed (hash aggregates, no sort) and the
//! join run again with them marked, so that a record is paired only with
//! the one record of the same key on the other side — never a
//! many-to-many join.

use datafusion::prelude::SessionContext;
use yardstick_core::model::{Project, Shape};
use yardstick_core::reconcile::{Reconcile, Rule};

use crate::eval::{EvalError, quote};

/// What a joined row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// On both sides, each key unique.
    Matched,
    OnlyLeft,
    OnlyRight,
    /// On the left, with a key found more than once on either side
    /// (never paired).
    DuplicateLeft,
    DuplicateRight,
}

impl Kind {
    pub(crate) const ALL: [Kind; 5] = [
        Kind::Matched,
        Kind::OnlyLeft,
        Kind::OnlyRight,
        Kind::DuplicateLeft,
        Kind::DuplicateRight,
    ];

    /// The code stored in `__kind`.
    pub(crate) fn code(self) -> i32 {
        match self {
            Kind::Matched => 0,
            Kind::OnlyLeft => 1,
            Kind::OnlyRight => 2,
            Kind::DuplicateLeft => 3,
            Kind::DuplicateRight => 4,
        }
    }

    pub(crate) fn from_code(c: i32) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == c)
    }

    /// Whether the row's values and time are the right side's.
    pub fn is_right(self) -> bool {
        matches!(self, Kind::OnlyRight | Kind::DuplicateRight)
    }
}

/// Which records the join reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rows {
    All,
    /// Those whose key is among the keys registered as `keys::WANTED`
    /// (when `wanted`) or has a missing part.
    Listed {
        wanted: bool,
    },
}

/// A compared column on both sides.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub(crate) left: String,
    pub(crate) right: String,
    pub(crate) rule: Rule,
}

/// The columns one reconciliation reads, and the SQL over them.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub(crate) left: String,
    pub(crate) right: String,
    /// Key columns, (left name, right name).
    pub(crate) keys: Vec<(String, String)>,
    pub(crate) compared: Vec<Column>,
    pub(crate) left_time: Option<String>,
    pub(crate) right_time: Option<String>,
}

/// The name the joined rows are registered under.
pub(crate) const JOINED: &str = "__rc_joined";
/// The function that maps an instant to its period index.
pub(crate) const BUCKET: &str = "__rc_bucket";
/// The name the duplicate keys are registered under (slow path only).
pub(crate) const DUPLICATES: &str = "__rc_duplicates";

fn time_of(shape: &Shape) -> Option<String> {
    match shape {
        Shape::Event { time } => Some(time.value.clone()),
        Shape::Interval { start, .. } => Some(start.value.clone()),
        Shape::Reference => None,
    }
}

impl Plan {
    pub(crate) fn new(project: &Project, rc: &Reconcile) -> Option<Plan> {
        let left = rc.left.as_ref()?.value.clone();
        let right = rc.right.as_ref()?.value.clone();
        let ls = project.sources.get(&left)?;
        let rs = project.sources.get(&right)?;
        Some(Plan {
            keys: rc
                .keys
                .iter()
                .map(|k| (k.left.value.clone(), k.right.value.clone()))
                .collect(),
            compared: rc
                .compare
                .iter()
                .map(|c| Column {
                    left: c.column.left.value.clone(),
                    right: c.column.right.value.clone(),
                    rule: c.rule,
                })
                .collect(),
            left_time: time_of(&ls.shape),
            right_time: time_of(&rs.shape),
            left,
            right,
        })
    }

    pub(crate) fn timed(&self) -> bool {
        self.left_time.is_some() && self.right_time.is_some()
    }

    /// The keys of one side, named `__k0…`.
    fn keys_of(&self, right: bool) -> Vec<String> {
        self.keys
            .iter()
            .enumerate()
            .map(|(i, (l, r))| format!("{} AS \"__k{i}\"", quote(if right { r } else { l })))
            .collect()
    }

    /// Keys found more than once on either side (hash aggregates; usually
    /// few), with `__dup` = true: registered as [`DUPLICATES`] by
    /// [`register_duplicates`] before a join that needs them.
    fn duplicate_keys(&self) -> String {
        let ks: Vec<String> = (0..self.keys.len()).map(|i| format!("\"__k{i}\"")).collect();
        let side = |right: bool| {
            format!(
                "SELECT {k} FROM (SELECT {} FROM {}) GROUP BY {k} HAVING count(*) > 1",
                self.keys_of(right).join(", "),
                quote(if right { &self.right } else { &self.left }),
                k = ks.join(", ")
            )
        };
        format!(
            "SELECT {k}, true AS \"__dup\" FROM ({} UNION ALL {}) GROUP BY {k}",
            side(false),
            side(true),
            k = ks.join(", ")
        )
    }

    /// One side projected: keys, compared columns, time and its period, a
    /// presence marker, and — with `dups` — whether its key is a duplicate
    /// (on either side).
    fn side(&self, right: bool, dups: bool, rows: Rows) -> String {
        let all = self.side_all(right, dups);
        let Rows::Listed { wanted } = rows else {
            return all;
        };
        let k = if right { "__rk" } else { "__k" };
        let missing: Vec<String> = (0..self.keys.len())
            .map(|i| format!("x.\"{k}{i}\" IS NULL"))
            .collect();
        if !wanted {
            return format!("SELECT * FROM ({all}) AS x WHERE {}", missing.join(" OR "));
        }
        // The wanted keys (few) are the build side of the join.
        let on: Vec<String> = (0..self.keys.len())
            .map(|i| format!("w.\"__w{i}\" = x.\"{k}{i}\""))
            .collect();
        format!(
            "SELECT x.* FROM {} AS w RIGHT JOIN ({all}) AS x ON {} WHERE w.\"__w0\" IS NOT NULL OR {}",
            super::keys::WANTED,
            on.join(" AND "),
            missing.join(" OR ")
        )
    }

    fn side_all(&self, right: bool, dups: bool) -> String {
        let (source, time, k, c) = if right {
            (&self.right, &self.right_time, "__rk", "__r")
        } else {
            (&self.left, &self.left_time, "__k", "__l")
        };
        let mut cols: Vec<String> = Vec::new();
        for (i, (l, r)) in self.keys.iter().enumerate() {
            cols.push(format!("s.{} AS \"{k}{i}\"", quote(if right { r } else { l })));
        }
        for (j, col) in self.compared.iter().enumerate() {
            let name = quote(if right { &col.right } else { &col.left });
            cols.push(format!("s.{name} AS \"{c}{j}\""));
        }
        let (t, p) = if right { ("__rt", "__rp") } else { ("__lt", "__lp") };
        match time {
            Some(time) if self.timed() => {
                cols.push(format!("s.{} AS \"{t}\"", quote(time)));
                // The period before the join: the join carries a small
                // integer, and the time only where a query reads it.
                cols.push(format!("{BUCKET}(s.{}) AS \"{p}\"", quote(time)));
            }
            _ => {
                cols.push(format!("CAST(NULL AS TIMESTAMP) AS \"{t}\""));
                cols.push(format!("CAST(0 AS INT) AS \"{p}\""));
            }
        }
        let (present, dup) = if right {
            ("__rin", "__rd")
        } else {
            ("__lin", "__ld")
        };
        cols.push(format!("true AS \"{present}\""));
        if !dups {
            return format!("SELECT {} FROM {} AS s", cols.join(", "), quote(source));
        }
        cols.push(format!("COALESCE(d.\"__dup\", false) AS \"{dup}\""));
        // The duplicate keys (small) are the build side of the join.
        let on: Vec<String> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, (l, r))| format!("d.\"__k{i}\" = s.{}", quote(if right { r } else { l })))
            .collect();
        format!(
            "SELECT {} FROM {DUPLICATES} AS d RIGHT JOIN {} AS s ON {}",
            cols.join(", "),
            quote(source),
            on.join(" AND ")
        )
    }

    /// Whether compared column `j` differs beyond its tolerance (both
    /// missing agree; one missing does not).
    fn mismatch(&self, j: usize) -> String {
        let l = format!("\"__l{j}\"");
        let r = format!("\"__r{j}\"");
        let one_missing = format!("({l} IS NULL) <> ({r} IS NULL)");
        let both = format!("{l} IS NOT NULL AND {r} IS NOT NULL");
        match self.compared[j].rule {
            Rule::Exact => format!("{l} IS DISTINCT FROM {r}"),
            Rule::Fold => format!(
                "upper(btrim(CAST({l} AS VARCHAR))) IS DISTINCT FROM upper(btrim(CAST({r} AS VARCHAR)))"
            ),
            Rule::Numeric { abs, rel } => format!(
                "({one_missing}) OR ({both} AND abs(CAST({l} AS DOUBLE) - CAST({r} AS DOUBLE)) > {abs:?} + {rel:?} * abs(CAST({r} AS DOUBLE)))"
            ),
            Rule::Window(d) => format!(
                "({one_missing}) OR ({both} AND abs(CAST({l} AS BIGINT) - CAST({r} AS BIGINT)) > {})",
                d.to_chrono().num_microseconds().unwrap_or(i64::MAX)
            ),
        }
    }

    /// The joined rows: `__k*` (the key), `__l*`/`__r*` (compared values),
    /// `__lt`/`__rt` (times), `__kind`, `__x*` (mismatch per compared
    /// column), `__lp`/`__rp` (period indices).
    ///
    /// Without `dups` the join assumes every key unique on both sides
    /// (rows of a duplicate key are then paired with each other); the
    /// counts over it tell whether that held (see `records::Counted`), and
    /// only when it did not is the join run again with `dups`, marking
    /// every record of a duplicate key.
    pub(crate) fn joined_sql(&self, dups: bool) -> String {
        self.joined_sql_of(dups, Rows::All)
    }

    /// [`Plan::joined_sql`] over the records `rows` selects on both sides.
    pub(crate) fn joined_sql_of(&self, dups: bool, rows: Rows) -> String {
        let on: Vec<String> = (0..self.keys.len())
            .map(|i| format!("l.\"__k{i}\" = r.\"__rk{i}\""))
            .chain(
                dups.then(|| ["NOT l.\"__ld\"".to_string(), "NOT r.\"__rd\"".to_string()])
                    .into_iter()
                    .flatten(),
            )
            .collect();
        let mut cols: Vec<String> = Vec::new();
        for i in 0..self.keys.len() {
            cols.push(format!(
                "CASE WHEN \"__lin\" IS NOT NULL THEN \"__k{i}\" ELSE \"__rk{i}\" END AS \"__k{i}\""
            ));
        }
        for j in 0..self.compared.len() {
            cols.push(format!("\"__l{j}\""));
            cols.push(format!("\"__r{j}\""));
        }
        cols.push("\"__lt\"".into());
        cols.push("\"__rt\"".into());
        // A key found more than once on either side pairs with nothing:
        // every record of it, on both sides, is a duplicate.
        let kind = if dups {
            format!(
                "CASE WHEN \"__lin\" IS NOT NULL AND \"__rin\" IS NOT NULL THEN {} \
                 WHEN \"__lin\" IS NOT NULL AND \"__ld\" THEN {} WHEN \"__lin\" IS NOT NULL THEN {} \
                 WHEN \"__rd\" THEN {} ELSE {} END",
                Kind::Matched.code(),
                Kind::DuplicateLeft.code(),
                Kind::OnlyLeft.code(),
                Kind::DuplicateRight.code(),
                Kind::OnlyRight.code()
            )
        } else {
            format!(
                "CASE WHEN \"__rin\" IS NULL THEN {} WHEN \"__lin\" IS NULL THEN {} ELSE {} END",
                Kind::OnlyLeft.code(),
                Kind::OnlyRight.code(),
                Kind::Matched.code()
            )
        };
        cols.push(format!("CAST({kind} AS INT) AS \"__kind\""));
        for j in 0..self.compared.len() {
            cols.push(format!("COALESCE({}, false) AS \"__x{j}\"", self.mismatch(j)));
        }
        if self.timed() {
            cols.push("\"__lp\"".into());
            cols.push("\"__rp\"".into());
        } else {
            cols.push("CAST(0 AS INT) AS \"__lp\"".into());
            cols.push("CAST(0 AS INT) AS \"__rp\"".into());
        }
        format!(
            "SELECT {} FROM ({}) AS l FULL OUTER JOIN ({}) AS r ON {}",
            cols.join(", "),
            self.side(false, dups, rows),
            self.side(true, dups, rows),
            on.join(" AND ")
        )
    }

    /// The period a row counts in: the left side's, the right's for rows
    /// only on the right.
    pub(crate) fn period_expr() -> String {
        format!(
            "CASE WHEN \"__kind\" IN ({}, {}) THEN \"__rp\" ELSE \"__lp\" END",
            Kind::OnlyRight.code(),
            Kind::DuplicateRight.code()
        )
    }

    /// Rows with something to report: not matched, or matched with a
    /// compared column out of tolerance or times in different periods.
    pub(crate) fn discrepant_expr(&self) -> String {
        let mut parts = vec![format!("\"__kind\" <> {}", Kind::Matched.code())];
        parts.extend((0..self.compared.len()).map(|j| format!("\"__x{j}\"")));
        parts.push("\"__lp\" IS DISTINCT FROM \"__rp\"".into());
        parts.join(" OR ")
    }
}

/// Computes the keys found more than once on either side, once, and
/// registers them as [`DUPLICATES`] for [`Plan::joined_sql`] with `dups`.
pub(crate) async fn register_duplicates(ctx: &SessionContext, plan: &Plan) -> Result<(), EvalError> {
    let what = format!(
        "finding keys found more than once in `{}` or `{}`",
        plan.left, plan.right
    );
    super::records::register_sql(ctx, DUPLICATES, &plan.duplicate_keys(), &what, true).await
}
