//! Calendar periods as exact instants in any IANA time zone.
//!
//! A period is a range of local calendar days `[first, end)` in the project's
//! zone: a day, an ISO-style week, a month, quarter, half, year, fiscal
//! quarter or fiscal year, or a rolling window of N days. Its instants are
//! `[start_of(first), start_of(end))`, where `start_of(d)` is the first
//! instant whose local date is `d` — local midnight, or the end of the DST gap
//! when midnight does not exist that day, or the earlier of two midnights.
//! Days therefore last 23, 24 or 25 hours (or 23.5 at Lord Howe), and
//! consecutive periods tile time with no gap and no overlap.
//!
//! Labels follow LANGUAGE.md §6: `2026-10-14`, `2026-W42`, `2026-10`,
//! `2026-Q4`, `2026-H2`, `2026`, `FY2027-Q1`, `FY2027`. Weeks start on
//! `week_start`; a week belongs to the year holding its fourth day and is
//! numbered from the first such week (with Monday starts this is exactly
//! ISO 8601). A fiscal year is named by the calendar year in which it ends.

use std::fmt;

use chrono::{DateTime, Datelike, Days, LocalResult, Months, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// The length of a calendar period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    Day,
    Week,
    Month,
    Quarter,
    Half,
    Year,
    FiscalQuarter,
    FiscalYear,
}

impl Grain {
    pub const ALL: [Grain; 8] = [
        Grain::Day,
        Grain::Week,
        Grain::Month,
        Grain::Quarter,
        Grain::Half,
        Grain::Year,
        Grain::FiscalQuarter,
        Grain::FiscalYear,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Half => "half",
            Grain::Year => "year",
            Grain::FiscalQuarter => "fiscal_quarter",
            Grain::FiscalYear => "fiscal_year",
        }
    }

    pub fn from_name(s: &str) -> Option<Grain> {
        Grain::ALL.into_iter().find(|g| g.name() == s)
    }

    /// Months in one period, for month-based grains.
    fn months(self) -> Option<u32> {
        match self {
            Grain::Month => Some(1),
            Grain::Quarter | Grain::FiscalQuarter => Some(3),
            Grain::Half => Some(6),
            Grain::Year | Grain::FiscalYear => Some(12),
            Grain::Day | Grain::Week => None,
        }
    }
}

impl fmt::Display for Grain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of period: a calendar grain or a rolling window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeriodKind {
    Calendar(Grain),
    /// A window of `days` local days ending with (and labelled by) its last day.
    Rolling {
        days: u32,
    },
}

/// A period: local days `[first, end)` of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Period {
    pub kind: PeriodKind,
    /// First local day of the period.
    pub first: NaiveDate,
    /// First local day after the period.
    pub end: NaiveDate,
}

impl Period {
    /// The last local day of the period.
    pub fn last(&self) -> NaiveDate {
        self.end.pred_opt().unwrap_or(self.end)
    }
}

/// The project's calendar settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calendar {
    pub tz: Tz,
    pub week_start: Weekday,
    /// Month (1–12) in which the fiscal year starts.
    pub fiscal_year_start: u32,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            tz: Tz::UTC,
            week_start: Weekday::Mon,
            fiscal_year_start: 1,
        }
    }
}

fn ymd(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(Months::new(n)).unwrap_or(NaiveDate::MAX)
}

fn sub_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_sub_months(Months::new(n)).unwrap_or(NaiveDate::MIN)
}

fn add_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_add_days(Days::new(n)).unwrap_or(NaiveDate::MAX)
}

fn sub_days(d: NaiveDate, n: u64) -> NaiveDate {
    d.checked_sub_days(Days::new(n)).unwrap_or(NaiveDate::MIN)
}

impl Calendar {
    pub fn new(tz: Tz) -> Self {
        Calendar {
            tz,
            ..Calendar::default()
        }
    }

