//! The demo project: a SaaS company ("Northwind Cloud") with a hosting SLA
//! and maintenance windows, a support team, a sales team with individual
//! KPIs and a bonus plan, and a distribution partner.
//!
//! Data covers the 13 whole months before the month of `end` plus that
//! month up to the day before `end`. Everything comes from ChaCha8 streams
//! seeded by `seed` (the orders' partners from a stream of their own), so
//! the same seed and end give byte-identical files on every platform.
//!
//! Stories in the data: a support backlog in the EU team, two months of
//! poor uptime, and a month in which CloudCo's EU business collapses
//! ([`COLLAPSE`]). Half of the customers are in the EU and CloudCo sells
//! four in five of their orders, so the collapse takes about 40% of a
//! month's revenue; of the months it may fall in (in the project's zone,
//! as its KPIs count them), [`collapse_month`] picks one in which revenue
//! misses its target, the business comes back after, the rest of the EU
//! and of CloudCo's business held, and no other segment moved as much.
//! Measured over every day of 2026–2028 (`scripts/bench_demo_story.py`):
//! revenue misses and the business recovers on all of them, and
//! `yardstick why` names `partner=CloudCo ∧ region=EU` first on 1,085 of
//! 1,096. With a few orders a segment, on the others a few large orders
//! moved another segment as much, or a rest fell too.

use std::fmt::Write;

use chrono::{Datelike, Duration, Months, NaiveDate, NaiveDateTime, Weekday};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::ProjectFile;
use crate::generate::{business_time, poisson, ts};

const DEFINITIONS: &str = include_str!("../templates/demo/yardstick.toml");
const README: &str = include_str!("../templates/demo/README.md");

const SALES: [(&str, &str, f64); 5] = [
    // name, team, skill (scales win rate and new-client share)
    ("Ana", "north", 1.15),
    ("Ben", "north", 0.8),
    ("Chloe", "south", 1.0),
    ("Dev", "south", 1.3),
    ("Eva", "south", 0.9),
];
/// A new customer's region, drawn uniformly from this list: half are in
/// the EU, where the company is, three in ten in the US, two in APAC.
const REGIONS: [&str; 10] = ["EU", "EU", "EU", "EU", "EU", "US", "US", "US", "APAC", "APAC"];
const PLANS: [(&str, f64, f64); 3] = [
    ("starter", 180.0, 420.0),
    ("pro", 450.0, 1300.0),
    ("enterprise", 1500.0, 4200.0),
];

/// The partner and region whose business collapses for a month.
pub const COLLAPSE: (&str, &str) = ("EU", "CloudCo");

/// An order, kept until the month of the collapse is chosen.
struct Sold {
    /// When it was ordered, in UTC.
    at: NaiveDateTime,
    /// Region, plan and partner: the revenue KPI's dimensions.
    leaf: [&'static str; 3],
    amount: f64,
    line: String,
}

impl Sold {
    fn collapsing(&self) -> bool {
        self.leaf[0] == COLLAPSE.0 && self.leaf[2] == COLLAPSE.1
    }
}

/// Who sold an order in a region: CloudCo carries most of the EU, other
/// resellers some of the rest, the remainder is sold directly.
fn channel(rng: &mut ChaCha8Rng, region: &str) -> &'static str {
    let x: f64 = rng.random();
    match region {
        "EU" if x < 0.8 => "CloudCo",
        "EU" if x < 0.9 => "Bytewise",
        "US" if x < 0.3 => "Bytewise",
        "US" if x < 0.4 => "CloudCo",
        "APAC" if x < 0.4 => "Nordlicht",
        "APAC" if x < 0.5 => "CloudCo",
        _ => "direct",
    }
}

