//! Each measure form against hand-computed values, with the edge cases of
//! the engine issue: month edges in a non-UTC zone, DST days, empty periods,
//! NULL conditions, percentile ties, overlapping and period-crossing
//! intervals, exclusions overlapping downtime.

use crate::{assert_close, eval, project, row, value};

const ORDERS_SRC: &str = "[source.orders]\npath = \"data/orders.csv\"\ntime = \"at\"\n\n";

const KPI_TAIL: &str = "objective = \"o\"\nowner = \"me\"\n";

#[test]
fn month_edges_follow_the_project_zone() {
    // Berlin is UTC+2 in summer: 22:30Z on May 31 is 00:30 on June 1.
    let orders = "id,at,amount,rep\n\
        1,2026-05-31T21:59:59Z,10,ana\n\
        2,2026-05-31T22:30:00Z,20,ana\n\
        3,2026-06-30T21:59:59Z,40,ben\n\
        4,2026-06-30T22:00:00Z,80,ben\n\
        5,2026-08-02T10:00:00Z,160,ana\n";
    let body = format!(
        "{ORDERS_SRC}[kpi.revenue]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nevery = \"month\"\ntarget = \">= 50\"\n\
         [kpi.orders]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"count(*)\"\nevery = \"month\"\ntarget = \">= 1\"\n\
         [kpi.filled]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nevery = \"month\"\ntarget = \">= 1\"\nfill = 0\n"
    );
    let dir = project("Europe/Berlin", &body, &[("data/orders.csv", orders)]);
    let rows = eval(dir.path(), "2026-09-15T00:00:00Z");
    assert_eq!(value(&rows, "revenue", "2026-05", None), Some(10.0));
    assert_eq!(value(&rows, "revenue", "2026-06", None), Some(60.0));
    assert_eq!(value(&rows, "revenue", "2026-07", None), Some(80.0));
    assert_eq!(value(&rows, "revenue", "2026-08", None), Some(160.0));
    // An empty month: sum has no value, count is 0, fill = 0 fills.
    assert_eq!(value(&rows, "revenue", "2026-09", None), None);
    assert_eq!(
        row(&rows, "revenue", "2026-09", None).status.map(|s| s.as_str()),
        Some("no_data")
    );
    assert_eq!(value(&rows, "orders", "2026-09", None), Some(0.0));
    assert_eq!(
        row(&rows, "orders", "2026-09", None).status.map(|s| s.as_str()),
        Some("missed")
    );
    // The current month is incomplete; earlier ones are complete.
    assert!(!row(&rows, "revenue", "2026-09", None).complete);
    assert!(row(&rows, "revenue", "2026-08", None).complete);
    assert_eq!(
        row(&rows, "revenue", "2026-06", None).start.to_rfc3339(),
        "2026-06-01T00:00:00+02:00"
    );
    assert_eq!(row(&rows, "revenue", "2026-06", None).previous, Some(10.0));
    assert_eq!(value(&rows, "filled", "2026-09", None), Some(0.0));
    assert_eq!(value(&rows, "filled", "2026-08", None), Some(160.0));
}

#[test]
fn fill_replaces_no_value_in_empty_periods() {
    let orders = "id,at,amount\n1,2026-01-10T10:00:00Z,5\n1,2026-03-10T10:00:00Z,7\n";
    let body = format!(
        "{ORDERS_SRC}[kpi.revenue]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nevery = \"month\"\ntarget = \">= 1\"\nfill = 0\n"
    );
    let dir = project("UTC", &body, &[("data/orders.csv", orders)]);
    let rows = eval(dir.path(), "2026-04-01T00:00:00Z");
    assert_eq!(value(&rows, "revenue", "2026-02", None), Some(0.0));
    assert_eq!(value(&rows, "revenue", "2026-03", None), Some(7.0));
}

