//! Incremental re-evaluation equals full evaluation: the seed example's
//! orders and tickets arrive as files appended to globs, in random chunks
//! of random rows (old periods and new ones), evaluated at instants that
//! move on (before the data ends and after); after each append the
//! incremental evaluation is compared with a full one of the same files.

use std::path::Path;

use proptest::prelude::*;
use yardstick_engine::eval::incremental::{Outcome, Partials};
use yardstick_engine::eval::{EvalOptions, evaluate, evaluate_incremental};

use super::utc;

const CHUNKS: usize = 4;

/// The seed's definitions with orders and tickets read from folders, plus
/// a row-wise view over orders (weekly maxima by zone) and a rolling window.
fn definitions(seed: &Path) -> String {
    let toml = std::fs::read_to_string(seed.join("yardstick.toml")).expect("seed definitions");
    toml.replace("path = \"data/orders.csv\"", "path = \"data/orders/*.csv\"")
        .replace("path = \"data/tickets.csv\"", "path = \"data/tickets/*.csv\"")
        + r#"
[source.big_orders]
sql = "SELECT *, upper(region) AS zone FROM orders WHERE amount > 500"
time = "ordered_at"
owner = "sales-ops"

[kpi.largest_big_order]
objective = "Land large orders"
owner = "sales-team"
source = "big_orders"
measure = "max(amount)"
for_each = "zone"
every = "week"
target = ">= 0"

[kpi.orders_7d]
objective = "Keep orders coming"
owner = "sales-team"
source = "orders"
measure = "count(*)"
window = "7d"
target = ">= 1"
"#
}

fn lines(seed: &Path, name: &str) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(seed.join("data").join(name)).expect("seed data");
    let mut it = text.lines().map(str::to_string);
    let header = it.next().expect("header");
    (header, it.collect())
}

/// Every number in `a` within 1e-9 (relative) of `b`'s, everything else equal.
fn same(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Result<(), String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(f64::NAN), y.as_f64().unwrap_or(f64::NAN));
            if (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0) {
                Ok(())
            } else {
                Err(format!("{at}: {x} ≠ {y}"))
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .try_for_each(|(i, (x, y))| same(x, y, &format!("{at}[{i}]"))),
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => x.iter().try_for_each(|(k, v)| {
            y.get(k)
                .ok_or_else(|| format!("{at}.{k} missing"))
                .and_then(|w| same(v, w, &format!("{at}.{k}")))
        }),
        _ if a == b => Ok(()),
        _ => Err(format!("{at}: {a} ≠ {b}")),
    }
}

