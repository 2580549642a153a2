//! Keys of discrepant records, collected by the counting pass (an
//! `array_agg` per period and kind beside the counts):
//!
//! - a key twice among the records found on one side only is a duplicate
//!   that the row counts cannot show (`records::Counted::duplicates`);
//! - the first keys of each period and kind are the records to list: both
//!   sides are read again filtered to those keys (a join with a small
//!   table) and joined, instead of everything joined a second time.
//!
//! A key with a missing part never pairs, is never a duplicate and is
//! always read again to be listed (usually there is none).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::compute::{concat, take};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;

use super::join::{Kind, Plan, Rows as Read};
use super::records::{KeyLists, register_sql};
use crate::eval::EvalError;

/// The name the keys to list are registered under.
pub(crate) const WANTED: &str = "__rc_wanted";
/// The name the joined rows of the records to list are registered under.
pub(crate) const LISTED: &str = "__rc_listed";

/// The kinds whose keys `lists` collects.
pub(crate) fn kinds(lists: KeyLists) -> Vec<Kind> {
    match lists {
        KeyLists::None => Vec::new(),
        KeyLists::OneSided => vec![Kind::OnlyLeft, Kind::OnlyRight],
        KeyLists::Discrepant => Kind::ALL.to_vec(),
    }
}

/// The aggregate that collects the keys of discrepant records of `kind`
/// (all key columns present).
pub(crate) fn list(plan: &Plan, kind: Kind) -> String {
    let ks: Vec<String> = (0..plan.keys.len()).map(|i| format!("\"__k{i}\"")).collect();
    let key = if ks.len() == 1 {
        ks[0].clone()
    } else {
        format!("struct({})", ks.join(", "))
    };
    let mut when = vec![format!("\"__kind\" = {}", kind.code())];
    when.extend(ks.iter().map(|k| format!("{k} IS NOT NULL")));
    if kind == Kind::Matched {
        when.push(format!("({})", plan.discrepant_expr()));
    }
    format!("array_agg({key}) FILTER (WHERE {})", when.join(" AND "))
}

/// Keys collected per period (`None`: outside every period) and kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct Collected {
    lists: BTreeMap<(Option<usize>, Kind), Vec<ArrayRef>>,
}

impl Collected {
    /// Adds the list in `row` of `column` (an `array_agg` result).
    pub(crate) fn add(&mut self, period: Option<usize>, kind: Kind, column: &ArrayRef, row: usize) {
        let Some(lists) = column.as_list_opt::<i32>() else {
            return;
        };
        if lists.is_null(row) {
            return;
        }
        let keys = lists.value(row);
        if !keys.is_empty() {
            self.lists.entry((period, kind)).or_default().push(keys);
        }
    }

    /// Whether a key occurs twice among the records found on one side.
    pub(crate) fn one_sided_repeat(&self) -> Result<bool, EvalError> {
        let arrays: Vec<ArrayRef> = self
            .lists
            .iter()
            .filter(|((_, k), _)| matches!(k, Kind::OnlyLeft | Kind::OnlyRight))
            .flat_map(|(_, a)| a.iter().cloned())
            .collect();
        let Some(keys) = Keys::of(&arrays)? else {
            return Ok(false);
        };
        let mut seen = HashSet::with_capacity(keys.rows.num_rows());
        Ok(!keys.rows.iter().all(|r| seen.insert(r)))
    }

    /// The first `n` keys (in key order) of each period and kind, each
    /// once, as key columns. The first `n` records of a period in (kind,
    /// key) order are among them.
    pub(crate) fn first(&self, n: usize) -> Result<Vec<ArrayRef>, EvalError> {
        let mut chosen: Vec<ArrayRef> = Vec::new();
        for ((period, _), arrays) in &self.lists {
            if period.is_none() {
                continue;
            }
            let Some(keys) = Keys::of(arrays)? else {
                continue;
            };
            let mut order: Vec<usize> = (0..keys.rows.num_rows()).collect();
            order.sort_unstable_by(|a, b| keys.rows.row(*a).cmp(&keys.rows.row(*b)));
            order.truncate(n);
            chosen.push(keys.take(&order)?);
        }
        let Some(keys) = Keys::of(&chosen)? else {
            return Ok(Vec::new());
        };
        let mut seen = HashSet::new();
        let unique: Vec<usize> = (0..keys.rows.num_rows())
            .filter(|i| seen.insert(keys.rows.row(*i)))
            .collect();
        Ok(columns(&keys.take(&unique)?))
    }
}

/// Keys concatenated, with their row form (for order and equality).
struct Keys {
    all: ArrayRef,
    rows: Rows,
}

fn internal(e: datafusion::arrow::error::ArrowError) -> EvalError {
    EvalError::Internal(format!("comparing keys: {e}"))
}

/// A key's columns: the fields of a struct (a key of several columns),
/// else the array itself.
fn columns(a: &ArrayRef) -> Vec<ArrayRef> {
    match a.as_struct_opt() {
        Some(s) => s.columns().to_vec(),
        None => vec![Arc::clone(a)],
    }
}

impl Keys {
    fn of(arrays: &[ArrayRef]) -> Result<Option<Keys>, EvalError> {
        if arrays.is_empty() {
            return Ok(None);
        }
        let refs: Vec<&dyn Array> = arrays.iter().map(AsRef::as_ref).collect();
        let all = concat(&refs).map_err(internal)?;
        let cols = columns(&all);
        let fields: Vec<SortField> = cols
            .iter()
            .map(|c| SortField::new(c.data_type().clone()))
            .collect();
        let converter = RowConverter::new(fields).map_err(internal)?;
        let rows = converter.convert_columns(&cols).map_err(internal)?;
        Ok(Some(Keys { all, rows }))
    }

    fn take(&self, at: &[usize]) -> Result<ArrayRef, EvalError> {
        let at = datafusion::arrow::array::UInt64Array::from_iter_values(at.iter().map(|i| *i as u64));
        take(&self.all, &at, None).map_err(internal)
    }
}

/// Registers [`LISTED`]: the joined rows of the records with the `wanted`
/// keys (key columns, as [`Collected::first`] gives them) or a missing key
/// part.
pub(crate) async fn register_listed(
    ctx: &SessionContext,
    plan: &Plan,
    dups: bool,
    wanted: Vec<ArrayRef>,
) -> Result<(), EvalError> {
    let some = !wanted.is_empty();
    let what = format!(
        "reading the records of `{}` and `{}` to list",
        plan.left, plan.right
    );
    if some {
        let fields: Vec<Field> = wanted
            .iter()
            .enumerate()
            .map(|(i, a)| Field::new(format!("__w{i}"), a.data_type().clone(), true))
            .collect();
        let internal = |e: String| EvalError::Internal(format!("{what}: {e}"));
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), wanted)
            .map_err(|e| internal(e.to_string()))?;
        let table =
            MemTable::try_new(batch.schema(), vec![vec![batch]]).map_err(|e| internal(e.to_string()))?;
        ctx.deregister_table(WANTED)
            .map_err(|e| internal(e.to_string()))?;
        ctx.register_table(WANTED, Arc::new(table))
            .map_err(|e| internal(e.to_string()))?;
    }
    let sql = plan.joined_sql_of(dups, Read::Listed { wanted: some });
    register_sql(ctx, LISTED, &sql, &what, false).await
}
