//! Periods as the database computes them: the `CASE` over a frame's bounds
//! for each kind of time column (the PostgreSQL round trip itself is tested
//! by the CLI's `database` tests against a real server).

use chrono::{TimeZone, Utc};
use yardstick_engine::database::{TimeKind, period_case};

fn us(y: i32, m: u32, d: u32, h: u32) -> i64 {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid")
        .timestamp_micros()
}

#[test]
fn bounds_are_written_for_each_kind_of_time_column() {
    let tz = chrono_tz::Europe::Berlin;
    // March and April 2026 in Berlin (summer time from 29 March), the frame
    // cut at 10 April 10:00 UTC (the as-of instant).
    let bounds = [us(2026, 2, 28, 23), us(2026, 3, 31, 22), us(2026, 4, 10, 10)];
    let (case, within) = period_case("\"t\"", TimeKind::Instant, &bounds, tz);
    assert_eq!(
        case,
        "CASE WHEN \"t\" < TIMESTAMP '2026-03-31 22:00:00.000000' THEN 0 ELSE 1 END"
    );
    assert_eq!(
        within,
        "\"t\" >= TIMESTAMP '2026-02-28 23:00:00.000000' AND \"t\" < TIMESTAMP '2026-04-10 10:00:00.000000'"
    );
    // A wall-clock column compares with Berlin's wall clock.
    let (case, within) = period_case("\"t\"", TimeKind::Local, &bounds, tz);
    assert!(case.contains("TIMESTAMP '2026-04-01 00:00:00.000000'"), "{case}");
    assert!(
        within.contains("TIMESTAMP '2026-03-01 00:00:00.000000'"),
        "{within}"
    );
    assert!(
        within.contains("TIMESTAMP '2026-04-10 12:00:00.000000'"),
        "{within}"
    );
    // A date starts at its midnight: 10 April starts before the cut, so it
    // is inside; the first day outside is the 11th.
    let (case, within) = period_case("\"d\"", TimeKind::Day, &bounds, tz);
    assert!(case.contains("\"d\" < DATE '2026-04-01'"), "{case}");
    assert!(within.ends_with("\"d\" < DATE '2026-04-11'"), "{within}");
}

#[test]
fn many_periods_make_a_balanced_search_that_names_every_index_once() {
    let tz = chrono_tz::UTC;
    let bounds: Vec<i64> = (0..=37).map(|i| us(2026, 1, 1, 0) + i * 86_400_000_000).collect();
    let (case, _) = period_case("\"t\"", TimeKind::Instant, &bounds, tz);
    for i in 0..37 {
        assert_eq!(
            case.matches(&format!("THEN {i} ")).count() + case.matches(&format!("ELSE {i} ")).count(),
            1,
            "period {i} appears once: {case}"
        );
    }
    // Depth: no more than ⌈log₂ 37⌉ = 6 nested CASEs on any path.
    let mut depth: i32 = 0;
    let mut max = 0;
    for w in case.split_whitespace() {
        match w {
            "CASE" => {
                depth += 1;
                max = max.max(depth);
            }
            "END" => depth -= 1,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
    assert!(max <= 6, "depth {max}");
}
