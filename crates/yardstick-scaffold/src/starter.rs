//! The starter projects of `yardstick init`: commented definitions and a
//! year of sample data ending yesterday, so that a new project shows
//! sensible values and statuses (some met, some missed) on day one.
//!
//! Data covers the 12 whole months before the month of `end` plus that
//! month up to the day before `end`, from one ChaCha8 stream seeded by
//! `seed`: the same seed and end give byte-identical files. Dates in the
//! definitions (a contract's start, dated targets) are placed in that span.

use std::fmt::Write;

use chrono::{Datelike, Duration, Months, NaiveDate, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::generate::{business_time, days_before, first_month, midnight, month_label, poisson, ts};
use crate::{ProjectFile, Template};

/// Months of whole data before the current month.
const MONTHS: u32 = 12;

/// The files of a starter project with data ending the day before `end`.
pub fn template(t: Template, seed: u64, end: NaiveDate) -> Vec<ProjectFile> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let days = days_before(end, MONTHS);
    let first = first_month(end, MONTHS);
    let (definitions, data): (&str, Vec<(&str, String)>) = match t {
        Template::Saas => (
            include_str!("../templates/saas/yardstick.toml"),
            saas(&mut rng, &days),
        ),
        Template::Sla => (
            include_str!("../templates/sla/yardstick.toml"),
            sla(&mut rng, &days, end),
        ),
        Template::PartnershipDistribution => (
            include_str!("../templates/partnership-distribution/yardstick.toml"),
            distribution(&mut rng, &days),
        ),
        Template::PartnershipJv => (
            include_str!("../templates/partnership-jv/yardstick.toml"),
            joint_venture(&mut rng, &days, end),
        ),
        Template::PartnershipTechnology => (
            include_str!("../templates/partnership-technology/yardstick.toml"),
            technology(&mut rng, &days),
        ),
    };
    let amendment = first.checked_add_months(Months::new(6)).unwrap_or(first);
    let definitions = definitions
        .replace("{{first_month}}", &month_label(first))
        .replace("{{amendment_month}}", &month_label(amendment))
        .replace("{{first_day}}", &first.to_string());
    let mut files = vec![("yardstick.toml".to_string(), definitions)];
    files.extend(data.into_iter().map(|(p, text)| (p.to_string(), text)));
    files.push((".gitignore".into(), crate::GITIGNORE.into()));
    files
}

fn weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A monthly level that wanders: most months near 1, some well below.
fn month_levels(rng: &mut ChaCha8Rng, days: &[NaiveDate]) -> Vec<(u32, i32, f64)> {
    let mut out: Vec<(u32, i32, f64)> = Vec::new();
    for d in days {
        if out
            .last()
            .is_none_or(|&(m, y, _)| (m, y) != (d.month(), d.year()))
        {
            let level = if rng.random::<f64>() < 0.25 {
                rng.random_range(0.6..0.85)
            } else {
                rng.random_range(0.9..1.25)
            };
            out.push((d.month(), d.year(), level));
        }
    }
    out
}

fn level_of(levels: &[(u32, i32, f64)], d: NaiveDate) -> f64 {
    levels
        .iter()
        .find(|&&(m, y, _)| (m, y) == (d.month(), d.year()))
        .map_or(1.0, |l| l.2)
}

/// Orders (revenue ≥ 20,000, ≥ 15 new clients a month) and subscription
/// changes (≤ 3 cancellations).
fn saas(rng: &mut ChaCha8Rng, days: &[NaiveDate]) -> Vec<(&'static str, String)> {
    let mut orders = String::from("order_id,ordered_at,customer_id,is_first_order,region,amount,cost\n");
    let mut subs = String::from("customer_id,changed_at,change\n");
    let levels = month_levels(rng, days);
    let (mut id, mut customers) = (0, 0u32);
    for &d in days {
        let level = level_of(&levels, d);
        let dip = if weekend(d) { 0.4 } else { 1.0 };
        for _ in 0..poisson(rng, 1.6 * level * dip) {
            id += 1;
            let new = customers == 0 || rng.random::<f64>() < 0.4;
            let customer = if new {
                customers += 1;
                customers
            } else {
                rng.random_range(1..=customers)
            };
            let at = business_time(rng, d);
            let region = ["EU", "US", "APAC"][rng.random_range(0..3)];
            let amount: f64 = rng.random_range(150.0..1300.0);
            let cost = amount * rng.random_range(0.48..0.7);
            let _ = writeln!(
                orders,
                "{id},{},C{customer:04},{new},{region},{amount:.2},{cost:.2}",
                ts(at)
            );
            if new {
                let _ = writeln!(subs, "C{customer:04},{},start", ts(at));
            }
        }
        if customers > 0 && rng.random::<f64>() < 0.09 {
            let c = rng.random_range(1..=customers);
            let _ = writeln!(subs, "C{c:04},{},cancel", ts(business_time(rng, d)));
        }
    }
    vec![("data/orders.csv", orders), ("data/subscriptions.csv", subs)]
}

