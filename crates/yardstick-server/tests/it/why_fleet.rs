//! `why` of a fleet's availability over the API and on the KPI page: the
//! fleet splits by its units without declaring them (`why_by`), the unit
//! that lost the most is the root, by incident the cause that took the
//! time; a party token keeps to declared dimensions.

use super::dashboard::Browser;
use super::*;

const PROJECT: &str = r#"[project]
name = "fleet"
timezone = "UTC"

[source.stations]
path = "data/stations.csv"

[source.incidents]
path = "data/incidents.csv"
start = "start"
end = "end"

[source.maintenance]
path = "data/maintenance.csv"
start = "start"
end = "end"

[kpi.fleet]
name = "Charging network availability"
objective = "Chargers are there when drivers need them"
owner = "operations"
availability = { down = "incidents", exclude = "maintenance", per = "station", units = "stations" }
every = "month"
target = ">= 99.9%"

[partnership.roaming]
name = "Roaming with ChargeCo"
kind = "distribution"
partners = ["Us", "ChargeCo"]
kpis = ["fleet"]
"#;

const STATIONS: &str = "station,region\ns1,north\ns2,north\ns3,south\ns4,south\n";
const MAINTENANCE: &str = "id,station,start,end\n1,,2026-06-10T00:00:00Z,2026-06-10T04:00:00Z\n";
// May: s1 2 h of power. June: s3 10 h of power and 4 h of network (2 h
// overlapping), s4 6 h of power, s1 1 h of network.
const INCIDENTS: &str = "id,station,cause,start,end\n\
    1,s1,power,2026-05-03T00:00:00Z,2026-05-03T02:00:00Z\n\
    2,s3,power,2026-06-02T00:00:00Z,2026-06-02T10:00:00Z\n\
    3,s3,network,2026-06-02T08:00:00Z,2026-06-02T12:00:00Z\n\
    4,s4,power,2026-06-05T00:00:00Z,2026-06-05T06:00:00Z\n\
    5,s1,network,2026-06-20T00:00:00Z,2026-06-20T01:00:00Z\n";

async fn fleet_server() -> (tempfile::TempDir, Server) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("yardstick.toml"), PROJECT).expect("write");
    std::fs::create_dir_all(dir.path().join("data")).expect("mkdir");
    for (f, text) in [
        ("stations.csv", STATIONS),
        ("maintenance.csv", MAINTENANCE),
        ("incidents.csv", INCIDENTS),
    ] {
        std::fs::write(dir.path().join("data").join(f), text).expect("write");
    }
    let url = yardstick_store::default_url(dir.path()).expect("url");
    let s = Server::start(dir.path(), &url).await;
    s.settle().await;
    (dir, s)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fleet_says_which_unit_and_which_incidents_took_the_time() {
    let (_dir, s) = fleet_server().await;
    let (st, k) = s.get("/api/v1/kpis/fleet", &s.admin).await;
    assert_eq!(st, StatusCode::OK, "{k}");
    assert_eq!(
        (&k["dimensions"], &k["why_by"]),
        (&json!([]), &json!(["station"]))
    );

    // By unit: s3 lost 12 h of its 716 scheduled hours.
    let (st, w) = s.get("/api/v1/kpis/fleet/why?period=2026-06", &s.admin).await;
    assert_eq!(st, StatusCode::OK, "{w}");
    assert_eq!(w["split"], json!("units"));
    let first = &w["causes"][0];
    assert_eq!(first["elements"], json!({"station": "s3"}), "{w}");
    assert_eq!(first["root"], json!(true));
    let s3 = first["value"].as_f64().expect("value");
    assert!((s3 - (1.0 - 12.0 / 716.0)).abs() < 1e-12, "{s3}");

    // By incident: power took 16 of June's 19 hours down (s3's network
    // incident keeps only the 2 h after its power cut), May's 2.
    let (st, w) = s
        .get("/api/v1/kpis/fleet/why?period=2026-06&dimensions=cause", &s.admin)
        .await;
    assert_eq!(st, StatusCode::OK, "{w}");
    assert_eq!(w["split"], json!("incidents"));
    let power = w["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .find(|c| c["elements"] == json!({"cause": "power"}))
        .expect("power");
    assert_eq!(power["root"], json!(true), "{w}");
    let want = -(16.0 / (4.0 * 716.0) - 2.0 / (4.0 * 744.0));
    assert!(
        (power["contribution"].as_f64().expect("contribution") - want).abs() < 1e-12,
        "{power}"
    );

    // A partner sees the KPI, but the units are not a declared dimension.
    let party = s.token("viewer", Some("ChargeCo")).await;
    let (_, k) = s.get("/api/v1/kpis/fleet", &party).await;
    assert_eq!(k["why_by"], json!([]), "{k}");
    let (st, e) = s.get("/api/v1/kpis/fleet/why?period=2026-06", &party).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{e}");
    let (st, _) = s
        .get("/api/v1/kpis/fleet/why?period=2026-06&dimensions=station", &party)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fleet_page_shows_why_june_missed() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let (_dir, s) = fleet_server().await;
    b.login(&s.base, &s.admin).await;
    let c = &b.client;
    for (name, w, h) in [("desktop", 1400, 1400), ("phone", 390, 2200)] {
        c.set_window_size(w, h).await.expect("size");
        c.goto(&format!("{}/#/kpi/fleet", s.base)).await.expect("open");
        let first = b
            .until_text(
                "the causes",
                "document.querySelector('#why-period')?.value === '2026-06' && document.querySelector('#why .causes li .cause-head')?.innerText",
            )
            .await;
        assert!(
            first.contains("station=s3") && first.contains("root cause"),
            "{name}: {first}"
        );
        let note = b
            .until(
                "the split's note",
                "document.querySelector('#why-split')?.innerText",
            )
            .await;
        assert!(
            note.as_str().is_some_and(|n| n.starts_with("Split by unit")),
            "{note}"
        );
        c.execute("document.querySelector('#why-heading').scrollIntoView()", vec![])
            .await
            .expect("scroll");
        b.shot(&format!("kpi-why-fleet-{name}")).await;
    }
    b.close().await;
}
