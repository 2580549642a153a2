//! The record-level plan: the keys found more than once on either side
//! (hash aggregates, no sort), both sides projected to their keys, compared
//! columns and time with that mark, and a full outer join that pairs a
//! record only with the one record of the same key on the other side.
//! Each joined row gets its kind, a mismatch flag per compared column and
//! the periods of its two times.

use yardstick_core::model::{Project, Shape};
use yardstick_core::reconcile::{Reconcile, Rule};

use crate::eval::quote;

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
    /// few), with `__dup` = true.
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

    /// One side projected: keys, compared columns, time, a presence
    /// marker, and whether its key is a duplicate (on either side).
    fn side(&self, right: bool) -> String {
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
        let t = if right { "__rt" } else { "__lt" };
        match time {
            Some(time) if self.timed() => cols.push(format!("s.{} AS \"{t}\"", quote(time))),
            _ => cols.push(format!("CAST(NULL AS TIMESTAMP) AS \"{t}\"")),
        }
        let (present, dup) = if right {
            ("__rin", "__rd")
        } else {
            ("__lin", "__ld")
        };
        cols.push(format!("true AS \"{present}\""));
        cols.push(format!("COALESCE(d.\"__dup\", false) AS \"{dup}\""));
        // The duplicate keys (small) are the build side of the join.
        let on: Vec<String> = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, (l, r))| format!("d.\"__k{i}\" = s.{}", quote(if right { r } else { l })))
            .collect();
        format!(
            "SELECT {} FROM ({}) AS d RIGHT JOIN {} AS s ON {}",
            cols.join(", "),
            self.duplicate_keys(),
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
    pub(crate) fn joined_sql(&self) -> String {
        let on: Vec<String> = (0..self.keys.len())
            .map(|i| format!("l.\"__k{i}\" = r.\"__rk{i}\""))
            .chain(["NOT l.\"__ld\"".to_string(), "NOT r.\"__rd\"".to_string()])
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
        cols.push(format!(
            "CAST(CASE WHEN \"__lin\" IS NOT NULL AND \"__rin\" IS NOT NULL THEN {} \
             WHEN \"__lin\" IS NOT NULL AND \"__ld\" THEN {} WHEN \"__lin\" IS NOT NULL THEN {} \
             WHEN \"__rd\" THEN {} ELSE {} END AS INT) AS \"__kind\"",
            Kind::Matched.code(),
            Kind::DuplicateLeft.code(),
            Kind::OnlyLeft.code(),
            Kind::DuplicateRight.code(),
            Kind::OnlyRight.code()
        ));
        for j in 0..self.compared.len() {
            cols.push(format!("COALESCE({}, false) AS \"__x{j}\"", self.mismatch(j)));
        }
        if self.timed() {
            cols.push(format!("{BUCKET}(\"__lt\") AS \"__lp\""));
            cols.push(format!("{BUCKET}(\"__rt\") AS \"__rp\""));
        } else {
            cols.push("CAST(0 AS INT) AS \"__lp\"".into());
            cols.push("CAST(0 AS INT) AS \"__rp\"".into());
        }
        format!(
            "SELECT {} FROM ({}) AS l FULL OUTER JOIN ({}) AS r ON {}",
            cols.join(", "),
            self.side(false),
            self.side(true),
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