/// Generates the demo project.
pub fn demo(seed: u64, end: NaiveDate) -> Vec<ProjectFile> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let month_start = NaiveDate::from_ymd_opt(end.year(), end.month(), 1).unwrap_or(end);
    let start = month_start
        .checked_sub_months(Months::new(13))
        .unwrap_or(month_start);
    let days: Vec<NaiveDate> = start.iter_days().take_while(|d| *d < end).collect();
    let n_days = days.len().max(1) as f64;

    let mut orders = String::from(
        "order_id,ordered_at,customer_id,is_first_order,salesperson,region,plan,partner,amount,cost\n",
    );
    // Who sold each order comes from a stream of its own, so the rest of
    // the data is what it was before orders had a partner.
    let mut channels = ChaCha8Rng::seed_from_u64(seed ^ 0x00c0_ffee);
    let mut sold: Vec<Sold> = Vec::new();
    let mut deals = String::from("deal_id,closed_at,salesperson,stage\n");
    let mut tickets = String::from("ticket_id,created_at,first_response_at,resolved_at,team,priority\n");
    let mut incidents = String::from("incident_id,started_at,ended_at,severity\n");
    let mut maintenance = String::from("window_id,starts_at,ends_at,reason\n");
    let mut partner = String::from("sale_id,sold_at,partner,region,customer_id,is_new_customer,amount\n");
    let mut spend = String::from("spent_at,partner,channel,amount\n");
    let mut people = String::from("salesperson,team\n");
    for (name, team, _) in SALES {
        let _ = writeln!(people, "{name},{team}");
    }

    let (mut order_id, mut deal_id, mut ticket_id, mut incident_id, mut window_id, mut sale_id) =
        (0, 0, 0, 0, 0, 0);
    let mut customers: Vec<(String, &str)> = Vec::new();
    let mut partner_customers = 0u32;
    // One month with a support backlog and two months with poor uptime make
    // the SLA interesting.
    let backlog_month = start.checked_add_months(Months::new(7)).unwrap_or(start).month();
    let outage_months = [
        start.checked_add_months(Months::new(4)).unwrap_or(start),
        start.checked_add_months(Months::new(5)).unwrap_or(start),
    ];
    for (i, &d) in days.iter().enumerate() {
        let growth = 1.0 + 0.6 * i as f64 / n_days;
        let weekend = matches!(d.weekday(), Weekday::Sat | Weekday::Sun);
        let dip = if weekend { 0.45 } else { 1.0 };

        // Orders: new customers and repeat orders, by salesperson.
        for _ in 0..poisson(&mut rng, 3.2 * growth * dip) {
            order_id += 1;
            let (name, _, skill) = SALES[rng.random_range(0..SALES.len())];
            let new = customers.is_empty() || rng.random::<f64>() < 0.22 * skill;
            let (customer, region, first) = if new {
                let region = REGIONS[rng.random_range(0..REGIONS.len())];
                customers.push((format!("C{:05}", customers.len() + 1), region));
                let (c, r) = customers[customers.len() - 1].clone();
                (c, r, true)
            } else {
                let (c, r) = customers[rng.random_range(0..customers.len())].clone();
                (c, r, false)
            };
            let (plan, lo, hi) = PLANS[match rng.random::<f64>() {
                x if x < 0.55 => 0,
                x if x < 0.9 => 1,
                _ => 2,
            }];
            let amount: f64 = rng.random_range(lo..hi);
            let cost = amount * rng.random_range(0.38..0.66);
            let partner = channel(&mut channels, region);
            let at = business_time(&mut rng, d);
            sold.push(Sold {
                at,
                leaf: [region, plan, partner],
                amount,
                line: format!(
                    "{order_id},{},{customer},{first},{name},{region},{plan},{partner},{amount:.2},{cost:.2}",
                    ts(at)
                ),
            });
        }

        // Deals closed (won or lost) by salesperson.
        for _ in 0..poisson(&mut rng, 1.6 * dip) {
            deal_id += 1;
            let (name, _, skill) = SALES[rng.random_range(0..SALES.len())];
            let stage = if rng.random::<f64>() < 0.27 * skill {
                "won"
            } else {
                "lost"
            };
            let _ = writeln!(
                deals,
                "{deal_id},{},{name},{stage}",
                ts(business_time(&mut rng, d))
            );
        }

        // Support tickets with first response and resolution times.
        let backlog = d.month() == backlog_month;
        for _ in 0..poisson(&mut rng, 7.0 * growth * dip) {
            ticket_id += 1;
            let created = business_time(&mut rng, d);
            let team = if rng.random::<f64>() < 0.55 {
                "support-eu"
            } else {
                "support-us"
            };
            let priority = ["low", "normal", "normal", "high"][rng.random_range(0..4)];
            // The backlog is the EU team's (a draw of the same stream
            // either way, so the rest of the data does not change).
            let slow = match (backlog, team) {
                (true, "support-eu") => 0.5,
                _ => 0.06,
            };
            let respond_h: f64 = if rng.random::<f64>() < slow {
                rng.random_range(24.0..80.0)
            } else {
                rng.random_range(0.1..20.0)
            };
            let resolve_h = respond_h + rng.random_range(1.0..70.0);
            let to_time = |h: f64| created + Duration::seconds((h * 3600.0) as i64);
            let now = end.and_hms_opt(0, 0, 0).unwrap_or_default();
            // Recent tickets may still be open.
            let first = to_time(respond_h);
            let resolved = to_time(resolve_h);
            let first = if first < now { ts(first) } else { String::new() };
            let resolved = if resolved < now {
                ts(resolved)
            } else {
                String::new()
            };
            let _ = writeln!(
                tickets,
                "{ticket_id},{},{first},{resolved},{team},{priority}",
                ts(created)
            );
        }

        // Incidents: rare, short; longer in the outage months.
        let outage = outage_months
            .iter()
            .any(|m| m.month() == d.month() && m.year() == d.year());
        let rate = if outage { 0.12 } else { 0.05 };
        if rng.random::<f64>() < rate {
            incident_id += 1;
            let started =
                d.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(rng.random_range(0..1440));
            let minutes = if outage {
                rng.random_range(60..200)
            } else {
                rng.random_range(5..90)
            };
            let severity = if minutes > 60 { "major" } else { "minor" };
            let _ = writeln!(
                incidents,
                "{incident_id},{},{},{severity}",
                ts(started),
                ts(started + Duration::minutes(minutes))
            );
        }

        // Scheduled maintenance: first Saturday of each month, 01:00–03:00 UTC.
        if d.weekday() == Weekday::Sat && d.day() <= 7 {
            window_id += 1;
            let s = d.and_hms_opt(1, 0, 0).unwrap_or_default();
            let _ = writeln!(
                maintenance,
                "{window_id},{},{},scheduled upgrade",
                ts(s),
                ts(s + Duration::hours(2))
            );
        }

        // The distribution partner's sales and spend.
        for _ in 0..poisson(&mut rng, 0.9 * growth * dip) {
            sale_id += 1;
            let new = partner_customers == 0 || rng.random::<f64>() < 0.35;
            if new {
                partner_customers += 1;
            }
            let customer = if new {
                partner_customers
            } else {
                rng.random_range(1..=partner_customers)
            };
            let region = ["DE", "AT", "CH"][rng.random_range(0..3)];
            let amount: f64 = rng.random_range(300.0..2400.0);
            let _ = writeln!(
                partner,
                "{sale_id},{},CloudCo,{region},P{customer:05},{new},{amount:.2}",
                ts(business_time(&mut rng, d))
            );
        }
        if d.day() == 1 {
            for channel in ["events", "ads"] {
                let amount: f64 = rng.random_range(1500.0..5000.0);
                let _ = writeln!(
                    spend,
                    "{},CloudCo,{channel},{amount:.2}",
                    ts(d.and_hms_opt(9, 0, 0).unwrap_or_default())
                );
            }
        }
    }

    // One month, CloudCo's business in the EU collapses: one with a whole
    // month before it in the data and a complete one after it. It may be
    // the month of the outage or the backlog: neither moves revenue.
    let candidates: Vec<Month> = (1..=11)
        .filter_map(|k| start.checked_add_months(Months::new(k)))
        .map(month)
        .collect();
    let collapsed = collapse_month(&sold, &candidates, month(end));
    for o in &sold {
        if o.collapsing() && Some(local_month(o.at)) == collapsed {
            continue;
        }
        orders.push_str(&o.line);
        orders.push('\n');
    }

    vec![
        ("yardstick.toml".into(), DEFINITIONS.into()),
        ("README.md".into(), README.into()),
        ("data/orders.csv".into(), orders),
        ("data/deals.csv".into(), deals),
        ("data/tickets.csv".into(), tickets),
        ("data/incidents.csv".into(), incidents),
        ("data/maintenance.csv".into(), maintenance),
        ("data/partner_sales.csv".into(), partner),
        ("data/partner_spend.csv".into(), spend),
        ("data/people.csv".into(), people),
        (".gitignore".into(), crate::GITIGNORE.into()),
    ]
}

