//! `why` on generated data with injected causes: the injected causes come
//! first, and the contributions are the segments' own changes, computed
//! here from the generated rows, adding up to the gap.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

use yardstick_core::why::search::Roots;
use yardstick_engine::why::{Stage, Vs, Why, WhyOptions};

use crate::{project, utc};

const REGIONS: [&str; 4] = ["EU", "US", "APAC", "LATAM"];
const PARTNERS: [&str; 5] = ["p1", "p2", "p3", "p4", "p5"];
const PRODUCTS: [&str; 4] = ["a", "b", "c", "d"];

/// One generated order.
struct Order {
    june: bool,
    region: &'static str,
    partner: &'static str,
    product: &'static str,
    amount: f64,
    ok: bool,
}

/// Orders of May and June 2026: every leaf sells ten orders a month
/// (June: `volume` times as many) of an amount that varies a little by
/// leaf and grows 10% in June, times `factor` (the injected cause); a
/// share `rate` of them is `ok`.
fn orders(
    factor: impl Fn(&str, &str, &str) -> f64,
    volume: impl Fn(&str, &str, &str) -> usize,
    rate: impl Fn(bool, &str) -> f64,
) -> Vec<Order> {
    let mut out = Vec::new();
    let mut seed = 7u64;
    let mut noise = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((seed >> 33) % 1000) as f64 / 1000.0
    };
    for (i, region) in REGIONS.iter().enumerate() {
        for (j, partner) in PARTNERS.iter().enumerate() {
            for (l, product) in PRODUCTS.iter().enumerate() {
                let base = 100.0 + 10.0 * ((i * 7 + j * 3 + l) % 5) as f64;
                for june in [false, true] {
                    let n = if june {
                        10 * volume(region, partner, product)
                    } else {
                        10
                    };
                    let r = rate(june, region);
                    for m in 0..n {
                        let wobble = 0.97 + 0.06 * noise();
                        let amount = if june {
                            base * 1.1 * wobble * factor(region, partner, product)
                        } else {
                            base * wobble
                        };
                        out.push(Order {
                            june,
                            region,
                            partner,
                            product,
                            amount: (amount * 100.0).round() / 100.0,
                            ok: (m as f64 + 0.5) / n as f64 <= r,
                        });
                    }
                }
            }
        }
    }
    out
}

const DEFS: &str = r#"
[source.orders]
path = "data/orders.csv"
time = "ordered_at"

[kpi.revenue]
source = "orders"
measure = "sum(amount)"
dimensions = ["region", "partner", "product"]
every = "month"
target = ">= 50000"

[kpi.order_value]
source = "orders"
measure = "  avg(amount) "
dimensions = ["region", "partner", "product"]
every = "month"
target = ">= 100"

[kpi.ok_share]
source = "orders"
share = "ok"
dimensions = ["region", "partner", "product"]
every = "month"
target = ">= 80%"
"#;

fn run(rows: &[Order], kpi: &str, vs: Vs, depth: usize, top: usize) -> Why {
    run_as(rows, kpi, vs, depth, top, Roots::Explain)
}

fn run_as(rows: &[Order], kpi: &str, vs: Vs, depth: usize, top: usize, roots: Roots) -> Why {
    run_telling(rows, kpi, vs, depth, top, roots, &|_| {})
}

