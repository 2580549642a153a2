//! Query parameters shared by several routes: instants, period labels,
//! entities.

use super::*;

/// A period label of any grain, written as the calendar writes it.
pub(super) fn period_label(
    project: &yardstick_core::model::Project,
    label: &str,
) -> Result<String, ApiError> {
    project
        .settings
        .calendar()
        .parse_label(label)
        .map(|_| label.to_string())
        .ok_or_else(|| {
            ApiError::BadPeriod(format!(
                "`{label}` is not a period label such as 2026-10, 2026-Q4, 2026-W42 or 2026-10-14"
            ))
        })
}

/// The `entity=col=value[,col=value]` query parameter as pairs (empty
/// parts are skipped; the OpenAPI pattern says the same).
pub(super) fn entity_param(p: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    p.unwrap_or("")
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| ApiError::BadEntity(format!("entity `{kv}`: write column=value")))
        })
        .collect()
}

/// Parses `2026`, `2026-07`, `2026-07-15` or an RFC 3339 instant; dates are
/// local to the project zone.
pub(super) fn parse_instant(project: &Project, s: &str, what: &str) -> ApiResult<DateTime<Utc>> {
    let tz = project.settings.timezone;
    let s = s.trim();
    let date = match s.len() {
        4 => NaiveDate::parse_from_str(&format!("{s}-01-01"), "%Y-%m-%d").ok(),
        7 => NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d").ok(),
        _ => None,
    };
    let t = match date {
        Some(d) => d
            .and_hms_opt(0, 0, 0)
            .map(|n| yardstick_core::time::local_to_utc(n, tz)),
        None => yardstick_core::time::parse_time(s, tz),
    };
    t.ok_or_else(|| {
        ApiError::BadTime(format!(
            "`{what}={s}` is not a time: use 2026, 2026-07, 2026-07-15 or 2026-07-15T12:00:00Z"
        ))
    })
}

/// Whether an entity's (column, value) pairs match `col=value`, or a bare
/// value of any column.
pub(super) fn entity_matches<'a>(mut pairs: impl Iterator<Item = (&'a str, String)>, f: &str) -> bool {
    match f.split_once('=') {
        Some((col, val)) => pairs.any(|(c, v)| c == col && v == val),
        None => pairs.any(|(_, v)| v == f),
    }
}

pub(super) fn kpi_filter(p: &Principal, q: Option<&str>) -> impl Fn(&str) -> bool {
    let wanted: Option<Vec<String>> = q.map(|s| s.split(',').map(|x| x.trim().to_string()).collect());
    let p = p.clone();
    move |k: &str| p.can_see_kpi(k) && wanted.as_ref().is_none_or(|w| w.iter().any(|x| x == k))
}

/// Where a range starts and ends, each open when not given.
type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The `from` and `to` parameters of a range, read as instants.
pub(crate) fn time_range(project: &Project, from: Option<&str>, to: Option<&str>) -> ApiResult<Range> {
    let from = from.map(|s| parse_instant(project, s, "from")).transpose()?;
    let to = to.map(|s| parse_instant(project, s, "to")).transpose()?;
    Ok((from, to))
}
