//! Reading time values written in data files.
//!
//! Accepted: RFC 3339 / ISO 8601 timestamps with `T` or a space, with or
//! without seconds and fractions, with `Z` or a `±HH:MM` offset; the same
//! without an offset (read in the project's zone); and plain dates (the start
//! of that day in the project's zone).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::calendar::Calendar;

/// What forms a time value may take, for error messages.
pub const TIME_FORMS: &str = "an ISO 8601 time such as 2026-10-14T09:30:00Z, 2026-10-14 09:30:00+02:00, 2026-10-14T09:30 (read in the project's zone) or a date 2026-10-14";

/// Parses a time value; `None` when it is not a time.
pub fn parse_time(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M:%S%.f%#z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    if let Some(naive) = s.strip_suffix('Z').or_else(|| s.strip_suffix(" UTC")) {
        return parse_naive(naive).map(|n| Utc.from_utc_datetime(&n));
    }
    if let Some(n) = parse_naive(s) {
        return Some(local_to_utc(n, tz));
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(Calendar::new(tz).start_of_day(d).with_timezone(&Utc))
}

fn parse_naive(s: &str) -> Option<NaiveDateTime> {
    [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}

/// A local wall-clock time in `tz` as an instant. In a DST gap the time is
/// moved forward by the gap (02:30 on a spring-forward night is 03:30); at
/// an ambiguous time the earlier instant is taken.
pub fn local_to_utc(n: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&n) {
        chrono::LocalResult::Single(t) => t.with_timezone(&Utc),
        chrono::LocalResult::Ambiguous(a, b) => a.min(b).with_timezone(&Utc),
        chrono::LocalResult::None => {
            let before = tz.offset_from_utc_datetime(&(n - chrono::Duration::days(1)));
            use chrono::Offset;
            let offset = before.fix();
            Utc.from_utc_datetime(&(n - offset))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    #[test]
    fn offsets_are_respected_and_naive_times_are_local() {
        assert_eq!(
            parse_time("2026-06-06T19:42:34Z", Berlin),
            Some(utc("2026-06-06T19:42:34Z"))
        );
        assert_eq!(
            parse_time("2026-06-06 21:42:34+02:00", Berlin),
            Some(utc("2026-06-06T19:42:34Z"))
        );
        assert_eq!(
            parse_time("2026-06-06T21:42:34", Berlin),
            Some(utc("2026-06-06T19:42:34Z"))
        );
        assert_eq!(
            parse_time("2026-01-06 21:42", Berlin),
            Some(utc("2026-01-06T20:42:00Z"))
        );
        assert_eq!(
            parse_time("2026-06-06", Berlin),
            Some(utc("2026-06-05T22:00:00Z"))
        );
        assert_eq!(
            parse_time("2026-06-06T19:42:34.250Z", Berlin),
            Some(utc("2026-06-06T19:42:34.250Z"))
        );
    }

    #[test]
    fn gaps_move_forward_and_ambiguous_times_take_the_first() {
        // 2026-03-29 02:30 does not exist in Berlin: clocks jump 02:00 → 03:00.
        assert_eq!(
            parse_time("2026-03-29T02:30:00", Berlin),
            Some(utc("2026-03-29T01:30:00Z"))
        );
        // 2026-10-25 02:30 happens twice; the first is still summer time.
        assert_eq!(
            parse_time("2026-10-25T02:30:00", Berlin),
            Some(utc("2026-10-25T00:30:00Z"))
        );
    }

    #[test]
    fn garbage_is_not_a_time() {
        for bad in [
            "",
            "yesterday",
            "2026-13-01",
            "2026-02-30T00:00:00Z",
            "14/10/2026",
        ] {
            assert_eq!(parse_time(bad, Berlin), None, "{bad}");
        }
    }
}

/// An evaluation instant ("as of"), in UTC. Written — in text and in JSON —
/// as RFC 3339 with `Z` and only the fraction of a second it has:
/// `2026-11-01T00:00:00Z`, `2026-11-01T00:00:00.250Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub DateTime<Utc>);

impl Instant {
    /// The instant as a `DateTime`.
    pub fn utc(self) -> DateTime<Utc> {
        self.0
    }
}

impl From<DateTime<Utc>> for Instant {
    fn from(t: DateTime<Utc>) -> Self {
        Instant(t)
    }
}

impl std::fmt::Display for Instant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    }
}

impl serde::Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod instant_tests {
    use super::*;

    #[test]
    fn instants_are_written_with_z_and_only_the_fraction_they_have() {
        let t = |s: &str| Instant(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc));
        assert_eq!(t("2026-11-01T01:00:00+01:00").to_string(), "2026-11-01T00:00:00Z");
        assert_eq!(
            t("2026-11-01T00:00:00.25Z").to_string(),
            "2026-11-01T00:00:00.250Z"
        );
        assert_eq!(
            serde_json::to_string(&t("2026-11-01T00:00:00Z")).unwrap(),
            "\"2026-11-01T00:00:00Z\""
        );
    }
}
