//! `[source.ID]`: where rows come from, their shape and columns.

use super::*;

pub(super) const SOURCE_KEYS: [&str; 15] = [
    "path",
    "connection",
    "table",
    "store",
    "format",
    "sql",
    "time",
    "start",
    "end",
    "owner",
    "freshness",
    "columns",
    "description",
    "name",
    "submitted_by",
];

pub(super) fn shape_columns(shape: &Shape) -> Vec<&Located<String>> {
    match shape {
        Shape::Event { time } => vec![time],
        Shape::Interval { start, end } => vec![start, end],
        Shape::Reference => vec![],
    }
}

pub(super) fn read_source(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Source {
    tab.known_keys(cx, &SOURCE_KEYS);
    let path = tab.string(cx, "path");
    let sql = tab.string(cx, "sql");
    let format = tab.string(cx, "format");
    let store = match tab.entry("store").map(|(_, v)| v.get_ref()) {
        Some(DeValue::Boolean(b)) => *b,
        Some(_) => {
            tab.wrong_type(cx, "store", "true or false", None);
            false
        }
        None => false,
    };
    if store {
        let loc = tab.key_loc(cx, "store");
        if path.is_some() || sql.is_some() {
            cx.error(
                "conflicting-keys",
                "a stored source receives its rows through the API or `yardstick push`: drop `path`/`sql`, or `store`",
                &loc,
            );
        }
    }
    let connection = tab.string(cx, "connection");
    let table = tab.string(cx, "table");
    if let (None, Some(t)) = (&connection, &table) {
        cx.error(
            "missing-key",
            "`table` names a table of a database: say which with `connection`",
            &t.loc,
        )
        .hint = Some("connection = \"ID\", with a [connection.ID] holding url_env".into());
    }
    let origin = match (path, sql) {
        _ if store => Some(Origin::Store),
        (path, sql) if connection.is_some() => {
            let connection = connection.unwrap_or_else(|| id.clone());
            for (key, written) in [("path", path.is_some()), ("format", format.is_some())] {
                if written {
                    let loc = tab.key_loc(cx, key);
                    cx.error(
                        "conflicting-keys",
                        format!(
                            "a database source reads `table` or `sql` through its connection: drop `{key}`"
                        ),
                        &loc,
                    );
                }
            }
            match (table, sql) {
                (Some(t), None) => {
                    let ok = t.value.split('.').count() <= 3
                        && t.value.split('.').all(|part| {
                            !part.is_empty()
                                && part
                                    .chars()
                                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
                        });
                    if ok {
                        Some(Origin::Database {
                            connection,
                            relation: Relation::Table(t),
                        })
                    } else {
                        cx.error(
                            "bad-value",
                            format!("`{}` is not a table name", t.value),
                            &t.loc,
                        )
                        .hint = Some(
                            "a table, optionally with its schema: \"orders\" or \"public.orders\"; for anything else write `sql`".into(),
                        );
                        None
                    }
                }
                (None, Some(q)) => {
                    cx.error(
                        "unsupported",
                        "a database source reads a `table` (or a database view); `sql` run by the database is not supported yet",
                        &q.loc,
                    )
                    .hint = Some(format!(
                        "create a view in the database (CREATE VIEW {} AS SELECT …) and name it: table = \"{}\"",
                        id.value, id.value
                    ));
                    None
                }
                (Some(t), Some(_)) => {
                    cx.error(
                        "conflicting-keys",
                        "a database source reads either a `table` or the result of `sql`, not both",
                        &t.loc,
                    );
                    None
                }
                (None, None) => {
                    cx.error(
                        "missing-key",
                        format!("database source `{}` needs `table` or `sql`", id.value),
                        &connection.loc,
                    )
                    .hint = Some(
                        "table = \"public.orders\", or sql = \"SELECT … FROM …\" run by the database".into(),
                    );
                    None
                }
            }
        }
        (Some(path), None) => {
            let fmt = match &format {
                Some(f) => FileFormat::from_name(&f.value).or_else(|| {
                    let hint = suggestion(&f.value, FileFormat::NAMES)
                        .unwrap_or_else(|| format!("accepted formats: {}", FileFormat::NAMES.join(", ")));
                    cx.error("bad-value", format!("`{}` is not a file format", f.value), &f.loc)
                        .hint = Some(hint);
                    None
                }),
                None => FileFormat::from_path(&path.value).or_else(|| {
                    cx.error(
                        "unknown-format",
                        format!("cannot tell the format of `{}` from its extension", path.value),
                        &path.loc,
                    )
                    .hint = Some(
                        "name a .csv, .parquet, .json or .ndjson file, or set `format = \"csv\"`".into(),
                    );
                    None
                }),
            };
            fmt.map(|format| Origin::Files { path, format })
        }
        (None, Some(sql)) => {
            if let Some(f) = &format {
                cx.error("unused-key", "`format` applies to files, not to a view", &f.loc);
            }
            let raw = cx.raw(&sql.loc).to_string();
            match parse_view(&sql.value, &sql.loc, &raw) {
                Ok(reads) => Some(Origin::View { sql, reads }),
                Err(e) => {
                    cx.sql_error(e);
                    None
                }
            }
        }
        (Some(_), Some(sql)) => {
            cx.error(
                "conflicting-keys",
                "a source has either `path` (files) or `sql` (a view), not both",
                &sql.loc,
            );
            None
        }
        // `table` without `connection` is reported above.
        (None, None) if table.is_some() => None,
        (None, None) => {
            cx.error(
                "missing-key",
                format!("source `{}` needs `path` or `sql`", id.value),
                &id.loc,
            )
            .hint = Some(
                "files: path = \"data/orders.csv\"; a view: sql = \"SELECT … FROM other_source\"".into(),
            );
            None
        }
    };
    let time = tab.string(cx, "time");
    let start = tab.string(cx, "start");
    let end = tab.string(cx, "end");
    let shape = match (time, start, end) {
        (Some(time), None, None) => Shape::Event { time },
        (None, Some(start), Some(end)) => Shape::Interval { start, end },
        (None, None, None) => Shape::Reference,
        (Some(time), s, e) if s.is_some() || e.is_some() => {
            cx.error(
                "conflicting-keys",
                "a source has `time` (events) or `start` and `end` (intervals), not both",
                &time.loc,
            );
            Shape::Event { time }
        }
        (None, Some(s), None) | (None, None, Some(s)) => {
            let missing = if tab.has("start") { "end" } else { "start" };
            cx.error(
                "missing-key",
                format!("an interval source needs both `start` and `end`; `{missing}` is missing"),
                &s.loc,
            )
            .hint = Some("end may be empty in a row for an interval still going".into());
            Shape::Reference
        }
        _ => Shape::Reference,
    };
    let freshness = tab.parsed(cx, "freshness", "bad-duration", Duration::FORMS, |s| {
        Duration::parse(s).ok_or_else(|| format!("`{s}` is not a duration"))
    });
    let mut columns = Vec::new();
    if let Some(cols) = tab.table(cx, "columns") {
        for (k, v) in cols.table.iter() {
            let name = Located::new(k.get_ref().to_string(), cx.loc(k.span()));
            let ty = match v.get_ref() {
                DeValue::String(s) => ColumnType::from_name(s),
                _ => None,
            };
            match ty {
                Some(t) => columns.push((name, t)),
                None => {
                    let hint = format!("accepted types: {}", ColumnType::NAMES.join(", "));
                    cx.error(
                        "bad-value",
                        format!("bad type for column `{}`", name.value),
                        &cx.loc(v.span()),
                    )
                    .hint = Some(hint);
                }
            }
        }
    }
    if store {
        // Pushed rows are validated against the declared columns: every
        // column a row may carry, the time columns among them, is declared.
        if columns.is_empty() {
            cx.error(
                "missing-key",
                format!("stored source `{}` needs `columns`", id.value),
                &tab.key_loc(cx, "store"),
            )
            .hint = Some(
                "pushed rows are checked against them, e.g. columns = { at = \"timestamp\", amount = \"double\" }"
                    .into(),
            );
        } else {
            for c in shape_columns(&shape) {
                match columns.iter().find(|(n, _)| n.value == c.value) {
                    None => {
                        cx.error(
                            "unknown-column",
                            format!(
                                "`{}` is not among the declared `columns` of stored source `{}`",
                                c.value, id.value
                            ),
                            &c.loc,
                        )
                        .hint = Some(format!("declare it: {} = \"timestamp\"", c.value));
                    }
                    Some((n, t)) if !matches!(t, ColumnType::Timestamp | ColumnType::Date) => {
                        cx.error(
                            "bad-value",
                            format!("time column `{}` must be declared as timestamp or date", c.value),
                            &n.loc,
                        );
                    }
                    Some(_) => {}
                }
            }
        }
    }
    let submitted_by = tab.string(cx, "submitted_by");
    if let Some(s) = &submitted_by
        && !store
    {
        cx.error(
            "submitted-by-not-stored",
            "only a stored source (`store = true`) can be submitted by a party: it is what the party pushes into",
            &s.loc,
        )
        .hint = Some("add store = true, or drop submitted_by".into());
    }
    Source {
        id,
        origin,
        shape,
        submitted_by: submitted_by.map(|s| s.value),
        owner: tab.text(cx, "owner"),
        freshness,
        columns,
        description: tab.text(cx, "description"),
    }
}