/// A calendar month, as (year, month).
type Month = (i32, u32);

/// The month of a day.
fn month(d: NaiveDate) -> Month {
    (d.year(), d.month())
}

/// The project's zone (`timezone` in the template): its KPIs' months.
const ZONE: chrono_tz::Tz = chrono_tz::Europe::Berlin;

/// The month, in the project's zone, of an instant given in UTC: an order
/// at 22:43 UTC on 30 June is July's revenue.
fn local_month(at: NaiveDateTime) -> Month {
    let local = at.and_utc().with_timezone(&ZONE);
    (local.year(), local.month())
}

/// What the demo's `revenue` KPI targets a month (`target = ">= 60000"`).
const REVENUE_TARGET: f64 = 60_000.0;

/// The month CloudCo's EU business collapses, of `candidates`: one in
/// which revenue without it misses its target and, of those, the one
/// whose story is clearest. In order:
///
/// 1. it comes back after (to 90% of the month before, in the months
///    after that are complete by `current`: what `yardstick action`
///    judges a cause by);
/// 2. the rest of the region's business and the rest of the partner's
///    did not fall — had they, the region or the partner would be the
///    cause;
/// 3. the least [`Story::blur`]: no other segment moved by as much and
///    nothing else fell by as large a share.
///
/// Where no candidate misses, the one it hurts most.
fn collapse_month(sold: &[Sold], candidates: &[Month], current: Month) -> Option<Month> {
    let story = Story::of(sold);
    let rank = |m: Month| {
        let tier = match (story.recovers(m, current), story.rests_held(m)) {
            (true, true) => 0,
            (true, false) => 1,
            (false, _) => 2,
        };
        (tier, story.blur(m))
    };
    candidates
        .iter()
        .filter(|m| story.total(**m) < REVENUE_TARGET)
        .min_by(|a, b| {
            let (ta, ba) = rank(**a);
            let (tb, bb) = rank(**b);
            ta.cmp(&tb).then(ba.total_cmp(&bb))
        })
        .or_else(|| {
            candidates
                .iter()
                .min_by(|a, b| story.total(**a).total_cmp(&story.total(**b)))
        })
        .copied()
}