#[test]
fn days_last_25_hours_when_clocks_go_back() {
    // 2026-10-25 in Berlin runs from 22:00Z on the 24th to 23:00Z on the 25th.
    let orders = "id,at,amount\n\
        1,2026-10-24T21:59:59Z,1\n\
        2,2026-10-24T22:00:00Z,2\n\
        3,2026-10-25T22:30:00Z,4\n\
        4,2026-10-25T23:00:00Z,8\n";
    let body = format!(
        "{ORDERS_SRC}[kpi.daily]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nevery = \"day\"\ntarget = \">= 1\"\n"
    );
    let dir = project("Europe/Berlin", &body, &[("data/orders.csv", orders)]);
    let rows = eval(dir.path(), "2026-10-27T00:00:00Z");
    assert_eq!(value(&rows, "daily", "2026-10-24", None), Some(1.0));
    assert_eq!(value(&rows, "daily", "2026-10-25", None), Some(6.0));
    assert_eq!(value(&rows, "daily", "2026-10-26", None), Some(8.0));
    let r = row(&rows, "daily", "2026-10-25", None);
    assert_eq!(
        (r.start.to_rfc3339().as_str(), r.end.to_rfc3339().as_str()),
        ("2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00")
    );
}

#[test]
fn naive_timestamps_are_read_in_the_project_zone() {
    // "2026-07-01 00:30:00" in Sydney is 2026-06-30T14:30Z: July, not June.
    let orders = "id,at,amount\n1,2026-07-01 00:30:00,3\n2,2026-06-30 23:59:00,5\n";
    let body = format!(
        "{ORDERS_SRC}[kpi.revenue]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nevery = \"month\"\ntarget = \">= 1\"\n"
    );
    let dir = project("Australia/Sydney", &body, &[("data/orders.csv", orders)]);
    let rows = eval(dir.path(), "2026-08-01T00:00:00Z");
    assert_eq!(value(&rows, "revenue", "2026-06", None), Some(5.0));
    assert_eq!(value(&rows, "revenue", "2026-07", None), Some(3.0));
}

#[test]
fn share_counts_null_conditions_as_false_and_respects_filters() {
    let tickets = "id,created,answered,team\n\
        1,2026-03-01T10:00:00Z,2026-03-01T12:00:00Z,a\n\
        2,2026-03-02T10:00:00Z,2026-03-03T10:00:00Z,a\n\
        3,2026-03-03T10:00:00Z,2026-03-04T10:00:01Z,a\n\
        4,2026-03-04T10:00:00Z,,a\n\
        5,2026-03-05T10:00:00Z,2026-03-05T11:00:00Z,b\n";
    let body = "[source.tickets]\npath = \"data/tickets.csv\"\ntime = \"created\"\n\
        [kpi.fast]\nobjective = \"o\"\nowner = \"me\"\nsource = \"tickets\"\nshare = \"answered - created <= INTERVAL '24 hours'\"\nevery = \"month\"\ntarget = \">= 90%\"\n\
        [kpi.fast_a]\nobjective = \"o\"\nowner = \"me\"\nsource = \"tickets\"\nshare = \"answered - created <= INTERVAL '24 hours'\"\nfilter = \"team = 'a'\"\nevery = \"month\"\ntarget = \">= 90%\"\n\
        [kpi.fast_by_team]\nobjective = \"o\"\nowner = \"me\"\nsource = \"tickets\"\nshare = \"answered - created <= INTERVAL '24 hours'\"\nfor_each = \"team\"\nevery = \"month\"\ntarget = \">= 90%\"\n";
    let dir = project("UTC", body, &[("data/tickets.csv", tickets)]);
    let rows = eval(dir.path(), "2026-04-01T00:00:00Z");
    // Exactly 24h counts; 24h + 1s does not; no answer (NULL) does not.
    assert_eq!(value(&rows, "fast", "2026-03", None), Some(3.0 / 5.0));
    assert_eq!(value(&rows, "fast_a", "2026-03", None), Some(2.0 / 4.0));
    assert_eq!(value(&rows, "fast_by_team", "2026-03", Some("b")), Some(1.0));
    assert_eq!(
        row(&rows, "fast", "2026-03", None).status.map(|s| s.as_str()),
        Some("missed")
    );
}

