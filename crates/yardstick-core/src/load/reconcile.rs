//! `[reconcile.ID]`: two sides, their keys, compared columns with
//! tolerances, KPIs on both sides, owners and parties.

use super::table::type_name;
use super::*;
use crate::reconcile::{ColumnPair, Compared, KpiTolerance, Reconcile, Rule};

const FORMS_KEYS: &str =
    "keys = [\"order_id\"], or keys = { order_id = \"ref\" } when the right side names it differently";
const FORMS_COMPARE: &str = "compare = [\"amount\", \"status\"], or a table: compare = { amount = { right = \"total\", abs = 0.01, rel = \"0.1%\" }, booked_at = { window = \"1d\" }, customer = \"fold\" }";

pub(super) fn read_reconcile(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Reconcile {
    tab.known_keys(
        cx,
        &[
            "name",
            "description",
            "left",
            "right",
            "keys",
            "compare",
            "kpis",
            "tolerance",
            "every",
            "owner",
            "parties",
        ],
    );
    let left = tab.id_ref(cx, "left");
    let right = tab.id_ref(cx, "right");
    for (side, v) in [("left", &left), ("right", &right)] {
        if v.is_none() && !tab.has(side) {
            cx.error(
                "missing-key",
                format!("[{}] needs `{side}`: the source of that side's records", tab.name),
                &tab.loc,
            );
        }
    }
    let keys = pairs(cx, tab, "keys");
    if keys.is_empty() && !tab.has("keys") {
        cx.error(
            "missing-key",
            format!("[{}] needs `keys`: the columns that identify a record", tab.name),
            &tab.loc,
        )
        .hint = Some(FORMS_KEYS.into());
    }
    let compare = compared(cx, tab);
    let mut owner_left = None;
    let mut owner_right = None;
    if let Some(o) = tab.table(cx, "owner") {
        o.known_keys(cx, &["left", "right"]);
        owner_left = o.text(cx, "left");
        owner_right = o.text(cx, "right");
    }
    Reconcile {
        name: tab.text(cx, "name"),
        description: tab.text(cx, "description"),
        left,
        right,
        keys,
        compare,
        kpis: tab.string_list(cx, "kpis"),
        tolerance: kpi_tolerance(cx, tab),
        every: tab.grain(cx, "every"),
        owner_left,
        owner_right,
        parties: tab
            .string_list(cx, "parties")
            .into_iter()
            .map(|p| p.value)
            .collect(),
        id,
    }
}

/// `keys`: a name, a list of names (the same on both sides), or a table
/// `{ left = "right" }`.
fn pairs(cx: &mut Cx<'_>, tab: &Tab<'_>, key: &str) -> Vec<ColumnPair> {
    let Some((_, v)) = tab.entry(key) else {
        return Vec::new();
    };
    match v.get_ref() {
        DeValue::Table(t) => {
            let mut out = Vec::new();
            for (k, val) in t.iter() {
                let left = Located::new(k.get_ref().to_string(), cx.loc(k.span()));
                match val.get_ref() {
                    DeValue::String(s) => out.push(ColumnPair {
                        left,
                        right: Located::new(s.to_string(), cx.loc(val.span())),
                    }),
                    other => {
                        let found = type_name(other);
                        cx.error(
                            "wrong-type",
                            format!(
                                "`{key}.{}` must name the right side's column, found {found}",
                                left.value
                            ),
                            &cx.loc(val.span()),
                        )
                        .hint = Some(FORMS_KEYS.into());
                    }
                }
            }
            out
        }
        _ => tab
            .string_list(cx, key)
            .into_iter()
            .map(|c| ColumnPair {
                left: c.clone(),
                right: c,
            })
            .collect(),
    }
}

/// `compare`: a list of names (exact), or a table of name → rule.
fn compared(cx: &mut Cx<'_>, tab: &Tab<'_>) -> Vec<Compared> {
    let Some((_, v)) = tab.entry("compare") else {
        return Vec::new();
    };
    let DeValue::Table(t) = v.get_ref() else {
        return pairs(cx, tab, "compare")
            .into_iter()
            .map(|column| Compared {
                column,
                rule: Rule::Exact,
            })
            .collect();
    };
    let mut out = Vec::new();
    for (k, val) in t.iter() {
        let left = Located::new(k.get_ref().to_string(), cx.loc(k.span()));
        let loc = cx.loc(val.span());
        match val.get_ref() {
            DeValue::String(s) => {
                let rule = match s.to_ascii_lowercase().as_str() {
                    "exact" => Rule::Exact,
                    "fold" => Rule::Fold,
                    _ => {
                        cx.error(
                            "bad-value",
                            format!("`{s}` is not a comparison for `{}`", left.value),
                            &loc,
                        )
                        .hint = Some(
                            "write \"exact\", \"fold\" (ignore case and surrounding spaces), or a table with abs, rel or window"
                                .into(),
                        );
                        continue;
                    }
                };
                out.push(Compared {
                    column: ColumnPair {
                        right: left.clone(),
                        left,
                    },
                    rule,
                });
            }
            DeValue::Table(inner) => {
                let sub = Tab {
                    table: inner,
                    name: format!("{}.compare.{}", tab.name, left.value),
                    loc: loc.clone(),
                };
                sub.known_keys(cx, &["right", "abs", "rel", "window", "match"]);
                let right = sub.string(cx, "right").unwrap_or_else(|| left.clone());
                let abs = non_negative(cx, &sub, "abs", false);
                let rel = non_negative(cx, &sub, "rel", true);
                let window = sub.parsed(cx, "window", "bad-duration", Duration::FORMS, |s| {
                    Duration::parse(s).ok_or_else(|| format!("`{s}` is not a length of time"))
                });
                let matching = sub.choice(cx, "match", &[("exact", Rule::Exact), ("fold", Rule::Fold)]);
                let kinds = [
                    abs.is_some() || rel.is_some(),
                    window.is_some(),
                    matching.is_some(),
                ];
                if kinds.iter().filter(|k| **k).count() > 1 {
                    cx.error(
                        "conflicting-keys",
                        format!(
                            "`{}` mixes comparisons: abs/rel are for numbers, window for times, match for text",
                            left.value
                        ),
                        &loc,
                    );
                }
                let rule = if let Some(w) = window {
                    Rule::Window(w.value)
                } else if abs.is_some() || rel.is_some() {
                    Rule::Numeric {
                        abs: abs.unwrap_or(0.0),
                        rel: rel.unwrap_or(0.0),
                    }
                } else {
                    matching.map_or(Rule::Exact, |m| m.value)
                };
                out.push(Compared {
                    column: ColumnPair { left, right },
                    rule,
                });
            }
            other => {
                let found = type_name(other);
                cx.error(
                    "wrong-type",
                    format!(
                        "`compare.{}` must be a string or a table, found {found}",
                        left.value
                    ),
                    &loc,
                )
                .hint = Some(FORMS_COMPARE.into());
            }
        }
    }
    out
}

fn non_negative(cx: &mut Cx<'_>, tab: &Tab<'_>, key: &str, percent: bool) -> Option<f64> {
    let v = if percent {
        tab.share(cx, key)
    } else {
        tab.number(cx, key)
    }?;
    if v.value < 0.0 {
        cx.error("bad-value", format!("`{key}` cannot be negative"), &v.loc);
        return None;
    }
    Some(v.value)
}

/// `tolerance`: `"0.5%"` (relative to the right side's value), an amount,
/// or `{ abs = …, rel = "…%" }`.
fn kpi_tolerance(cx: &mut Cx<'_>, tab: &Tab<'_>) -> Option<Located<KpiTolerance>> {
    let (_, v) = tab.entry("tolerance")?;
    let loc = cx.loc(v.span());
    let t = match v.get_ref() {
        DeValue::String(s) => {
            let text = s.trim();
            match parse_number(text) {
                Ok(n) if n >= 0.0 && text.ends_with('%') => KpiTolerance { abs: 0.0, rel: n },
                Ok(n) if n >= 0.0 => KpiTolerance { abs: n, rel: 0.0 },
                Ok(_) => {
                    cx.error("bad-value", "`tolerance` cannot be negative", &loc);
                    return None;
                }
                Err(e) => {
                    cx.error("bad-number", format!("invalid `tolerance`: {e}"), &loc).hint = Some(
                        "write a share of the right side's value such as \"0.5%\", an amount such as 100, or { abs = 100, rel = \"0.5%\" }"
                            .into(),
                    );
                    return None;
                }
            }
        }
        DeValue::Table(inner) => {
            let sub = Tab {
                table: inner,
                name: format!("{}.tolerance", tab.name),
                loc: loc.clone(),
            };
            sub.known_keys(cx, &["abs", "rel"]);
            KpiTolerance {
                abs: non_negative(cx, &sub, "abs", false).unwrap_or(0.0),
                rel: non_negative(cx, &sub, "rel", true).unwrap_or(0.0),
            }
        }
        _ => {
            let n = tab.number(cx, "tolerance")?;
            if n.value < 0.0 {
                cx.error("bad-value", "`tolerance` cannot be negative", &loc);
                return None;
            }
            KpiTolerance {
                abs: n.value,
                rel: 0.0,
            }
        }
    };
    Some(Located::new(t, loc))
}
