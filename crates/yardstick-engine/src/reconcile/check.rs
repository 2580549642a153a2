//! The data checks of a reconciliation (run by `check`): every key and
//! compared column exists on its side, and each tolerance suits the
//! column's type.

use datafusion::arrow::datatypes::DataType;
use yardstick_core::diag::{Diagnostic, Diagnostics, Located};
use yardstick_core::model::Project;
use yardstick_core::reconcile::{Reconcile, Rule};

use crate::sources::{Catalog, unknown_column};

fn is_time(t: &DataType) -> bool {
    matches!(t, DataType::Timestamp(..) | DataType::Date32 | DataType::Date64)
}

/// Columns of every reconciliation against the registered schemas.
pub fn check_reconcile_columns(project: &Project, catalog: &Catalog, d: &mut Diagnostics) {
    for rc in project.reconciles.values() {
        check_one(rc, catalog, d);
    }
}

fn check_one(rc: &Reconcile, catalog: &Catalog, d: &mut Diagnostics) {
    let (Some(left), Some(right)) = (&rc.left, &rc.right) else {
        return;
    };
    let (Some(lt), Some(rt)) = (catalog.tables.get(&left.value), catalog.tables.get(&right.value)) else {
        return;
    };
    let ty = |side: bool, col: &Located<String>, d: &mut Diagnostics| -> Option<DataType> {
        let (t, source) = if side {
            (rt, &right.value)
        } else {
            (lt, &left.value)
        };
        match t.schema.field_with_unqualified_name(&col.value) {
            Ok(f) => Some(f.data_type().clone()),
            Err(_) => {
                let what = if side {
                    format!("reconciliation `{}` (right side)", rc.id.value)
                } else {
                    format!("reconciliation `{}` (left side)", rc.id.value)
                };
                let mut local = Diagnostics::default();
                unknown_column(&mut local, col, source, &t.schema, &what);
                d.extend(local.iter().cloned());
                None
            }
        }
    };
    for k in &rc.keys {
        ty(false, &k.left, d);
        ty(true, &k.right, d);
    }
    for c in &rc.compare {
        let (Some(a), Some(b)) = (ty(false, &c.column.left, d), ty(true, &c.column.right, d)) else {
            continue;
        };
        let bad = |what: &str, hint: &str| {
            Diagnostic::error(
                "reconcile-rule",
                format!(
                    "`{}` is compared {what}, but it holds {a} on the left and {b} on the right",
                    c.column.left.value
                ),
            )
            .at(&c.column.left.loc)
            .hint(hint.to_string())
        };
        match c.rule {
            Rule::Numeric { .. } if !(a.is_numeric() && b.is_numeric()) => d.push(bad(
                "as numbers (abs/rel)",
                "abs and rel are for number columns; compare text with \"exact\" or \"fold\"",
            )),
            Rule::Window(_) if !(is_time(&a) && is_time(&b)) => d.push(bad(
                "as times (window)",
                "a window is for time columns; declare the column's type with `columns = { col = \"timestamp\" }`",
            )),
            Rule::Exact | Rule::Fold | Rule::Numeric { .. } | Rule::Window(_) => {
                if a.is_numeric() != b.is_numeric() && a != DataType::Null && b != DataType::Null {
                    d.push(
                        Diagnostic::error(
                            "reconcile-rule",
                            format!(
                                "`{}` holds {a} on the left and {b} on the right, so its values never compare equal",
                                c.column.left.value
                            ),
                        )
                        .at(&c.column.left.loc)
                        .hint("give both sides the same type, e.g. with `columns = { col = \"double\" }` on the source"),
                    );
                }
            }
        }
    }
}
