//! Calendar periods: DST unit tests with hand-computed instants, and
//! property tests that periods tile time and labels round-trip.

use chrono::{DateTime, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use yardstick_core::calendar::{Calendar, Grain, Period, PeriodKind};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("test date")
}

/// (start, end) of the period of `grain` containing local day `d`, in UTC.
fn bounds(cal: &Calendar, grain: Grain, d: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let p = cal.period_of_day(grain, d);
    (cal.start(&p).with_timezone(&Utc), cal.end(&p).with_timezone(&Utc))
}

fn hours(b: (DateTime<Utc>, DateTime<Utc>)) -> f64 {
    (b.1 - b.0).num_minutes() as f64 / 60.0
}

#[test]
fn berlin_days_last_23_and_25_hours_at_the_changes() {
    let cal = Calendar::new(chrono_tz::Europe::Berlin);
    // 2026-03-29: 02:00 CET becomes 03:00 CEST.
    let spring = bounds(&cal, Grain::Day, day(2026, 3, 29));
    assert_eq!(spring, (utc("2026-03-28T23:00:00Z"), utc("2026-03-29T22:00:00Z")));
    assert_eq!(hours(spring), 23.0);
    // 2026-10-25: 03:00 CEST becomes 02:00 CET.
    let autumn = bounds(&cal, Grain::Day, day(2026, 10, 25));
    assert_eq!(autumn, (utc("2026-10-24T22:00:00Z"), utc("2026-10-25T23:00:00Z")));
    assert_eq!(hours(autumn), 25.0);
    // October 2026 as in LANGUAGE.md §7: 2026-10-01T00:00+02:00 to 2026-11-01T00:00+01:00.
    let oct = cal.period_of_day(Grain::Month, day(2026, 10, 14));
    assert_eq!(cal.start(&oct).to_rfc3339(), "2026-10-01T00:00:00+02:00");
    assert_eq!(cal.end(&oct).to_rfc3339(), "2026-11-01T00:00:00+01:00");
    assert_eq!(cal.label(&oct), "2026-10");
    // The week holding the autumn change is 7×24+1 hours long.
    assert_eq!(hours(bounds(&cal, Grain::Week, day(2026, 10, 25))), 169.0);
}

#[test]
fn new_york_days_at_the_changes() {
    let cal = Calendar::new(chrono_tz::America::New_York);
    let spring = bounds(&cal, Grain::Day, day(2026, 3, 8));
    assert_eq!(spring, (utc("2026-03-08T05:00:00Z"), utc("2026-03-09T04:00:00Z")));
    let autumn = bounds(&cal, Grain::Day, day(2026, 11, 1));
    assert_eq!(autumn, (utc("2026-11-01T04:00:00Z"), utc("2026-11-02T05:00:00Z")));
    // Month edges: 23:30 local on Oct 31 is already November in UTC, but October here.
    let late = utc("2026-11-01T03:30:00Z");
    let p = cal.period_containing(PeriodKind::Calendar(Grain::Month), &late);
    assert_eq!(cal.label(&p), "2026-10");
}

#[test]
fn sydney_changes_and_quarter_edges() {
    let cal = Calendar::new(chrono_tz::Australia::Sydney);
    // DST ends 2026-04-05 03:00 AEDT (+11) → 02:00 AEST (+10): a 25-hour day.
    let end_dst = bounds(&cal, Grain::Day, day(2026, 4, 5));
    assert_eq!(
        end_dst,
        (utc("2026-04-04T13:00:00Z"), utc("2026-04-05T14:00:00Z"))
    );
    // DST starts 2026-10-04 02:00 AEST → 03:00 AEDT: a 23-hour day.
    let start_dst = bounds(&cal, Grain::Day, day(2026, 10, 4));
    assert_eq!(
        start_dst,
        (utc("2026-10-03T14:00:00Z"), utc("2026-10-04T13:00:00Z"))
    );
    // Q4 starts at midnight AEST (+10) and ends at midnight AEDT (+11).
    let q4 = bounds(&cal, Grain::Quarter, day(2026, 11, 15));
    assert_eq!(q4, (utc("2026-09-30T14:00:00Z"), utc("2026-12-31T13:00:00Z")));
}

#[test]
fn kolkata_half_hour_offset_cuts_months_at_18_30_utc() {
    let cal = Calendar::new(chrono_tz::Asia::Kolkata);
    let oct = bounds(&cal, Grain::Month, day(2026, 10, 1));
    assert_eq!(oct, (utc("2026-09-30T18:30:00Z"), utc("2026-10-31T18:30:00Z")));
    let month_of = |s: &str| {
        let p = cal.period_containing(PeriodKind::Calendar(Grain::Month), &utc(s));
        cal.label(&p)
    };
    assert_eq!(month_of("2026-10-31T18:29:59Z"), "2026-10");
    assert_eq!(month_of("2026-10-31T18:30:00Z"), "2026-11");
}

#[test]
fn a_day_whose_midnight_does_not_exist_starts_when_the_gap_ends() {
    // Chile moves 2026-09-06 00:00 (-04) straight to 01:00 (-03).
    let cal = Calendar::new(chrono_tz::America::Santiago);
    let b = bounds(&cal, Grain::Day, day(2026, 9, 6));
    assert_eq!(b, (utc("2026-09-06T04:00:00Z"), utc("2026-09-07T03:00:00Z")));
    assert_eq!(hours(b), 23.0);
}