#[test]
fn percentiles_interpolate_and_handle_ties() {
    // Hours to resolve, team a: 1, 2, 2, 2, 9 → p90 at position 3.6 → 2 + 0.6 × 7 = 6.2.
    let tickets = "id,created,resolved,team\n\
        1,2026-03-01T00:00:00Z,2026-03-01T01:00:00Z,a\n\
        2,2026-03-02T00:00:00Z,2026-03-02T02:00:00Z,a\n\
        3,2026-03-03T00:00:00Z,2026-03-03T02:00:00Z,a\n\
        4,2026-03-04T00:00:00Z,2026-03-04T02:00:00Z,a\n\
        5,2026-03-05T00:00:00Z,2026-03-05T09:00:00Z,a\n\
        6,2026-03-05T00:00:00Z,2026-03-05T00:30:00.5Z,b\n\
        7,2026-03-06T00:00:00Z,,b\n";
    let body = "[source.tickets]\npath = \"data/tickets.csv\"\ntime = \"created\"\n\
        [kpi.p90]\nobjective = \"o\"\nowner = \"me\"\nsource = \"tickets\"\npercentile = { of = \"date_part('epoch', resolved - created) / 3600\", p = 90 }\nfor_each = \"team\"\nevery = \"month\"\ntarget = \"<= 4\"\nwarning = \"<= 8\"\n";
    let dir = project("UTC", body, &[("data/tickets.csv", tickets)]);
    let rows = eval(dir.path(), "2026-04-01T00:00:00Z");
    assert_close(value(&rows, "p90", "2026-03", Some("a")), 6.2);
    assert_eq!(
        row(&rows, "p90", "2026-03", Some("a")).status.map(|s| s.as_str()),
        Some("warning")
    );
    // One resolved ticket (NULL ignored), with sub-second precision kept.
    assert_close(value(&rows, "p90", "2026-03", Some("b")), 1800.5 / 3600.0);
}

#[test]
fn ratios_are_of_totals_and_derived_forms_combine_series() {
    // Ratio of totals: (1 + 9) / (10 + 10) = 0.5, not the mean of 0.1 and 0.9.
    let orders = "id,at,amount,cost,rep\n\
        1,2026-01-05T00:00:00Z,10,9,a\n\
        2,2026-01-06T00:00:00Z,10,1,b\n\
        3,2026-02-05T00:00:00Z,30,15,a\n\
        4,2026-04-05T00:00:00Z,50,0,a\n\
        5,2027-01-05T00:00:00Z,40,10,a\n";
    let body = format!(
        "{ORDERS_SRC}[metric.margin]\nsource = \"orders\"\nmeasure = \"sum(amount - cost)\"\n\
         [metric.zero]\nsource = \"orders\"\nmeasure = \"sum(amount * 0)\"\n\
         [kpi.revenue]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nevery = \"month\"\ntarget = \">= 1\"\n\
         [kpi.margin_ratio]\n{KPI_TAIL}ratio = {{ numerator = \"margin\", denominator = \"revenue\" }}\nevery = \"month\"\ntarget = \">= 40%\"\n\
         [kpi.by_zero]\n{KPI_TAIL}ratio = {{ numerator = \"margin\", denominator = \"zero\" }}\nevery = \"month\"\ntarget = \">= 40%\"\n\
         [kpi.double]\n{KPI_TAIL}formula = \"revenue * 2 - margin\"\nevery = \"month\"\ntarget = \">= 1\"\n\
         [kpi.growth]\n{KPI_TAIL}growth = {{ of = \"revenue\", vs = \"previous\" }}\nevery = \"month\"\ntarget = \">= 0%\"\n\
         [kpi.yoy]\n{KPI_TAIL}growth = {{ of = \"revenue\", vs = \"year_ago\" }}\nevery = \"month\"\ntarget = \">= 0%\"\n\
         [kpi.qtd]\n{KPI_TAIL}cumulative = {{ of = \"revenue\", reset = \"quarter\" }}\nevery = \"month\"\ntarget = \">= 1\"\n\
         [kpi.margin_by_rep]\n{KPI_TAIL}ratio = {{ numerator = \"margin\", denominator = \"rep_revenue\" }}\nfor_each = \"rep\"\nevery = \"month\"\ntarget = \">= 40%\"\n\
         [kpi.rep_revenue]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nfor_each = \"rep\"\nevery = \"month\"\ntarget = \">= 1\"\n"
    );
    let dir = project("UTC", &body, &[("data/orders.csv", orders)]);
    let rows = eval(dir.path(), "2027-02-01T00:00:00Z");
    assert_eq!(value(&rows, "margin_ratio", "2026-01", None), Some(0.5));
    assert_eq!(
        value(&rows, "by_zero", "2026-01", None),
        None,
        "denominator 0 has no value"
    );
    assert_eq!(value(&rows, "margin_ratio", "2026-03", None), None, "empty month");
    assert_eq!(value(&rows, "double", "2026-02", None), Some(45.0));
    // Growth: Feb vs Jan = 30/20 − 1; March has no revenue; April vs March: no reference.
    assert_eq!(value(&rows, "growth", "2026-02", None), Some(0.5));
    assert_eq!(value(&rows, "growth", "2026-03", None), None);
    assert_eq!(value(&rows, "growth", "2026-04", None), None);
    assert_eq!(value(&rows, "yoy", "2027-01", None), Some(40.0 / 20.0 - 1.0));
    // Quarter to date: Jan 20, Feb 50, Mar 50 (nothing added), Apr resets to 50.
    assert_eq!(value(&rows, "qtd", "2026-02", None), Some(50.0));
    assert_eq!(value(&rows, "qtd", "2026-03", None), Some(50.0));
    assert_eq!(value(&rows, "qtd", "2026-04", None), Some(50.0));
    // Metrics are evaluated per entity of the KPI that uses them.
    assert_eq!(value(&rows, "margin_by_rep", "2026-01", Some("a")), Some(0.1));
    assert_eq!(value(&rows, "margin_by_rep", "2026-01", Some("b")), Some(0.9));
    assert_eq!(value(&rows, "margin_by_rep", "2026-02", Some("b")), None);
}