/// Revenue by month, outside the collapsing segment and in it, in the
/// project's months: what [`collapse_month`] reads.
struct Story<'a> {
    /// Outside the collapse, by month and segment (region, plan,
    /// partner; a dimension not in the segment is `*`).
    rest: std::collections::HashMap<(Month, [&'a str; 3]), f64>,
    /// The collapsing segment's, by month.
    lost: std::collections::HashMap<Month, f64>,
}

impl<'a> Story<'a> {
    fn of(sold: &'a [Sold]) -> Story<'a> {
        let mut story = Story {
            rest: Default::default(),
            lost: Default::default(),
        };
        for o in sold {
            let m = local_month(o.at);
            if o.collapsing() {
                *story.lost.entry(m).or_default() += o.amount;
                continue;
            }
            for mask in 0..8u8 {
                let key = std::array::from_fn(|i| if mask & (1 << i) != 0 { o.leaf[i] } else { "*" });
                *story.rest.entry((m, key)).or_default() += o.amount;
            }
        }
        story
    }

    fn at(&self, m: Month, key: [&str; 3]) -> f64 {
        self.rest.get(&(m, key)).copied().unwrap_or(0.0)
    }

    /// Revenue in `m` with the collapse there.
    fn total(&self, m: Month) -> f64 {
        self.at(m, ["*"; 3])
    }

    /// What the collapse in `m` takes away: the segment the month before.
    fn taken(&self, m: Month) -> f64 {
        self.lost.get(&before(m)).copied().unwrap_or(0.0)
    }

    /// Whether the segment comes back after a collapse in `m`: in the
    /// two months after (those complete before `current`), to 90% of the
    /// month before it.
    fn recovers(&self, m: Month, current: Month) -> bool {
        let was = self.taken(m);
        [after(m), after(after(m))]
            .into_iter()
            .filter(|a| *a < current)
            .all(|a| self.lost.get(&a).copied().unwrap_or(0.0) >= 0.9 * was)
    }

    /// Whether the rest of the region's and of the partner's business did
    /// not fall from the month before `m`.
    fn rests_held(&self, m: Month) -> bool {
        [[COLLAPSE.0, "*", "*"], ["*", "*", COLLAPSE.1]]
            .into_iter()
            .all(|key| self.at(m, key) >= self.at(before(m), key))
    }

    /// The largest movement of another segment from the month before `m`,
    /// as a share of what the collapse takes away.
    fn others_moved(&self, m: Month) -> f64 {
        let was = before(m);
        let moved = self
            .rest
            .keys()
            .filter(|(when, key)| (*when == m || *when == was) && *key != ["*"; 3])
            .map(|(_, key)| (self.at(m, *key) - self.at(was, *key)).abs())
            .fold(0.0, f64::max);
        let taken = self.taken(m);
        if taken > 0.0 { moved / taken } else { f64::INFINITY }
    }

    /// How unclear a collapse in `m` is: [`Story::others_moved`], or the
    /// largest share by which the rest of the partner's business, the
    /// region's or the whole fell, whichever is larger.
    fn blur(&self, m: Month) -> f64 {
        let was = before(m);
        [[COLLAPSE.0, "*", "*"], ["*", "*", COLLAPSE.1], ["*"; 3]]
            .into_iter()
            .map(|key| 1.0 - self.at(m, key) / self.at(was, key).max(1.0))
            .fold(self.others_moved(m), f64::max)
    }
}

/// The month before.
fn before(m: Month) -> Month {
    if m.1 == 1 { (m.0 - 1, 12) } else { (m.0, m.1 - 1) }
}

/// The month after.
fn after(m: Month) -> Month {
    if m.1 == 12 { (m.0 + 1, 1) } else { (m.0, m.1 + 1) }
}

/// The months of a demo's `orders.csv` without an order of the collapsing
/// segment ([`COLLAPSE`]), in the project's zone as its KPIs count them,
/// leaving out the first and the last (partial) month: read from the file,
/// as a user would find the collapse. One month for every demo.
pub fn months_without_the_collapse(orders_csv: &str) -> Vec<String> {
    let mut months: std::collections::BTreeMap<Month, usize> = Default::default();
    for line in orders_csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (Some(at), Some(region), Some(partner)) = (f.get(1), f.get(5), f.get(7)) else {
            continue;
        };
        let Ok(at) = NaiveDateTime::parse_from_str(at, "%Y-%m-%dT%H:%M:%SZ") else {
            continue;
        };
        *months.entry(local_month(at)).or_default() += usize::from((*region, *partner) == COLLAPSE);
    }
    let inner = months.len().saturating_sub(1);
    months
        .iter()
        .take(inner)
        .skip(1)
        .filter(|(_, n)| **n == 0)
        .map(|((y, m), _)| format!("{y:04}-{m:02}"))
        .collect()
}

/// Trial signups from the website over the same days as [`demo`], as CSV
/// (`at,plan`): what `yardstick demo` pushes into the stored source
/// `signups`. About 25 a month, growing, with weaker months that miss the
/// target of 20; from a stream of its own, so the demo's files do not
/// depend on it.
pub fn demo_signups(seed: u64, end: NaiveDate) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5167_4e55_7053);
    let days = crate::generate::days_before(end, 13);
    let n = days.len().max(1) as f64;
    let mut csv = String::from("at,plan\n");
    let mut level = 1.0;
    for (i, &d) in days.iter().enumerate() {
        if d.day() == 1 {
            level = if rng.random::<f64>() < 0.3 {
                rng.random_range(0.55..0.8)
            } else {
                rng.random_range(0.95..1.3)
            };
        }
        let growth = 0.8 + 0.4 * i as f64 / n;
        // The website is live: the last two days always have a signup, so
        // a new demo's `signups_stale` alert starts quiet.
        let recent = (end - d).num_days() <= 2;
        let n_today = poisson(&mut rng, 0.8 * growth * level).max(u32::from(recent));
        for _ in 0..n_today {
            let plan = ["starter", "starter", "pro", "enterprise"][rng.random_range(0..4)];
            let _ = writeln!(csv, "{},{plan}", ts(business_time(&mut rng, d)));
        }
    }
    csv
}

