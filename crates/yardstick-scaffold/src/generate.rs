//! What the generated projects share: a seeded random stream, counts,
//! business-hours times, and the span of days the data covers.

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Poisson-distributed count with mean `lambda` (Knuth; lambda is small).
pub(crate) fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u32 {
    let l = (-lambda).exp();
    let mut k = 0;
    let mut p = 1.0;
    loop {
        p *= rng.random::<f64>();
        if p <= l {
            return k;
        }
        k += 1;
    }
}

/// An instant as RFC 3339 in UTC.
pub(crate) fn ts(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A time on day `d`, mostly in (European) business hours, as UTC.
pub(crate) fn business_time(rng: &mut ChaCha8Rng, d: NaiveDate) -> NaiveDateTime {
    let secs = if rng.random::<f64>() < 0.7 {
        rng.random_range(7 * 3600..17 * 3600)
    } else {
        rng.random_range(0..86_400)
    };
    midnight(d) + Duration::seconds(secs)
}

pub(crate) fn midnight(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// The days data covers: the `months` whole months before the month of
/// `end`, then that month up to the day before `end`.
pub(crate) fn days_before(end: NaiveDate, months: u32) -> Vec<NaiveDate> {
    let start = first_month(end, months);
    start.iter_days().take_while(|d| *d < end).collect()
}

/// The first day of the month `months` before the month of `end`.
pub(crate) fn first_month(end: NaiveDate, months: u32) -> NaiveDate {
    let month_start = NaiveDate::from_ymd_opt(end.year(), end.month(), 1).unwrap_or(end);
    month_start
        .checked_sub_months(Months::new(months))
        .unwrap_or(month_start)
}

/// `2026-07`: the label of the month holding `d`.
pub(crate) fn month_label(d: NaiveDate) -> String {
    d.format("%Y-%m").to_string()
}