#[test]
fn availability_unions_downtime_cuts_at_edges_and_removes_exclusions() {
    // June 2026 (UTC): 720 h. Incidents 1–4 h and 3–5 h on June 10 (union 4 h),
    // maintenance 4–6 h (removes 1 h of downtime and 2 h of schedule),
    // an incident from June 30 22:00 to July 1 02:00 (2 h in June, 2 h in July),
    // and one still going since July 31 23:00 (until as_of = Aug 1 00:00 → 1 h).
    let incidents = "id,start,end\n\
        1,2026-06-10T01:00:00Z,2026-06-10T04:00:00Z\n\
        2,2026-06-10T03:00:00Z,2026-06-10T05:00:00Z\n\
        3,2026-06-30T22:00:00Z,2026-07-01T02:00:00Z\n\
        4,2026-07-31T23:00:00Z,\n";
    let maintenance = "id,start,end\n1,2026-06-10T04:00:00Z,2026-06-10T06:00:00Z\n";
    let body = "[source.incidents]\npath = \"data/incidents.csv\"\nstart = \"start\"\nend = \"end\"\n\
        [source.maintenance]\npath = \"data/maintenance.csv\"\nstart = \"start\"\nend = \"end\"\n\
        [kpi.uptime]\nobjective = \"o\"\nowner = \"me\"\navailability = { down = \"incidents\", exclude = \"maintenance\" }\nevery = \"month\"\ntarget = \">= 99.5%\"\n";
    let files = [
        ("data/incidents.csv", incidents),
        ("data/maintenance.csv", maintenance),
    ];
    let dir = project("UTC", body, &files);
    let rows = eval(dir.path(), "2026-08-01T00:00:00Z");
    // June: down = 4 − 1 + 2 = 5 h; scheduled = 720 − 2 = 718 h.
    assert_close(value(&rows, "uptime", "2026-06", None), 1.0 - 5.0 / 718.0);
    // July: 2 h + 1 h of 744 h.
    assert_close(value(&rows, "uptime", "2026-07", None), 1.0 - 3.0 / 744.0);
    // 99.30% misses 99.5%; July's 99.60% meets it.
    assert_eq!(
        row(&rows, "uptime", "2026-06", None).status.map(|s| s.as_str()),
        Some("missed")
    );
    assert_eq!(
        row(&rows, "uptime", "2026-07", None).status.map(|s| s.as_str()),
        Some("met")
    );
}

