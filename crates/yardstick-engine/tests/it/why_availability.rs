//! `why` on availability: a fleet split by unit (a ratio of uptime over
//! scheduled time) and by incident (each incident's own downtime), with
//! every figure computed here by hand from the intervals, and the whole
//! equal to `eval`'s value.

use yardstick_engine::why::{Vs, Why, WhyOptions};

use crate::{assert_close, eval, evaluate, project, utc, value};

const STATIONS: &str = "station,region\ns1,north\ns2,north\ns3,south\ns4,south\n";

// May 2026 (744 h) and June (720 h). A global 4 h maintenance in June
// (00:00–04:00 on the 10th) for every station; s2 has 6 h of its own in May.
const MAINTENANCE: &str = "id,station,start,end\n\
    1,,2026-06-10T00:00:00Z,2026-06-10T04:00:00Z\n\
    2,s2,2026-05-07T00:00:00Z,2026-05-07T06:00:00Z\n";

// May: s1 power 2 h, s3 network 1 h. June: s3 power 10 h and network
// 4 h overlapping it by 2 h (its own: 2 h), s4 power 6 h, s1 network 1 h,
// s2 power 3 h of which 2 h inside the maintenance (its own: 1 h).
const INCIDENTS: &str = "id,station,cause,start,end\n\
    1,s1,power,2026-05-03T00:00:00Z,2026-05-03T02:00:00Z\n\
    2,s3,network,2026-05-05T10:00:00Z,2026-05-05T11:00:00Z\n\
    3,s3,power,2026-06-02T00:00:00Z,2026-06-02T10:00:00Z\n\
    4,s3,network,2026-06-02T08:00:00Z,2026-06-02T12:00:00Z\n\
    5,s4,power,2026-06-05T00:00:00Z,2026-06-05T06:00:00Z\n\
    6,s1,network,2026-06-20T00:00:00Z,2026-06-20T01:00:00Z\n\
    7,s2,power,2026-06-10T02:00:00Z,2026-06-10T05:00:00Z\n";

const DEFS: &str = "[source.stations]\npath = \"data/stations.csv\"\n\
    [source.incidents]\npath = \"data/incidents.csv\"\nstart = \"start\"\nend = \"end\"\n\
    [source.maintenance]\npath = \"data/maintenance.csv\"\nstart = \"start\"\nend = \"end\"\n\
    [kpi.fleet]\nobjective = \"o\"\nowner = \"me\"\n\
    availability = { down = \"incidents\", exclude = \"maintenance\", per = \"station\", units = \"stations\" }\n\
    every = \"month\"\ntarget = \">= 99.9%\"\n\
    [kpi.per_station]\nobjective = \"o\"\nowner = \"me\"\n\
    availability = { down = \"incidents\", exclude = \"maintenance\", per = \"station\", units = \"stations\" }\n\
    for_each = \"station\"\nevery = \"month\"\ntarget = \">= 99.9%\"\n\
    [kpi.platform]\nobjective = \"o\"\nowner = \"me\"\n\
    availability = { down = \"incidents\", exclude = \"maintenance\" }\n\
    every = \"month\"\ntarget = \">= 99.9%\"\n";

// Scheduled hours: May s1 744, s2 738, s3 744, s4 744; June 716 each.
const MAY_SCHEDULED: f64 = 2970.0;
const JUNE_SCHEDULED: f64 = 4.0 * 716.0;

fn project_dir() -> tempfile::TempDir {
    project_with(DEFS)
}

/// The stations, their incidents and maintenance, under `body`.
fn project_with(body: &str) -> tempfile::TempDir {
    project(
        "UTC",
        body,
        &[
            ("data/stations.csv", STATIONS),
            ("data/incidents.csv", INCIDENTS),
            ("data/maintenance.csv", MAINTENANCE),
        ],
    )
}