fn run_telling(
    rows: &[Order],
    kpi: &str,
    vs: Vs,
    depth: usize,
    top: usize,
    roots: Roots,
    progress: &(dyn Fn(Stage) + Sync),
) -> Why {
    let mut csv = String::from("ordered_at,region,partner,product,amount,ok\n");
    for (i, o) in rows.iter().enumerate() {
        let day = 1 + (i % 28);
        let month = if o.june { 6 } else { 5 };
        let _ = writeln!(
            csv,
            "2026-{month:02}-{day:02}T10:00:00Z,{},{},{},{:.2},{}",
            o.region, o.partner, o.product, o.amount, o.ok
        );
    }
    let dir = project("UTC", DEFS, &[("data/orders.csv", &csv)]);
    let loaded = yardstick_engine::load_dir(dir.path());
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut d = yardstick_core::Diagnostics::default();
    let catalog = rt.block_on(yardstick_engine::register_sources(
        &loaded.project,
        dir.path(),
        &mut d,
    ));
    assert!(!d.has_errors(), "{d:#?}");
    let o = WhyOptions {
        kpi: kpi.into(),
        period: "2026-06".into(),
        vs,
        entity: Vec::new(),
        within: Vec::new(),
        dimensions: None,
        depth,
        top,
        roots,
        as_of: utc("2026-07-02T00:00:00Z"),
    };
    rt.block_on(yardstick_engine::why::why_with_progress(
        &loaded.project,
        &catalog,
        &o,
        progress,
    ))
    .expect("why")
}

fn roots(w: &Why) -> Vec<String> {
    w.causes
        .iter()
        .filter(|c| c.root)
        .map(|c| {
            c.elements
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("&")
        })
        .collect()
}

fn flat(_: &str, _: &str, _: &str) -> usize {
    1
}

fn always(_: bool, _: &str) -> f64 {
    0.9
}

