//! The root file's `[project]` table: name, calendar, time zone, includes.

use super::*;

pub(super) fn read_settings(cx: &mut Cx<'_>, root: &DeTable<'_>, settings: &mut Settings) {
    let Some((k, v)) = root.iter().find(|(k, _)| k.get_ref() == "project") else {
        cx.diags.push(
            Diagnostic::error("missing-project-table", "the root file has no [project] table")
                .at(&cx.loc(0..0))
                .hint("start the file with:\n[project]\nname = \"My company\""),
        );
        return;
    };
    let DeValue::Table(t) = v.get_ref() else {
        cx.error("wrong-type", "`project` must be a table", &cx.loc(v.span()));
        return;
    };
    let tab = Tab {
        table: t,
        name: "project".into(),
        loc: cx.loc(k.span()),
    };
    settings.loc = Some(tab.loc.clone());
    tab.known_keys(
        cx,
        &[
            "name",
            "timezone",
            "week_start",
            "fiscal_year_start",
            "currency",
            "include",
            "description",
            "owner",
        ],
    );
    match tab.text(cx, "name") {
        Some(n) => settings.name = n,
        None if !tab.has("name") => {
            cx.error("missing-key", "[project] needs a `name`", &tab.loc).hint =
                Some("add: name = \"My company\"".into());
        }
        None => {}
    }
    if let Some(tz) = tab.string(cx, "timezone") {
        match tz.value.parse::<Tz>() {
            Ok(z) => settings.timezone = z,
            Err(_) => {
                let all = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
                let hint = suggestion(&tz.value, all).unwrap_or_else(|| {
                    "use an IANA time zone name such as \"Europe/Berlin\", \"America/New_York\" or \"UTC\"".into()
                });
                cx.error(
                    "bad-timezone",
                    format!("`{}` is not an IANA time zone", tz.value),
                    &tz.loc,
                )
                .hint = Some(hint);
            }
        }
    }
    if let Some(ws) = tab.string(cx, "week_start") {
        match weekday(&ws.value) {
            Some(d) => settings.week_start = d,
            None => {
                cx.error(
                    "bad-value",
                    format!("`{}` is not a day of the week", ws.value),
                    &ws.loc,
                )
                .hint = Some("write a day name such as \"monday\" or \"sunday\"".into());
            }
        }
    }
    if let Some(m) = tab.string(cx, "fiscal_year_start") {
        let lower = m.value.to_ascii_lowercase();
        match MONTHS
            .iter()
            .position(|n| *n == lower || (lower.len() == 3 && n.starts_with(&lower)))
        {
            Some(i) => settings.fiscal_year_start = i as u32 + 1,
            None => {
                let hint = suggestion(&lower, MONTHS.iter().copied())
                    .unwrap_or_else(|| "write a month name such as \"april\"".into());
                cx.error("bad-value", format!("`{}` is not a month", m.value), &m.loc)
                    .hint = Some(hint);
            }
        }
    }
    if let Some(c) = tab.string(cx, "currency") {
        if c.value.len() == 3 && c.value.bytes().all(|b| b.is_ascii_uppercase()) {
            settings.currency = Some(c.value);
        } else {
            cx.error(
                "bad-value",
                format!("`{}` is not an ISO 4217 currency code", c.value),
                &c.loc,
            )
            .hint = Some("write three capital letters such as \"EUR\" or \"USD\"".into());
        }
    }
    settings.include = tab.string_list(cx, "include");
}