fn why(
    dir: &std::path::Path,
    kpi: &str,
    dims: Option<&[&str]>,
    entity: &[(&str, &str)],
    vs: Vs,
) -> Result<Why, String> {
    let loaded = yardstick_engine::load_dir(dir);
    assert!(!loaded.diagnostics.has_errors(), "{:#?}", loaded.diagnostics);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut d = yardstick_core::Diagnostics::default();
    let catalog = rt.block_on(yardstick_engine::register_sources(&loaded.project, dir, &mut d));
    assert!(!d.has_errors(), "{d:#?}");
    let o = WhyOptions {
        kpi: kpi.into(),
        period: "2026-06".into(),
        vs,
        entity: entity.iter().map(|(c, v)| ((*c).into(), (*v).into())).collect(),
        within: Vec::new(),
        dimensions: dims.map(|d| d.iter().map(|x| (*x).to_string()).collect()),
        depth: 2,
        top: 20,
        roots: yardstick_core::why::search::Roots::Explain,
        as_of: utc("2026-07-02T00:00:00Z"),
    };
    rt.block_on(yardstick_engine::why::why(&loaded.project, &catalog, &o))
        .map_err(|e| e.to_string())
}

/// The cause with exactly these elements.
fn cause<'a>(w: &'a Why, elements: &[(&str, &str)]) -> &'a yardstick_engine::why::Cause {
    w.causes
        .iter()
        .find(|c| {
            c.elements.len() == elements.len()
                && elements
                    .iter()
                    .all(|(k, v)| c.elements.get(*k).and_then(|x| x.as_deref()) == Some(*v))
        })
        .unwrap_or_else(|| panic!("no cause {elements:?} in {:#?}", w.causes))
}

/// The causes of one dimension (all listed) add up to the gap exactly.
fn adds_up(w: &Why) {
    let total: f64 = w
        .causes
        .iter()
        .filter(|c| c.elements.len() == 1)
        .map(|c| c.contribution)
        .sum();
    close(total, w.gap.expect("gap"));
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-12, "got {a}, wanted {b}");
}

#[test]
fn fleet_availability_splits_by_unit_as_uptime_over_scheduled_time() {
    let dir = project_dir();
    let rows = eval(dir.path(), "2026-07-02T00:00:00Z");
    // Downtime: May 2 + 1 h; June s3 12 h (the union), s4 6, s1 1, s2 1.
    let (may, june) = (1.0 - 3.0 / MAY_SCHEDULED, 1.0 - 20.0 / JUNE_SCHEDULED);
    assert_close(value(&rows, "fleet", "2026-05", None), may);
    assert_close(value(&rows, "fleet", "2026-06", None), june);

    // By default a fleet splits by its unit column.
    let w = why(dir.path(), "fleet", None, &[], Vs::Previous).expect("why");
    assert_eq!((w.split, w.effect), ("units", Some("rate")));
    assert_eq!(w.dimensions, ["station"]);
    close(w.value.expect("value"), june);
    close(w.reference.expect("reference"), may);
    let s3 = cause(&w, &[("station", "s3")]);
    close(s3.value.expect("s3 now"), 1.0 - 12.0 / 716.0);
    close(s3.reference.expect("s3 before"), 1.0 - 1.0 / 744.0);
    assert!(s3.root, "s3 lost the most: {:#?}", w.causes);
    // A ratio's contributions (mix + rate) add up to the gap over units.
    let units: f64 = ["s1", "s2", "s3", "s4"]
        .iter()
        .map(|s| cause(&w, &[("station", s)]).contribution)
        .sum();
    close(units, june - may);

    // The units source's columns split it too: the south lost 18 h of 1432.
    let w = why(dir.path(), "fleet", Some(&["region"]), &[], Vs::Previous).expect("why by region");
    let south = cause(&w, &[("region", "south")]);
    close(south.value.expect("south now"), 1.0 - 18.0 / 1432.0);
    close(south.reference.expect("south before"), 1.0 - 1.0 / 1488.0);
    assert_eq!(
        w.causes.iter().find(|c| c.root).map(|c| &c.elements),
        Some(&south.elements)
    );
}