    /// The first instant whose local date is `day`.
    pub fn start_of_day(&self, day: NaiveDate) -> DateTime<Tz> {
        let midnight = day.and_time(chrono::NaiveTime::MIN);
        match self.tz.from_local_datetime(&midnight) {
            LocalResult::Single(t) => t,
            LocalResult::Ambiguous(a, b) => a.min(b),
            LocalResult::None => {
                // Midnight falls in a DST gap: the day starts when the gap
                // ends, which is the first local minute that exists.
                (1..=24 * 60)
                    .find_map(|m| {
                        let t = midnight + chrono::Duration::minutes(m);
                        self.tz.from_local_datetime(&t).earliest()
                    })
                    .unwrap_or_else(|| self.tz.from_utc_datetime(&midnight))
            }
        }
    }

    /// The instant at which `period` starts.
    pub fn start(&self, period: &Period) -> DateTime<Tz> {
        self.start_of_day(period.first)
    }

    /// The instant at which `period` ends (exclusive): the next period's start.
    pub fn end(&self, period: &Period) -> DateTime<Tz> {
        self.start_of_day(period.end)
    }

    /// The calendar period of `grain` that contains local day `day`.
    pub fn period_of_day(&self, grain: Grain, day: NaiveDate) -> Period {
        let kind = PeriodKind::Calendar(grain);
        let (y, m) = (day.year(), day.month());
        let (first, end) = match grain {
            Grain::Day => (day, add_days(day, 1)),
            Grain::Week => {
                let back =
                    (7 + day.weekday().num_days_from_monday() - self.week_start.num_days_from_monday()) % 7;
                let first = sub_days(day, u64::from(back));
                (first, add_days(first, 7))
            }
            Grain::Month | Grain::Quarter | Grain::Half | Grain::Year => {
                let n = grain.months().unwrap_or(1);
                let m0 = (m - 1) / n * n + 1;
                let first = ymd(y, m0, 1).unwrap_or(day);
                (first, add_months(first, n))
            }
            Grain::FiscalQuarter | Grain::FiscalYear => {
                let n = grain.months().unwrap_or(12);
                let fy_first = self.fiscal_year_first_day(day);
                let since = (m + 12 - self.fiscal_year_start) % 12;
                let first = add_months(fy_first, since / n * n);
                (first, add_months(first, n))
            }
        };
        Period { kind, first, end }
    }

    /// First day of the fiscal year containing `day`.
    fn fiscal_year_first_day(&self, day: NaiveDate) -> NaiveDate {
        let s = self.fiscal_year_start;
        let y = if day.month() >= s {
            day.year()
        } else {
            day.year() - 1
        };
        ymd(y, s, 1).unwrap_or(day)
    }

    /// The fiscal year (by the calendar year in which it ends) of a fiscal
    /// year starting on `first`.
    fn fiscal_year_name(&self, first: NaiveDate) -> i32 {
        if self.fiscal_year_start == 1 {
            first.year()
        } else {
            first.year() + 1
        }
    }

    /// The rolling window of `days` days ending with local day `last`.
    pub fn window_ending(&self, days: u32, last: NaiveDate) -> Period {
        let end = add_days(last, 1);
        Period {
            kind: PeriodKind::Rolling { days },
            first: sub_days(end, u64::from(days.max(1))),
            end,
        }
    }

    /// The period of `kind` that contains `instant`. For a rolling window,
    /// the window ending with the instant's day.
    pub fn period_containing<T: TimeZone>(&self, kind: PeriodKind, instant: &DateTime<T>) -> Period {
        let utc = instant.with_timezone(&Utc);
        let local_day = utc.with_timezone(&self.tz).date_naive();
        let of_day = |d: NaiveDate| match kind {
            PeriodKind::Calendar(g) => self.period_of_day(g, d),
            PeriodKind::Rolling { days } => self.window_ending(days, d),
        };
        let mut p = of_day(local_day);
        // Around an ambiguous midnight, local dates are not monotonic in
        // time; periods are cut at their first instant, so correct for that.
        if matches!(kind, PeriodKind::Calendar(_)) {
            while self.end(&p) <= utc {
                p = self.next(&p);
            }
            while self.start(&p) > utc {
                p = self.prev(&p);
            }
        }
        p
    }

    /// The period after `p`.
    pub fn next(&self, p: &Period) -> Period {
        match p.kind {
            PeriodKind::Calendar(g) => self.period_of_day(g, p.end),
            PeriodKind::Rolling { days } => self.window_ending(days, p.end),
        }
    }