/// Writes the chunks, evaluates after each; returns the outcomes.
fn run(seed: &Path, chunk_of: &[usize], as_ofs: &[&str]) -> Result<Vec<Outcome>, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("yardstick.toml"), definitions(seed)).expect("write");
    let data = dir.path().join("data");
    for f in ["deals.csv", "incidents.csv", "maintenance.csv"] {
        std::fs::create_dir_all(&data).expect("data");
        std::fs::copy(seed.join("data").join(f), data.join(f)).expect("copy");
    }
    let loaded = yardstick_engine::load_dir(dir.path());
    let messages: Vec<String> = loaded.diagnostics.iter().map(|d| d.message.clone()).collect();
    assert!(!loaded.diagnostics.has_errors(), "{messages:#?}");
    let project = loaded.project;
    let tables: Vec<(&str, (String, Vec<String>))> = ["orders", "tickets"]
        .into_iter()
        .map(|t| (t, lines(seed, &format!("{t}.csv"))))
        .collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut partials = Partials::default();
    let mut outcomes = Vec::new();
    let mut k = 0;
    for (step, as_of) in as_ofs.iter().enumerate() {
        for (t, (header, rows)) in &tables {
            let folder = data.join(t);
            std::fs::create_dir_all(&folder).expect("folder");
            let mine: Vec<&String> = rows
                .iter()
                .enumerate()
                .filter(|(i, _)| {
                    (if *i < 20 {
                        0
                    } else {
                        chunk_of[(i + k) % chunk_of.len()]
                    }) == step
                })
                .map(|(_, r)| r)
                .collect();
            // A step may append no rows to a source (no file).
            if step == 0 || !mine.is_empty() {
                let mut text = header.clone() + "\n";
                for r in mine {
                    text += r;
                    text += "\n";
                }
                std::fs::write(folder.join(format!("{step:03}.csv")), text).expect("write chunk");
            }
            k += 7;
        }
        k = 0;
        let opts = EvalOptions {
            as_of: utc(as_of),
            from: None,
            to: None,
            kpis: Vec::new(),
            by: None,
            // Projections too: their forecasts are kept between evaluations.
            projections: true,
        };
        let (full, incremental) = rt.block_on(async {
            let mut d = yardstick_core::Diagnostics::default();
            let catalog = yardstick_engine::register_sources(&project, dir.path(), &mut d).await;
            assert!(!d.has_errors(), "{d:#?}");
            let full = evaluate(&project, &catalog, &opts).await.expect("full");
            let inc = evaluate_incremental(&project, &catalog, &opts, &mut partials)
                .await
                .expect("incremental");
            (full, inc)
        });
        let full = serde_json::to_value(&full).expect("json");
        let incremental = serde_json::to_value(&incremental).expect("json");
        same(&incremental, &full, &format!("step {step} at {as_of}"))?;
        outcomes.push(partials.outcome());
    }
    Ok(outcomes)
}

fn seed() -> Option<std::path::PathBuf> {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/spec/examples/seed-kpis");
    if seed.is_dir() {
        Some(seed)
    } else {
        eprintln!("SKIPPED: ../shared/spec/examples/seed-kpis is not beside the repository");
        None
    }
}

const INSTANTS: [&str; 6] = [
    "2026-07-15T00:00:00Z",
    "2026-09-30T21:35:00Z",
    "2026-10-01T00:00:00Z",
    "2026-10-01T00:00:00Z",
    "2026-10-02T12:00:00Z",
    "2026-11-20T08:00:00Z",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn incremental_evaluation_equals_full_evaluation_after_random_appends(
        chunk_of in prop::collection::vec(0..CHUNKS, 1..40),
        picks in prop::collection::vec(0..INSTANTS.len(), CHUNKS),
    ) {
        let Some(seed) = seed() else { return Ok(()) };
        let mut picks = picks;
        picks.sort_unstable();
        let as_ofs: Vec<&str> = picks.iter().map(|&i| INSTANTS[i]).collect();
        let outcomes = run(&seed, &chunk_of, &as_ofs).map_err(TestCaseError::fail)?;
        prop_assert_eq!(outcomes[0].merged + outcomes[0].reused, 0, "the first evaluation reads every row");
    }
}

/// Appends after the data's last row: every group is kept or merged, and
/// a distinct count whose period had rows is recomputed there alone.
#[test]
fn appends_after_the_last_row_are_merged_not_read_again() {
    let Some(seed) = seed() else { return };
    // Rows alternate between the first file and the later ones.
    let chunk_of = [0, 1, 0, 2, 0, 3];
    let as_ofs = ["2026-10-01T00:00:00Z"; CHUNKS];
    let outcomes = run(&seed, &chunk_of, &as_ofs).expect("equal");
    assert!(
        outcomes[0].full > 0 && outcomes[0].merged == 0,
        "{:?}",
        outcomes[0]
    );
    for o in &outcomes[1..] {
        // The rolling window over orders and the availability are read
        // whole; every calendar group over orders and tickets is merged;
        // deals did not change.
        assert_eq!(o.full, 1, "{o:?}");
        assert!(o.merged >= 3 && o.reused >= 1, "{o:?}");
        assert!(o.recomputed_periods >= 1, "{o:?}");
    }
}