/// CloudCo's own report of the partner sales in `files` (a [`demo`]), as
/// CSV (`ref,booked_at,region,net_amount`): what `yardstick demo` pushes
/// into the stored source `cloudco_report`. It disagrees with our records
/// as partners' reports do: about 2% of sales missing, 4% of amounts
/// rounded to whole euros, sales on a month's last day often booked up to
/// 16 hours later (some into the next month), and a few sales we have no
/// record of. From a stream of its own.
pub fn demo_partner_report(seed: u64, files: &[ProjectFile]) -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x0043_6c6f_7564_436f);
    let mut csv = String::from("ref,booked_at,region,net_amount\n");
    let Some((_, sales)) = files.iter().find(|(p, _)| p == "data/partner_sales.csv") else {
        return csv;
    };
    let mut extra = 900_000u32;
    for line in sales.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (Some(id), Some(sold), Some(region), Some(amount)) = (f.first(), f.get(1), f.get(3), f.get(6))
        else {
            continue;
        };
        let Ok(at) = NaiveDateTime::parse_from_str(sold, "%Y-%m-%dT%H:%M:%SZ") else {
            continue;
        };
        let Ok(amount) = amount.parse::<f64>() else {
            continue;
        };
        if rng.random::<f64>() < 0.02 {
            continue;
        }
        let last_day = (at.date() + Duration::days(1)).day() == 1;
        let booked = if last_day && rng.random::<f64>() < 0.6 {
            at + Duration::hours(16)
        } else {
            at
        };
        let net = if rng.random::<f64>() < 0.04 {
            format!("{:.2}", amount.round())
        } else {
            format!("{amount:.2}")
        };
        let _ = writeln!(csv, "{id},{},{region},{net}", ts(booked));
        if rng.random::<f64>() < 0.006 {
            extra += 1;
            let amount: f64 = rng.random_range(300.0..2400.0);
            let _ = writeln!(
                csv,
                "{extra},{},{region},{amount:.2}",
                ts(at + Duration::hours(1))
            );
        }
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_files_and_another_seed_does_not() {
        let end = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let a = demo(42, end);
        assert_eq!(a, demo(42, end));
        assert_ne!(a, demo(43, end));
    }

    #[test]
    fn the_revenue_target_is_the_templates() {
        let revenue = DEFINITIONS
            .split("[kpi.")
            .find(|k| k.starts_with("revenue]"))
            .expect("revenue");
        assert!(
            revenue.contains(&format!("target = \">= {REVENUE_TARGET}\"")),
            "{revenue}"
        );
    }

    #[test]
    fn the_collapse_misses_the_target_and_the_business_comes_back() {
        // An end a month over two years, on days across the month: the
        // month without CloudCo's EU orders, by hand from orders.csv, in
        // the project's months.
        for i in 0..24 {
            let end = NaiveDate::from_ymd_opt(2026, 1, 1 + (i * 7) % 28)
                .and_then(|d| d.checked_add_months(Months::new(i)))
                .unwrap();
            let files = demo(42, end);
            let orders = &files.iter().find(|(p, _)| p == "data/orders.csv").unwrap().1;
            let mut by_month: std::collections::BTreeMap<Month, (f64, f64)> = Default::default();
            for l in orders.lines().skip(1) {
                let f: Vec<&str> = l.split(',').collect();
                let at = NaiveDateTime::parse_from_str(f[1], "%Y-%m-%dT%H:%M:%SZ").unwrap();
                let m = by_month.entry(local_month(at)).or_default();
                let amount: f64 = f[8].parse().unwrap();
                m.0 += amount;
                if (f[5], f[7]) == COLLAPSE {
                    m.1 += amount;
                }
            }
            let months: Vec<(&Month, &(f64, f64))> = by_month.iter().collect();
            // The first and the last month are no candidates.
            let at: Vec<usize> = (1..months.len() - 1).filter(|j| months[*j].1.1 == 0.0).collect();
            assert_eq!(at.len(), 1, "{end}: {months:?}");
            let j = at[0];
            let label = format!("{:04}-{:02}", months[j].0.0, months[j].0.1);
            assert_eq!(months_without_the_collapse(orders), vec![label], "{end}");
            let (month, (revenue, _)) = months[j];
            assert!(*revenue < REVENUE_TARGET, "{end}: {month:?} {revenue}");
            let was = months[j - 1].1.1;
            for (m, (_, segment)) in months[..months.len() - 1].iter().skip(j + 1).take(2) {
                assert!(
                    *segment >= 0.9 * was,
                    "{end}: {month:?}, then {m:?} {segment} of {was}"
                );
            }
        }
    }

    #[test]
    fn the_zone_is_the_templates() {
        assert!(DEFINITIONS.contains(&format!("timezone = \"{}\"", ZONE.name())));
    }

    #[test]
    fn data_spans_at_least_twelve_months() {
        let end = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let files = demo(42, end);
        let orders = &files.iter().find(|(p, _)| p == "data/orders.csv").unwrap().1;
        let times: Vec<&str> = orders
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        let (first, last) = (times.iter().min().unwrap(), times.iter().max().unwrap());
        assert!(first.starts_with("2025-10"), "first order {first}");
        assert!(last.starts_with("2026-11-23"), "last order {last}");
        assert!(times.len() > 1000, "{} orders", times.len());
    }
}