    /// The period before `p`.
    pub fn prev(&self, p: &Period) -> Period {
        match p.kind {
            PeriodKind::Calendar(g) => self.period_of_day(g, sub_days(p.first, 1)),
            PeriodKind::Rolling { days } => self.window_ending(days, sub_days(p.last(), 1)),
        }
    }

    /// The same period one year earlier.
    pub fn year_ago(&self, p: &Period) -> Period {
        match p.kind {
            PeriodKind::Calendar(Grain::Day) => self.period_of_day(Grain::Day, sub_months(p.first, 12)),
            PeriodKind::Calendar(Grain::Week) => {
                // The week holding the same week-year's anchor day a year before.
                let anchor = add_days(p.first, 3);
                let (year, week) = self.week_number(p.first);
                self.week(year - 1, week)
                    .unwrap_or_else(|| self.period_of_day(Grain::Week, sub_days(anchor, 364)))
            }
            PeriodKind::Calendar(g) => self.period_of_day(g, sub_months(p.first, 12)),
            PeriodKind::Rolling { days } => self.window_ending(days, sub_months(p.last(), 12)),
        }
    }

    /// All periods of `kind` overlapping `[from, to)`.
    pub fn periods_between<T: TimeZone>(
        &self,
        kind: PeriodKind,
        from: &DateTime<T>,
        to: &DateTime<T>,
    ) -> Vec<Period> {
        let to = to.with_timezone(&Utc);
        let mut out = Vec::new();
        let mut p = self.period_containing(kind, from);
        while self.start(&p) < to {
            out.push(p);
            p = self.next(&p);
        }
        out
    }

    /// Week-year and week number of the week starting on `first`.
    fn week_number(&self, first: NaiveDate) -> (i32, u32) {
        let anchor = add_days(first, 3);
        (anchor.year(), (anchor.ordinal() - 1) / 7 + 1)
    }

    /// Week `week` of week-year `year`, if it exists.
    fn week(&self, year: i32, week: u32) -> Option<Period> {
        let anchor_weekday = self.week_start.num_days_from_monday() + 3;
        let jan1 = ymd(year, 1, 1)?;
        let shift = (7 + anchor_weekday % 7 - jan1.weekday().num_days_from_monday()) % 7;
        let anchor = add_days(jan1, u64::from(shift) + 7 * u64::from(week.checked_sub(1)?));
        (anchor.year() == year).then(|| self.period_of_day(Grain::Week, anchor))
    }

    /// The label of a period (LANGUAGE.md §6).
    pub fn label(&self, p: &Period) -> String {
        let f = p.first;
        match p.kind {
            PeriodKind::Rolling { .. } | PeriodKind::Calendar(Grain::Day) => {
                p.last().format("%Y-%m-%d").to_string()
            }
            PeriodKind::Calendar(Grain::Week) => {
                let (y, w) = self.week_number(f);
                format!("{y}-W{w:02}")
            }
            PeriodKind::Calendar(Grain::Month) => f.format("%Y-%m").to_string(),
            PeriodKind::Calendar(Grain::Quarter) => format!("{}-Q{}", f.year(), (f.month() - 1) / 3 + 1),
            PeriodKind::Calendar(Grain::Half) => format!("{}-H{}", f.year(), (f.month() - 1) / 6 + 1),
            PeriodKind::Calendar(Grain::Year) => f.year().to_string(),
            PeriodKind::Calendar(Grain::FiscalQuarter) => {
                let fy_first = self.fiscal_year_first_day(f);
                let q = (f.month() + 12 - self.fiscal_year_start) % 12 / 3 + 1;
                format!("FY{}-Q{q}", self.fiscal_year_name(fy_first))
            }
            PeriodKind::Calendar(Grain::FiscalYear) => format!("FY{}", self.fiscal_year_name(f)),
        }
    }