/// Incidents (some months under 99.5% and 99.9% uptime), monthly
/// maintenance windows, and support tickets with response and resolution
/// times (some still open at `end`).
fn sla(rng: &mut ChaCha8Rng, days: &[NaiveDate], end: NaiveDate) -> Vec<(&'static str, String)> {
    let mut incidents = String::from("incident_id,started_at,ended_at\n");
    let mut maintenance = String::from("window_id,starts_at,ends_at,reason\n");
    let mut tickets = String::from("ticket_id,created_at,first_response_at,resolved_at\n");
    let levels = month_levels(rng, days);
    let now = midnight(end);
    let (mut incident, mut window, mut ticket) = (0, 0, 0);
    for &d in days {
        let bad = level_of(&levels, d) < 0.9;
        if rng.random::<f64>() < if bad { 0.15 } else { 0.04 } {
            incident += 1;
            let start = midnight(d) + Duration::minutes(rng.random_range(0..1440));
            let minutes = if bad {
                rng.random_range(40..160)
            } else {
                rng.random_range(3..40)
            };
            let _ = writeln!(
                incidents,
                "{incident},{},{}",
                ts(start),
                ts(start + Duration::minutes(minutes))
            );
        }
        if d.weekday() == Weekday::Sun && d.day() <= 7 {
            window += 1;
            let s = d.and_hms_opt(1, 0, 0).unwrap_or_default();
            let _ = writeln!(
                maintenance,
                "{window},{},{},scheduled upgrade",
                ts(s),
                ts(s + Duration::hours(2))
            );
        }
        let dip = if weekend(d) { 0.3 } else { 1.0 };
        for _ in 0..poisson(rng, 3.0 * dip) {
            ticket += 1;
            let created = business_time(rng, d);
            let slow = if bad { 0.2 } else { 0.05 };
            let respond_h: f64 = if rng.random::<f64>() < slow {
                rng.random_range(24.0..70.0)
            } else {
                rng.random_range(0.2..16.0)
            };
            let resolve_h = respond_h + rng.random_range(1.0..if bad { 110.0 } else { 60.0_f64 });
            let at = |h: f64| created + Duration::seconds((h * 3600.0) as i64);
            let shown = |t: chrono::NaiveDateTime| if t < now { ts(t) } else { String::new() };
            let _ = writeln!(
                tickets,
                "{ticket},{},{},{}",
                ts(created),
                shown(at(respond_h)),
                shown(at(resolve_h))
            );
        }
    }
    vec![
        ("data/incidents.csv", incidents),
        ("data/maintenance.csv", maintenance),
        ("data/tickets.csv", tickets),
    ]
}

/// A reseller's sales (≥ 50,000 a quarter, 5% of 2,000 accounts) and its
/// acquisition spend (≤ 800 per new customer).
fn distribution(rng: &mut ChaCha8Rng, days: &[NaiveDate]) -> Vec<(&'static str, String)> {
    let mut sales = String::from("sale_id,sold_at,customer_id,region,is_new_customer,amount,cost\n");
    let mut spend = String::from("spent_at,channel,amount\n");
    let mut churn = String::from("churned_at,customer_id\n");
    let mut market = String::from("reported_at,market_sales\n");
    let mut customers: Vec<u32> = Vec::new();
    let levels = month_levels(rng, days);
    let mut seen = std::collections::HashSet::new();
    let mut id = 0;
    for &d in days {
        let level = level_of(&levels, d);
        let dip = if weekend(d) { 0.3 } else { 1.0 };
        for _ in 0..poisson(rng, 1.5 * level * dip) {
            id += 1;
            let customer = rng.random_range(1..=2000u32);
            let new = seen.insert(customer);
            let region = if rng.random::<f64>() < 0.7 { "UK" } else { "IE" };
            let amount: f64 = rng.random_range(150.0..900.0);
            let cost = amount * rng.random_range(0.5..0.7);
            if new {
                customers.push(customer);
            }
            let _ = writeln!(
                sales,
                "{id},{},P{customer:04},{region},{new},{amount:.2},{cost:.2}",
                ts(business_time(rng, d))
            );
        }
        // About one customer in ten cancels in a quarter.
        if !customers.is_empty() && rng.random::<f64>() < 0.15 {
            let c = customers[rng.random_range(0..customers.len())];
            let _ = writeln!(churn, "{},P{c:04}", ts(business_time(rng, d)));
        }
        if d.day() == 1 {
            for channel in ["events", "ads"] {
                let amount: f64 = rng.random_range(6000.0..12000.0);
                let _ = writeln!(spend, "{},{channel},{amount:.2}", ts(midnight(d)));
            }
            let size: f64 = rng.random_range(900_000.0..1_100_000.0);
            let _ = writeln!(market, "{},{size:.0}", ts(midnight(d)));
        }
    }
    vec![
        ("data/partner_sales.csv", sales),
        ("data/partner_spend.csv", spend),
        ("data/partner_churn.csv", churn),
        ("data/market_size.csv", market),
    ]
}

