//! Reading time values written in data files.
//!
//! Accepted: RFC 3339 / ISO 8601 timestamps with `T` or a space, with or
//! without seconds and fractions, with `Z` or a `±HH:MM` offset; the same
//! without an offset (read in the project's zone); and plain dates (the start
//! of that day in the project's zone). The forms nearly every file writes
//! are read without format strings (`parse_common`), the rest by them.

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
    match parse_common(s.as_bytes()) {
        Some((n, Some(offset))) => Some(Utc.from_utc_datetime(&(n - offset))),
        Some((n, None)) => Some(local_to_utc(n, tz)),
        None => parse_any(s, tz),
    }
}

/// The forms nearly every file writes, read without format strings:
/// `YYYY-MM-DD[T ]HH:MM:SS[.f]` with nothing after it (a wall-clock time),
/// `Z`, or `±HH:MM`. `None` for anything else — a value this does not
/// read is read by [`parse_any`], which gives the same answer for every
/// value read here (a property test says so).
fn parse_common(b: &[u8]) -> Option<(NaiveDateTime, Option<chrono::FixedOffset>)> {
    fn digits(b: &[u8]) -> Option<u32> {
        b.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    }
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(digits(&b[0..4])?).ok()?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let (h, m, sec) = (digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?);
    let mut rest = &b[19..];
    let mut nanos = 0;
    if let Some(f) = rest.strip_prefix(b".") {
        let len = f.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 || len > 9 {
            return None;
        }
        nanos = digits(&f[..len])? * 10u32.pow(9 - u32::try_from(len).ok()?);
        rest = &f[len..];
    }
    // Leap seconds and 24:00 are left to the general reader.
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let n = date.and_hms_nano_opt(h, m, sec, nanos)?;
    let offset = match rest {
        [] => None,
        [b'Z'] => Some(chrono::FixedOffset::east_opt(0)?),
        [sign @ (b'+' | b'-'), hh @ .., b':', m1, m2] if hh.len() == 2 => {
            let (oh, om) = (digits(hh)?, digits(&[*m1, *m2])?);
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = i32::try_from(oh * 3600 + om * 60).ok()?;
            Some(chrono::FixedOffset::east_opt(if *sign == b'-' {
                -secs
            } else {
                secs
            })?)
        }
        _ => return None,
    };
    Some((n, offset))
}

/// Every accepted form, by format strings.
fn parse_any(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
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
    use proptest::prelude::*;

    fn written() -> impl Strategy<Value = String> {
        let fraction = prop::option::of("[0-9]{1,11}");
        let suffix = prop_oneof![
            Just(String::new()),
            Just("Z".to_string()),
            Just("z".to_string()),
            Just(" UTC".to_string()),
            (
                prop_oneof![Just('+'), Just('-')],
                0u32..26,
                0u32..62,
                prop_oneof![Just(":"), Just("")]
            )
                .prop_map(|(s, h, m, c)| format!("{s}{h:02}{c}{m:02}")),
            (prop_oneof![Just('+'), Just('-')], 0u32..15).prop_map(|(s, h)| format!("{s}{h:02}")),
        ];
        (
            prop_oneof![1900i32..2100, 0i32..10000],
            0u32..14,
            0u32..33,
            prop_oneof![Just('T'), Just(' '), Just('t'), Just('_')],
            0u32..26,
            0u32..62,
            0u32..62,
            fraction,
            suffix,
        )
            .prop_map(|(y, mo, d, sep, h, mi, se, f, suffix)| {
                let f = f.map(|f| format!(".{f}")).unwrap_or_default();
                format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{se:02}{f}{suffix}")
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// The quick reader answers only where the general one gives the
        /// same instant, in zones with and without DST.
        #[test]
        fn the_common_forms_read_quickly_as_the_general_reader_reads_them(s in written()) {
            if parse_common(s.as_bytes()).is_some() {
                for tz in [Tz::UTC, Berlin, chrono_tz::America::New_York, chrono_tz::Australia::Lord_Howe] {
                    prop_assert_eq!(parse_time(&s, tz), parse_any(&s, tz), "{} in {}", s, tz);
                }
            }
        }
    }

    #[test]
    fn the_quick_reader_takes_the_forms_files_write() {
        for s in [
            "2026-03-07 07:28:08.284068",
            "2026-03-07T07:28:08",
            "2026-03-07T07:28:08Z",
            "2026-03-07 07:28:08.5+05:30",
            "2026-03-29T02:30:00",
        ] {
            assert!(parse_common(s.as_bytes()).is_some(), "{s}");
            assert_eq!(parse_time(s, Berlin), parse_any(s, Berlin), "{s}");
        }
        for s in [
            "2026-03-07T07:28",
            "2026-03-07",
            "2026-03-07T23:59:60Z",
            "2026-02-30T00:00:00",
        ] {
            assert!(parse_common(s.as_bytes()).is_none(), "{s}");
        }
    }

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