#[test]
fn labels_of_every_grain() {
    let cal = Calendar {
        tz: Tz::UTC,
        week_start: Weekday::Mon,
        fiscal_year_start: 4,
    };
    let d = day(2026, 10, 14);
    let label = |g| cal.label(&cal.period_of_day(g, d));
    assert_eq!(label(Grain::Day), "2026-10-14");
    assert_eq!(label(Grain::Week), "2026-W42");
    assert_eq!(label(Grain::Month), "2026-10");
    assert_eq!(label(Grain::Quarter), "2026-Q4");
    assert_eq!(label(Grain::Half), "2026-H2");
    assert_eq!(label(Grain::Year), "2026");
    assert_eq!(label(Grain::FiscalQuarter), "FY2027-Q3");
    assert_eq!(label(Grain::FiscalYear), "FY2027");
    // ISO weeks at year edges: 2026-12-31 (Thu) is 2026-W53, 2027-01-01 too.
    assert_eq!(
        cal.label(&cal.period_of_day(Grain::Week, day(2027, 1, 1))),
        "2026-W53"
    );
    assert_eq!(
        cal.label(&cal.period_of_day(Grain::Week, day(2025, 12, 29))),
        "2026-W01"
    );
    // Rolling windows are labelled by their last day.
    let w = cal.window_ending(28, d);
    assert_eq!(
        (w.first, cal.label(&w)),
        (day(2026, 9, 17), "2026-10-14".to_string())
    );
}

#[test]
fn sunday_weeks_start_on_sunday() {
    let cal = Calendar {
        week_start: Weekday::Sun,
        ..Calendar::default()
    };
    let w = cal.period_of_day(Grain::Week, day(2026, 10, 14)); // a Wednesday
    assert_eq!((w.first, w.end), (day(2026, 10, 11), day(2026, 10, 18)));
    assert_eq!(cal.parse_label(&cal.label(&w)), Some(w));
}

const ZONES: [Tz; 10] = [
    Tz::UTC,
    chrono_tz::Europe::Berlin,
    chrono_tz::America::New_York,
    chrono_tz::Australia::Sydney,
    chrono_tz::Asia::Kolkata,
    chrono_tz::Australia::Lord_Howe, // 30-minute DST
    chrono_tz::America::Santiago,    // DST gap at midnight
    chrono_tz::America::Havana,      // ambiguous midnight when DST ends
    chrono_tz::Asia::Tehran,
    chrono_tz::Pacific::Chatham, // +12:45
];

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

fn calendar() -> impl Strategy<Value = Calendar> {
    (0..ZONES.len(), 0..7usize, 1..=12u32).prop_map(|(z, w, f)| Calendar {
        tz: ZONES[z],
        week_start: WEEKDAYS[w],
        fiscal_year_start: f,
    })
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 1990-01-01 .. 2060-01-01, to the second.
    (631_152_000i64..2_840_140_800i64).prop_map(|s| Utc.timestamp_opt(s, 0).single().unwrap_or_default())
}

fn grain() -> impl Strategy<Value = Grain> {
    (0..Grain::ALL.len()).prop_map(|i| Grain::ALL[i])
}

fn contains(cal: &Calendar, p: &Period, t: &DateTime<Utc>) -> bool {
    cal.start(p).with_timezone(&Utc) <= *t && *t < cal.end(p).with_timezone(&Utc)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn every_instant_lies_in_exactly_one_period(cal in calendar(), g in grain(), t in instant()) {
        let kind = PeriodKind::Calendar(g);
        let p = cal.period_containing(kind, &t);
        prop_assert!(contains(&cal, &p, &t), "{t} not in {p:?}");
        prop_assert!(!contains(&cal, &cal.next(&p), &t));
        prop_assert!(!contains(&cal, &cal.prev(&p), &t));
    }

    #[test]
    fn periods_tile_time_without_gaps_or_overlaps(cal in calendar(), g in grain(), t in instant()) {
        let mut p = cal.period_containing(PeriodKind::Calendar(g), &t);
        for _ in 0..6 {
            let next = cal.next(&p);
            prop_assert_eq!(next.first, p.end);
            prop_assert_eq!(cal.end(&p), cal.start(&next));
            prop_assert!(cal.start(&p) < cal.end(&p), "empty period {:?}", p);
            prop_assert_eq!(cal.prev(&next), p);
            p = next;
        }
    }

    #[test]
    fn labels_round_trip(cal in calendar(), g in grain(), t in instant()) {
        let p = cal.period_containing(PeriodKind::Calendar(g), &t);
        let label = cal.label(&p);
        prop_assert_eq!(cal.parse_label(&label), Some(p), "label {}", label);
    }

    #[test]
    fn rolling_windows_end_with_their_day(cal in calendar(), days in 1..120u32, t in instant()) {
        let w = cal.period_containing(PeriodKind::Rolling { days }, &t);
        let local_day = t.with_timezone(&cal.tz).date_naive();
        prop_assert_eq!(w.last(), local_day);
        prop_assert_eq!((w.end - w.first).num_days(), i64::from(days));
        prop_assert_eq!(cal.next(&w).last(), w.end);
    }
}