/// Revenue by region and month, summed here.
fn by_region(rows: &[Order]) -> BTreeMap<(&'static str, bool), f64> {
    let mut m = BTreeMap::new();
    for o in rows {
        *m.entry((o.region, o.june)).or_insert(0.0) += o.amount;
    }
    m
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn one_collapsed_element_comes_first_and_contributions_add_up() {
    let rows = orders(|r, _, _| if r == "US" { 0.4 } else { 1.0 }, flat, always);
    let w = run(&rows, "revenue", Vs::Previous, 1, 100);
    assert_eq!(roots(&w), vec!["region=US"], "{w:#?}");
    let hand = by_region(&rows);
    let may: f64 = hand.iter().filter(|((_, j), _)| !j).map(|(_, v)| v).sum();
    let june: f64 = hand.iter().filter(|((_, j), _)| *j).map(|(_, v)| v).sum();
    assert!(close(w.value.unwrap_or_default(), june) && close(w.reference.unwrap_or_default(), may));
    assert!(close(w.gap.unwrap_or_default(), june - may));
    // Every region is listed (depth 1), each with its own change, and the
    // regions add up to the gap.
    let regions: Vec<_> = w
        .causes
        .iter()
        .filter(|c| c.elements.contains_key("region"))
        .collect();
    assert_eq!(regions.len(), 4);
    for c in &regions {
        let r = c.elements["region"].as_deref().unwrap_or_default();
        let expected = hand[&(
            REGIONS.iter().find(|x| **x == r).copied().unwrap_or_default(),
            true,
        )] - hand[&(
            REGIONS.iter().find(|x| **x == r).copied().unwrap_or_default(),
            false,
        )];
        assert!(
            close(c.contribution, expected),
            "{r}: {} vs {expected}",
            c.contribution
        );
    }
    let sum: f64 = regions.iter().map(|c| c.contribution).sum();
    assert!(close(sum, june - may), "{sum} vs {}", june - may);
    for dim in ["partner", "product"] {
        let s: f64 = w
            .causes
            .iter()
            .filter(|c| c.elements.contains_key(dim))
            .map(|c| c.contribution)
            .sum();
        assert!(close(s, june - may), "{dim}: {s}");
    }
    // The root is the one cause the criterion needs.
    assert!(w.explained > 0.9, "{}", w.explained);
    assert!((w.normal_change - 0.1).abs() < 0.03, "{}", w.normal_change);
}

#[test]
fn two_elements_in_different_dimensions_are_both_roots() {
    let rows = orders(
        |r, _, p| (if r == "US" { 0.4 } else { 1.0 }) * (if p == "c" { 0.3 } else { 1.0 }),
        flat,
        always,
    );
    let w = run(&rows, "revenue", Vs::Previous, 3, 10);
    let mut got = roots(&w);
    got.sort();
    assert_eq!(got, vec!["product=c", "region=US"], "{w:#?}");
    assert!(w.causes[0].root && w.causes[1].root);
}

/// Orders where partner p3 in the EU collapsed in June (amounts a twentieth
/// of the others').
fn eu_p3_collapsed() -> Vec<Order> {
    orders(
        |r, p, _| if r == "EU" && p == "p3" { 0.05 } else { 1.0 },
        flat,
        always,
    )
}

#[test]
fn a_combination_of_two_dimensions_is_named_as_such() {
    let rows = eu_p3_collapsed();
    let w = run(&rows, "revenue", Vs::Previous, 3, 10);
    assert_eq!(roots(&w), vec!["partner=p3&region=EU"], "{w:#?}");
    // Its contribution is its own change, by hand.
    let (mut may, mut june) = (0.0, 0.0);
    for o in rows.iter().filter(|o| o.region == "EU" && o.partner == "p3") {
        *(if o.june { &mut june } else { &mut may }) += o.amount;
    }
    assert!(close(w.causes[0].contribution, june - may));
    assert!(close(w.causes[0].value.unwrap_or_default(), june));
}

#[test]
fn against_the_target_the_gap_is_to_the_target() {
    let rows = orders(|r, _, _| if r == "APAC" { 0.3 } else { 1.0 }, flat, always);
    let w = run(&rows, "revenue", Vs::Target, 1, 100);
    assert!(close(w.reference.unwrap_or_default(), 50_000.0), "{w:#?}");
    assert_eq!(roots(&w)[0], "region=APAC");
    let regions: f64 = w
        .causes
        .iter()
        .filter(|c| c.elements.contains_key("region"))
        .map(|c| c.contribution)
        .sum();
    assert!(close(regions, w.gap.unwrap_or_default()));
}

#[test]
fn a_ratio_whose_mix_moved_but_not_its_rates_is_a_mix_cause() {
    // US converts worse (50% vs 90%) and its volume triples in June.
    let rate = |_: bool, r: &str| if r == "US" { 0.5 } else { 0.9 };
    let rows = orders(|_, _, _| 1.0, |r, _, _| if r == "US" { 3 } else { 1 }, rate);
    let w = run(&rows, "ok_share", Vs::Previous, 2, 100);
    assert_eq!(w.effect, Some("mix"), "{w:#?}");
    assert_eq!(roots(&w), vec!["region=US"], "{w:#?}");
    let us = &w.causes[0];
    assert!(us.rate.is_some_and(|r| r.abs() < 1e-9), "{us:?}");
    assert!(us.mix.is_some_and(|m| m < 0.0));
    // Share of ok orders by hand, and the regions' parts add up to the gap.
    let share = |june: bool| {
        let all: Vec<_> = rows.iter().filter(|o| o.june == june).collect();
        all.iter().filter(|o| o.ok).count() as f64 / all.len() as f64
    };
    assert!(close(w.gap.unwrap_or_default(), share(true) - share(false)));
    let sum: f64 = w
        .causes
        .iter()
        .filter(|c| c.elements.len() == 1 && c.elements.contains_key("region"))
        .map(|c| c.contribution)
        .sum();
    assert!(close(sum, w.gap.unwrap_or_default()), "{sum}");
}

#[test]
fn a_ratio_whose_rate_moved_but_not_its_mix_is_a_rate_cause() {
    let rate = |june: bool, r: &str| if june && r == "APAC" { 0.5 } else { 0.9 };
    let rows = orders(|_, _, _| 1.0, flat, rate);
    let w = run(&rows, "ok_share", Vs::Previous, 2, 100);
    assert_eq!(w.effect, Some("rate"), "{w:#?}");
    assert_eq!(roots(&w), vec!["region=APAC"], "{w:#?}");
    let apac = &w.causes[0];
    assert!(apac.mix.is_some_and(|m| m.abs() < 1e-9), "{apac:?}");
    assert!(close(apac.value.unwrap_or_default(), 0.5) && close(apac.reference.unwrap_or_default(), 0.9));
    // A quarter of the orders lost 40 points: 10 points of the whole.
    assert!(close(apac.contribution, -0.1), "{apac:?}");
}

#[test]
fn one_more_failure_of_ten_is_counting_noise_not_an_unusual_segment() {
    // APAC's share of good orders fell from 90% to 50% (200 orders); in
    // one leaf of ten orders (EU ∧ p1 ∧ a) one more order failed. Every
    // other leaf stayed exactly at 90%, so the leaves' spread alone is the
    // least noise (1%) and that leaf's fall of 11% would be ten times it.
    // Counting says otherwise: a binomial's one failure in ten.
    let rate = |june: bool, r: &str| if june && r == "APAC" { 0.5 } else { 0.9 };
    let mut rows = orders(|_, _, _| 1.0, flat, rate);
    let one = rows
        .iter_mut()
        .find(|o| o.june && o.ok && (o.region, o.partner, o.product) == ("EU", "p1", "a"))
        .expect("a good June order of the leaf");
    one.ok = false;
    let w = run_as(&rows, "ok_share", Vs::Previous, 3, 100, Roots::Unusual);
    assert_eq!(w.effect, Some("rate"), "{w:#?}");
    assert_eq!(roots(&w), vec!["region=APAC"], "{w:#?}");
    // The leaf did fall: it is a cause, not a root.
    let leaf = w
        .causes
        .iter()
        .find(|c| {
            c.elements.len() == 3
                && c.elements
                    .get("partner")
                    .is_some_and(|p| p.as_deref() == Some("p1"))
                && c.elements
                    .get("region")
                    .is_some_and(|r| r.as_deref() == Some("EU"))
                && c.elements
                    .get("product")
                    .is_some_and(|p| p.as_deref() == Some("a"))
        })
        .expect("the leaf among the causes");
    assert!(
        !leaf.root && close(leaf.value.unwrap_or_default(), 0.8),
        "{leaf:?}"
    );
}

#[test]
fn an_average_splits_as_the_ratio_of_its_sum_and_count() {
    let rows = orders(|r, _, _| if r == "EU" { 0.5 } else { 1.0 }, flat, always);
    let w = run(&rows, "order_value", Vs::Previous, 1, 100);
    assert_eq!(w.split, "ratio");
    let mean = |june: bool| {
        let xs: Vec<f64> = rows.iter().filter(|o| o.june == june).map(|o| o.amount).collect();
        xs.iter().sum::<f64>() / xs.len() as f64
    };
    assert!(close(w.value.unwrap_or_default(), mean(true)), "{w:#?}");
    assert!(close(w.reference.unwrap_or_default(), mean(false)));
    assert_eq!(roots(&w), vec!["region=EU"], "{w:#?}");
    let sum: f64 = w
        .causes
        .iter()
        .filter(|c| c.elements.contains_key("region"))
        .map(|c| c.contribution)
        .sum();
    assert!(close(sum, w.gap.unwrap_or_default()), "{sum}");
}

/// The causes, comparable: elements, root, contribution and score.
fn causes(w: &Why) -> Vec<(String, bool, f64, f64)> {
    w.causes
        .iter()
        .map(|c| {
            let e = c
                .elements
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_deref().unwrap_or("")))
                .collect::<Vec<_>>()
                .join("&");
            (e, c.root, c.contribution, c.score)
        })
        .collect()
}