#[test]
fn fleet_availability_sums_over_units_and_splits_per_unit() {
    // Three stations; April 2026 (UTC) = 720 h each. s1 down 10 h, s2 down 2 h
    // inside its own 4 h maintenance, s3 never down; a global maintenance of
    // 6 h (empty station) applies to all.
    let stations = "station\ns1\ns2\ns3\n";
    let incidents = "id,station,start,end\n\
        1,s1,2026-04-02T00:00:00Z,2026-04-02T10:00:00Z\n\
        2,s2,2026-04-03T01:00:00Z,2026-04-03T03:00:00Z\n";
    let maintenance = "id,station,start,end\n\
        1,s2,2026-04-03T00:00:00Z,2026-04-03T04:00:00Z\n\
        2,,2026-04-20T00:00:00Z,2026-04-20T06:00:00Z\n";
    let body = "[source.stations]\npath = \"data/stations.csv\"\n\
        [source.incidents]\npath = \"data/incidents.csv\"\nstart = \"start\"\nend = \"end\"\n\
        [source.maintenance]\npath = \"data/maintenance.csv\"\nstart = \"start\"\nend = \"end\"\n\
        [kpi.fleet]\nobjective = \"o\"\nowner = \"me\"\navailability = { down = \"incidents\", exclude = \"maintenance\", per = \"station\", units = \"stations\" }\nevery = \"month\"\ntarget = \">= 99%\"\n\
        [kpi.per_station]\nobjective = \"o\"\nowner = \"me\"\navailability = { down = \"incidents\", exclude = \"maintenance\", per = \"station\", units = \"stations\" }\nfor_each = \"station\"\nevery = \"month\"\ntarget = \">= 99%\"\n";
    let files = [
        ("data/stations.csv", stations),
        ("data/incidents.csv", incidents),
        ("data/maintenance.csv", maintenance),
    ];
    let dir = project("UTC", body, &files);
    let rows = eval(dir.path(), "2026-05-01T00:00:00Z");
    // Scheduled: s1 714, s2 710, s3 714 = 2138 h; down: 10 + 0 + 0.
    assert_close(value(&rows, "fleet", "2026-04", None), 1.0 - 10.0 / 2138.0);
    assert_close(
        value(&rows, "per_station", "2026-04", Some("s1")),
        1.0 - 10.0 / 714.0,
    );
    assert_eq!(value(&rows, "per_station", "2026-04", Some("s2")), Some(1.0));
    assert_eq!(value(&rows, "per_station", "2026-04", Some("s3")), Some(1.0));
}

#[test]
fn rolling_windows_cover_the_last_n_days() {
    let orders = "id,at,amount\n\
        1,2026-03-01T12:00:00Z,1\n\
        2,2026-03-02T12:00:00Z,2\n\
        3,2026-03-03T12:00:00Z,4\n\
        4,2026-03-05T12:00:00Z,8\n";
    let body = format!(
        "{ORDERS_SRC}[kpi.last3]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nwindow = \"3d\"\ntarget = \">= 1\"\n"
    );
    let dir = project("UTC", &body, &[("data/orders.csv", orders)]);
    let rows = eval(dir.path(), "2026-03-08T00:00:00Z");
    assert_eq!(value(&rows, "last3", "2026-03-01", None), Some(1.0));
    assert_eq!(value(&rows, "last3", "2026-03-03", None), Some(7.0));
    assert_eq!(value(&rows, "last3", "2026-03-04", None), Some(6.0));
    assert_eq!(value(&rows, "last3", "2026-03-05", None), Some(12.0));
    assert_eq!(value(&rows, "last3", "2026-03-07", None), Some(8.0));

    // `explain` finds a window by its last day, and agrees with `eval`.
    let loaded = yardstick_engine::load_dir(dir.path());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let x = rt
        .block_on(async {
            let mut d = yardstick_core::Diagnostics::default();
            let catalog = yardstick_engine::register_sources(&loaded.project, dir.path(), &mut d).await;
            yardstick_engine::explain::explain(
                &loaded.project,
                &catalog,
                "last3",
                "2026-03-05",
                &[],
                super::utc("2026-03-08T00:00:00Z"),
            )
            .await
        })
        .expect("a window explains");
    assert_eq!((x.period.as_str(), x.value), ("2026-03-05", Some(12.0)));
}