/// A joint venture's ledger (monthly revenue and cost, a capital call each
/// quarter) and its milestones (most on time, some late, the latest not
/// done yet).
fn joint_venture(rng: &mut ChaCha8Rng, days: &[NaiveDate], end: NaiveDate) -> Vec<(&'static str, String)> {
    let mut ledger = String::from("entry_id,booked_at,revenue,cost,investment\n");
    let mut milestones = String::from("milestone,due_at,done_at\n");
    let mut id = 0;
    let names = [
        "Legal entity founded",
        "Shared roadmap agreed",
        "First shared product",
        "Joint sales team hired",
        "Partner portal live",
        "First enterprise customer",
        "Second product line",
        "Regional launch",
        "Support desk merged",
        "Annual audit passed",
        "Pricing harmonised",
        "Data platform shared",
        "Board review",
    ];
    for (m, &d) in days.iter().filter(|d| d.day() == 15).enumerate() {
        id += 1;
        let revenue: f64 = rng.random_range(22_000.0..36_000.0);
        let cost = revenue * rng.random_range(0.7..0.9);
        // The first entry is the initial capital; then a capital call opens
        // each quarter.
        let investment = if id == 1 || (d.month() - 1) % 3 == 0 {
            rng.random_range(40_000.0..60_000.0)
        } else {
            0.0
        };
        let _ = writeln!(
            ledger,
            "{id},{}T12:00:00,{revenue:.2},{cost:.2},{investment:.2}",
            d
        );
        let due = d + Duration::days(rng.random_range(-10..10));
        let late = rng.random::<f64>() < 0.12;
        let done = due
            + Duration::days(if late {
                rng.random_range(3..20)
            } else {
                rng.random_range(-12..0)
            });
        let done = if done < end {
            done.to_string()
        } else {
            String::new()
        };
        let _ = writeln!(milestones, "{},{due},{done}", names[m % names.len()]);
    }
    vec![("data/ledger.csv", ledger), ("data/milestones.csv", milestones)]
}

/// A technology partnership: releases (about two a quarter), changes with
/// their cycle times, and daily active users growing past 1,000.
fn technology(rng: &mut ChaCha8Rng, days: &[NaiveDate]) -> Vec<(&'static str, String)> {
    let mut releases = String::from("release,released_at,kind\n");
    let mut changes = String::from("change_id,started_at,merged_at,team\n");
    let mut usage = String::from("day,active_users\n");
    let (mut release, mut change) = (0, 100);
    let n = days.len().max(1) as f64;
    for (i, &d) in days.iter().enumerate() {
        if !weekend(d) && rng.random::<f64>() < 0.09 {
            release += 1;
            let kind = if rng.random::<f64>() < 0.4 {
                "launch"
            } else {
                "update"
            };
            let _ = writeln!(
                releases,
                "Connector 1.{release},{}+05:30,{kind}",
                d.and_hms_opt(10, 0, 0)
                    .unwrap_or_default()
                    .format("%Y-%m-%dT%H:%M:%S")
            );
        }
        if !weekend(d) {
            for _ in 0..poisson(rng, 0.6) {
                change += 1;
                let start = d.and_hms_opt(9, 0, 0).unwrap_or_default();
                let longest = if rng.random::<f64>() < 0.3 { 16.0 } else { 9.0 };
                let days_open = rng.random_range(1.0..longest);
                let merged = start + Duration::seconds((days_open * 86_400.0) as i64);
                let team = if rng.random::<f64>() < 0.5 {
                    "ours"
                } else {
                    "partner"
                };
                let _ = writeln!(
                    changes,
                    "{change},{}+05:30,{}+05:30,{team}",
                    start.format("%Y-%m-%dT%H:%M:%S"),
                    merged.format("%Y-%m-%dT%H:%M:%S")
                );
            }
        }
        let trend = 700.0 + 550.0 * i as f64 / n;
        let users = trend * if weekend(d) { 0.7 } else { 1.0 } * rng.random_range(0.9..1.1);
        let _ = writeln!(usage, "{d},{users:.0}");
    }
    vec![
        ("data/releases.csv", releases),
        ("data/changes.csv", changes),
        ("data/usage.csv", usage),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_and_end_give_the_same_files() {
        let end = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        for t in Template::ALL {
            let a = template(t, 1, end);
            assert_eq!(a, template(t, 1, end), "{}", t.name());
            assert_ne!(a, template(t, 2, end), "{}", t.name());
        }
    }

    #[test]
    fn dates_in_the_definitions_fall_in_the_data() {
        let end = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let files = template(Template::Sla, 1, end);
        let toml = &files[0].1;
        assert!(
            toml.contains("{ from = \"2025-12\", target = \">= 99.5%\" }"),
            "{toml}"
        );
        assert!(
            toml.contains("{ from = \"2026-06\", target = \">= 99.9%\""),
            "{toml}"
        );
        assert!(toml.contains("start = 2025-12-01"), "{toml}");
        assert!(!toml.contains("{{"), "{toml}");
    }
}