#[test]
fn a_cube_too_large_for_one_query_gives_the_same_causes_grouping_by_grouping() {
    let cases: Vec<(Vec<Order>, &str)> = vec![
        (eu_p3_collapsed(), "revenue"),
        (
            orders(
                |r, _, p| (if r == "US" { 0.4 } else { 1.0 }) * (if p == "c" { 0.3 } else { 1.0 }),
                flat,
                always,
            ),
            "revenue",
        ),
        (
            orders(
                |_, _, _| 1.0,
                flat,
                |june, r| if june && r == "APAC" { 0.5 } else { 0.9 },
            ),
            "ok_share",
        ),
    ];
    for (rows, kpi) in &cases {
        for mode in [Roots::Explain, Roots::Unusual] {
            yardstick_engine::why::set_cube_budget(usize::MAX);
            let one = run_as(rows, kpi, Vs::Previous, 3, 1000, mode);
            // Every leaf times every grouping is over a budget of none.
            yardstick_engine::why::set_cube_budget(0);
            let each = run_as(rows, kpi, Vs::Previous, 3, 1000, mode);
            yardstick_engine::why::set_cube_budget(usize::MAX);
            assert!(!roots(&one).is_empty(), "{one:#?}");
            assert_eq!(roots(&each), roots(&one), "{kpi} {mode:?}");
            let (a, b) = (causes(&one), causes(&each));
            if mode == Roots::Explain {
                // The same pruning: every cause, in the same order.
                assert_eq!(a.len(), b.len(), "{kpi}");
            } else {
                // Grouping by grouping, `unusual` keeps fewer of the
                // segments deeper than two dimensions.
                assert!(
                    b.len() <= a.len() && b.len() > 1,
                    "{kpi}: {} of {}",
                    b.len(),
                    a.len()
                );
            }
            // Each cause grouping by grouping is one of the single
            // query's, with the same numbers (in the same order when the
            // same causes are kept).
            for (i, x) in b.iter().enumerate() {
                let y = match mode {
                    Roots::Explain => &a[i],
                    Roots::Unusual => a
                        .iter()
                        .find(|y| y.0 == x.0)
                        .expect("a cause of the single query"),
                };
                assert_eq!((&x.0, x.1), (&y.0, y.1), "{kpi} {mode:?}");
                assert!(close(x.2, y.2) && (x.3 - y.3).abs() <= 1e-9, "{x:?} {y:?}");
            }
        }
    }
}