#[test]
fn dated_targets_apply_from_their_start_and_later_rows_are_not_read() {
    let orders =
        "id,at,amount\n1,2026-01-10T00:00:00Z,95\n2,2026-02-10T00:00:00Z,95\n3,2026-03-10T00:00:00Z,1000\n";
    let body = format!(
        "{ORDERS_SRC}[kpi.revenue]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nevery = \"month\"\n\
         targets = [{{ from = \"2026-01\", target = \">= 90\" }}, {{ from = \"2026-02\", target = \">= 100\", warning = \">= 95\" }}]\n"
    );
    let dir = project("UTC", &body, &[("data/orders.csv", orders)]);
    let rows = eval(dir.path(), "2026-03-01T00:00:00Z");
    let jan = row(&rows, "revenue", "2026-01", None);
    assert_eq!(
        (jan.target.as_deref(), jan.status.map(|s| s.as_str())),
        (Some(">= 90"), Some("met"))
    );
    let feb = row(&rows, "revenue", "2026-02", None);
    assert_eq!(
        (feb.target.as_deref(), feb.status.map(|s| s.as_str())),
        (Some(">= 100"), Some("warning"))
    );
    assert_eq!(feb.attainment, Some(0.95));
    // March starts at as_of: its row exists (incomplete) but reads nothing.
    let mar = row(&rows, "revenue", "2026-03", None);
    assert_eq!((mar.value, mar.complete), (None, false));
}

#[test]
fn entities_without_rows_in_a_period_get_the_empty_value() {
    let orders = "id,at,amount,rep\n1,2026-01-10T00:00:00Z,5,ana\n2,2026-01-11T00:00:00Z,7,ben\n3,2026-02-10T00:00:00Z,9,ana\n";
    let body = format!(
        "{ORDERS_SRC}[kpi.rev]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\nfor_each = \"rep\"\nevery = \"month\"\ntarget = \">= 1\"\n\
         [kpi.n]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"count(*)\"\nfor_each = \"rep\"\nevery = \"month\"\ntarget = \">= 1\"\n"
    );
    let dir = project("UTC", &body, &[("data/orders.csv", orders)]);
    let rows = eval(dir.path(), "2026-03-01T00:00:00Z");
    assert_eq!(value(&rows, "rev", "2026-02", Some("ben")), None);
    assert_eq!(
        row(&rows, "rev", "2026-02", Some("ben"))
            .status
            .map(|s| s.as_str()),
        Some("no_data")
    );
    assert_eq!(value(&rows, "n", "2026-02", Some("ben")), Some(0.0));
    assert_eq!(value(&rows, "n", "2026-02", Some("ana")), Some(1.0));
}

#[test]
fn breakdowns_split_values_by_a_declared_dimension() {
    let orders = "id,at,amount,cost,region\n\
        1,2026-01-05T00:00:00Z,10,4,EU\n\
        2,2026-01-06T00:00:00Z,30,6,US\n\
        3,2026-01-07T00:00:00Z,20,2,EU\n";
    let body = format!(
        "{ORDERS_SRC}[metric.margin]\nsource = \"orders\"\nmeasure = \"sum(amount - cost)\"\n\
         [kpi.revenue]\n{KPI_TAIL}source = \"orders\"\nmeasure = \"sum(amount)\"\ndimensions = [\"region\"]\nevery = \"month\"\ntarget = \">= 1\"\n\
         [kpi.margin_ratio]\n{KPI_TAIL}ratio = {{ numerator = \"margin\", denominator = \"revenue\" }}\ndimensions = [\"region\"]\nevery = \"month\"\ntarget = \">= 1%\"\n"
    );
    let dir = project("UTC", &body, &[("data/orders.csv", orders)]);
    let loaded = yardstick_engine::load_dir(dir.path());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let opts = yardstick_engine::EvalOptions {
        as_of: crate::utc("2026-02-01T00:00:00Z"),
        from: None,
        to: None,
        kpis: Vec::new(),
        by: Some("region".into()),
        projections: true,
    };
    let (ev, _) = rt
        .block_on(yardstick_engine::evaluate_dir(&loaded.project, dir.path(), &opts))
        .expect("evaluation");
    let rows = ev.evaluations;
    assert_eq!(value(&rows, "revenue", "2026-01", Some("EU")), Some(30.0));
    assert_eq!(value(&rows, "revenue", "2026-01", Some("US")), Some(30.0));
    // A ratio broken down: margin and revenue of the same region.
    assert_eq!(
        value(&rows, "margin_ratio", "2026-01", Some("EU")),
        Some(24.0 / 30.0)
    );
    assert_eq!(
        value(&rows, "margin_ratio", "2026-01", Some("US")),
        Some(24.0 / 30.0)
    );
    // Parts have values, not statuses.
    assert_eq!(row(&rows, "revenue", "2026-01", Some("EU")).status, None);
}