    /// Parses a calendar period label of any grain.
    pub fn parse_label(&self, label: &str) -> Option<Period> {
        let s = label.trim();
        let num = |t: &str| -> Option<i32> {
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse().ok())
                .flatten()
        };
        if let Some(rest) = s.strip_prefix("FY") {
            let (year, q) = match rest.split_once("-Q") {
                Some((y, q)) => (num(y)?, Some(num(q)?)),
                None => (num(rest)?, None),
            };
            // The fiscal year named `year` ends in calendar year `year`.
            let first_year = if self.fiscal_year_start == 1 {
                year
            } else {
                year - 1
            };
            let fy_first = ymd(first_year, self.fiscal_year_start, 1)?;
            return match q {
                None => Some(self.period_of_day(Grain::FiscalYear, fy_first)),
                Some(q @ 1..=4) => {
                    Some(self.period_of_day(Grain::FiscalQuarter, add_months(fy_first, (q as u32 - 1) * 3)))
                }
                Some(_) => None,
            };
        }
        if let Some(y) = num(s) {
            return Some(self.period_of_day(Grain::Year, ymd(y, 1, 1)?));
        }
        let (y, rest) = s.split_once('-')?;
        let y = num(y)?;
        if let Some(q) = rest.strip_prefix('Q') {
            let q = num(q).filter(|q| (1..=4).contains(q))?;
            return Some(self.period_of_day(Grain::Quarter, ymd(y, q as u32 * 3 - 2, 1)?));
        }
        if let Some(h) = rest.strip_prefix('H') {
            let h = num(h).filter(|h| (1..=2).contains(h))?;
            return Some(self.period_of_day(Grain::Half, ymd(y, h as u32 * 6 - 5, 1)?));
        }
        if let Some(w) = rest.strip_prefix('W') {
            let w = num(w).filter(|w| (1..=53).contains(w))?;
            return self.week(y, u32::try_from(w).ok()?);
        }
        match rest.split_once('-') {
            None if rest.len() == 2 => {
                let m = u32::try_from(num(rest)?).ok()?;
                Some(self.period_of_day(Grain::Month, ymd(y, m, 1)?))
            }
            Some((m, d)) if m.len() == 2 && d.len() == 2 => {
                let (m, d) = (u32::try_from(num(m)?).ok()?, u32::try_from(num(d)?).ok()?);
                Some(self.period_of_day(Grain::Day, ymd(y, m, d)?))
            }
            _ => None,
        }
    }
}

/// Parses the first day of `"2026"`, `"2026-07"` or `"2026-07-15"` (used by
/// effective-dated targets and contract dates).
pub fn parse_start_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    let parts: Vec<&str> = s.split('-').collect();
    let n = |t: &str, len: usize| -> Option<u32> {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())?
    };
    match parts[..] {
        [y] => ymd(i32::try_from(n(y, 4)?).ok()?, 1, 1),
        [y, m] => ymd(i32::try_from(n(y, 4)?).ok()?, n(m, 2)?, 1),
        [y, m, d] => ymd(i32::try_from(n(y, 4)?).ok()?, n(m, 2)?, n(d, 2)?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_years_are_named_by_the_year_they_end_in() {
        let cal = Calendar {
            fiscal_year_start: 4,
            ..Calendar::default()
        };
        let d = ymd(2026, 5, 10).unwrap();
        let fy = cal.period_of_day(Grain::FiscalYear, d);
        assert_eq!(
            (fy.first, fy.end),
            (ymd(2026, 4, 1).unwrap(), ymd(2027, 4, 1).unwrap())
        );
        assert_eq!(cal.label(&fy), "FY2027");
        let fq = cal.period_of_day(Grain::FiscalQuarter, ymd(2027, 2, 28).unwrap());
        assert_eq!(cal.label(&fq), "FY2027-Q4");
        assert_eq!(fq.first, ymd(2027, 1, 1).unwrap());
        assert_eq!(cal.parse_label("FY2027-Q1").map(|p| p.first), ymd(2026, 4, 1));
    }

    #[test]
    fn start_dates_accept_year_month_and_day() {
        assert_eq!(parse_start_date("2026"), ymd(2026, 1, 1));
        assert_eq!(parse_start_date("2026-07"), ymd(2026, 7, 1));
        assert_eq!(parse_start_date("2026-07-15"), ymd(2026, 7, 15));
        assert_eq!(parse_start_date("2026-13"), None);
        assert_eq!(parse_start_date("26-07"), None);
    }
}