#[test]
fn progress_is_told_every_stage_in_order_and_every_grouping_computed() {
    let rows = eu_p3_collapsed();
    let leaves = REGIONS.len() * PARTNERS.len() * PRODUCTS.len();
    let singles = REGIONS.len() + PARTNERS.len() + PRODUCTS.len();
    // (cube budget, depth, groupings): 3 + 3 of up to two dimensions, 7
    // of up to three.
    for (budget, depth, groupings) in [(usize::MAX, 2, 6), (0, 2, 6), (0, 3, 7)] {
        yardstick_engine::why::set_cube_budget(budget);
        let told = Mutex::new(Vec::new());
        let tell = |s: Stage| told.lock().expect("not poisoned").push(s);
        let w = run_telling(&rows, "revenue", Vs::Previous, depth, 10, Roots::Explain, &tell);
        yardstick_engine::why::set_cube_budget(usize::MAX);
        let told = told.into_inner().expect("not poisoned");
        assert_eq!(told.first(), Some(&Stage::Reading), "{told:?}");
        let grouped: Vec<(usize, usize, usize)> = told
            .iter()
            .filter_map(|s| match *s {
                Stage::Grouping { leaves, done, total } => Some((leaves, done, total)),
                _ => None,
            })
            .collect();
        // In one query every grouping is done at once; grouping by
        // grouping, one after another.
        let done: Vec<usize> = if budget == 0 {
            (0..=groupings).collect()
        } else {
            vec![0, groupings]
        };
        assert_eq!(grouped.iter().map(|g| g.1).collect::<Vec<_>>(), done, "{told:?}");
        assert!(
            grouped.iter().all(|g| g.0 == leaves && g.2 == groupings),
            "{told:?}"
        );
        assert_eq!(told.len(), grouped.len() + 2, "{told:?}");
        match told.last() {
            // Single values are always kept; the pruned deeper ones may be.
            Some(Stage::Searching { segments }) => assert!(*segments >= singles, "{told:?}"),
            other => panic!("searching last, not {other:?}"),
        }
        assert_eq!(roots(&w), ["partner=p3&region=EU"]);
    }
}