#[test]
fn availability_splits_by_incident_with_overlaps_going_to_the_first() {
    let dir = project_dir();
    let (may, june) = (1.0 - 3.0 / MAY_SCHEDULED, 1.0 - 20.0 / JUNE_SCHEDULED);
    let w = why(dir.path(), "fleet", Some(&["cause"]), &[], Vs::Previous).expect("why by cause");
    assert_eq!((w.split, w.effect), ("incidents", None));
    close(w.gap.expect("gap"), june - may);
    // Power: June 10 + 6 + 1 h (s2's 2 h in maintenance do not count),
    // May 2 h; network: June 2 (the overlap went to power) + 1 h, May 1 h.
    let power = cause(&w, &[("cause", "power")]);
    let network = cause(&w, &[("cause", "network")]);
    close(power.value.expect("power now"), 1.0 - 17.0 / JUNE_SCHEDULED);
    close(power.reference.expect("power before"), 1.0 - 2.0 / MAY_SCHEDULED);
    close(power.contribution, -(17.0 / JUNE_SCHEDULED - 2.0 / MAY_SCHEDULED));
    close(
        network.contribution,
        -(3.0 / JUNE_SCHEDULED - 1.0 / MAY_SCHEDULED),
    );
    close(power.contribution + network.contribution, june - may);
    assert!(
        power.root && power.share.is_some_and(|s| s > 0.8),
        "{:#?}",
        w.causes
    );

    // The unit column of the incidents combines with their causes.
    let w = why(
        dir.path(),
        "fleet",
        Some(&["station", "cause"]),
        &[],
        Vs::Previous,
    )
    .expect("why");
    assert_eq!(w.split, "incidents");
    close(
        cause(&w, &[("station", "s3"), ("cause", "power")]).contribution,
        -(10.0 / JUNE_SCHEDULED),
    );

    // Plain availability (no units): every incident of the platform, one
    // schedule (June minus the global maintenance), overlaps counted once.
    let rows = eval(dir.path(), "2026-07-02T00:00:00Z");
    let w = why(dir.path(), "platform", Some(&["cause"]), &[], Vs::Previous).expect("platform");
    close(
        w.value.expect("platform"),
        value(&rows, "platform", "2026-06", None).expect("eval"),
    );
    adds_up(&w);
}

#[test]
fn one_unit_splits_by_its_incidents_and_targets_are_availability() {
    let dir = project_dir();
    let rows = eval(dir.path(), "2026-07-02T00:00:00Z");
    // s3 in June: power 10 h, network 2 h of its own, of 716 h.
    let w = why(
        dir.path(),
        "per_station",
        Some(&["cause"]),
        &[("station", "s3")],
        Vs::Previous,
    )
    .expect("s3");
    close(
        w.value.expect("s3"),
        value(&rows, "per_station", "2026-06", Some("s3")).expect("eval"),
    );
    close(w.value.expect("s3"), 1.0 - 12.0 / 716.0);
    close(cause(&w, &[("cause", "power")]).contribution, -(10.0 / 716.0));

    // Against the target the reference is the target itself.
    let w = why(dir.path(), "fleet", Some(&["cause"]), &[], Vs::Target).expect("vs target");
    close(w.reference.expect("target"), 0.999);
    close(w.gap.expect("gap"), 1.0 - 20.0 / JUNE_SCHEDULED - 0.999);
    adds_up(&w);
}

#[test]
fn a_split_by_unit_and_incident_at_once_is_refused_with_the_columns() {
    let dir = project_dir();
    let e = why(dir.path(), "fleet", Some(&["region", "cause"]), &[], Vs::Previous).expect_err("mixed");
    assert!(
        e.contains("by unit") && e.contains("by incident") && e.contains("cause"),
        "{e}"
    );
    let e = why(dir.path(), "fleet", Some(&["colour"]), &[], Vs::Previous).expect_err("unknown");
    assert!(e.contains("`colour` is not a column"), "{e}");
}

#[test]
fn a_breached_clause_on_a_fleet_names_the_unit_that_lost_the_most() {
    let body = format!(
        "{DEFS}[contract.c]\nfee = {{ amount = 1000, every = \"month\" }}\nstart = \"2026-05-01\"\n\
         [[contract.c.clause]]\nid = \"up\"\nkpi = \"fleet\"\nremedies = [{{ credit = \"10%\" }}]\n"
    );
    let dir = project_with(&body);
    let (p, ev) = evaluate(dir.path(), "2026-07-02T00:00:00Z");
    let mut report = yardstick_engine::consequences::sla(&p, &ev);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut d = yardstick_core::Diagnostics::default();
    let catalog = rt.block_on(yardstick_engine::register_sources(&p, dir.path(), &mut d));
    rt.block_on(yardstick_engine::why::clauses::name_top_causes(
        &p,
        &catalog,
        &mut report,
        utc("2026-07-02T00:00:00Z"),
    ));
    let june = report
        .clauses
        .iter()
        .find(|c| c.period == "2026-06")
        .expect("June's clause row");
    assert!(june.breached, "{june:#?}");
    assert!(
        june.explanation
            .ends_with("Top cause against 2026-05: station=s3 (98.32% against 99.87%)."),
        "{}",
        june.explanation
    );
}
