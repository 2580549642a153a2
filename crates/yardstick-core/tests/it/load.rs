//! The loader and static checks, on in-memory projects.

use yardstick_core::{Diagnostic, Loaded, MemoryFiles, Severity, load};

const HEAD: &str = "[project]\nname = \"T\"\ntimezone = \"Europe/Berlin\"\ncurrency = \"EUR\"\n\n[source.orders]\npath = \"data/orders.csv\"\ntime = \"ordered_at\"\n\n";

fn project(files: &[(&str, &str)]) -> Loaded {
    load("yardstick.toml", &MemoryFiles::new(files.iter().copied()))
}

pub(crate) fn root(body: &str) -> Loaded {
    project(&[("yardstick.toml", &format!("{HEAD}{body}"))])
}

/// `(code, "file:line:col")` of every error.
pub(crate) fn errors(l: &Loaded) -> Vec<(&'static str, String)> {
    l.diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.code, at(l, d)))
        .collect()
}

fn at(l: &Loaded, d: &Diagnostic) -> String {
    d.loc
        .as_ref()
        .map(|loc| l.files.position(loc).to_string())
        .unwrap_or_default()
}

fn only(l: &Loaded, code: &str) -> Diagnostic {
    let found: Vec<&Diagnostic> = l.diagnostics.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "expected one `{code}` in {:#?}", l.diagnostics);
    found[0].clone()
}

const KPI: &str = "[kpi.revenue]\nobjective = \"o\"\nowner = \"me\"\nsource = \"orders\"\nmeasure = \"sum(amount)\"\nevery = \"month\"\ntarget = \">= 1\"\n";

#[test]
fn a_clean_project_has_no_diagnostics() {
    let l = root(KPI);
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    assert_eq!(l.project.kpis.len(), 1);
    assert_eq!(l.project.settings.timezone, chrono_tz::Europe::Berlin);
}

#[test]
fn duplicate_ids_across_files_name_both_places() {
    let l = project(&[
        (
            "yardstick.toml",
            &format!("{HEAD}[project.x]\n").replace("[project.x]\n", ""),
        ),
        ("kpis/a.toml", KPI),
        ("kpis/b.toml", &format!("# another\n{KPI}")),
    ]);
    // No include yet: only the root is read.
    assert!(l.project.kpis.is_empty());
    let l = project(&[
        (
            "yardstick.toml",
            &HEAD.replace(
                "currency = \"EUR\"\n",
                "currency = \"EUR\"\ninclude = [\"kpis/*.toml\"]\n",
            ),
        ),
        ("kpis/a.toml", KPI),
        ("kpis/b.toml", &format!("# another\n{KPI}")),
    ]);
    let d = only(&l, "duplicate-id");
    assert_eq!(at(&l, &d), "kpis/b.toml:2:6");
    assert!(d.message.contains("kpis/a.toml:1:6"), "{}", d.message);
    assert_eq!(l.files.position(&d.related[0].loc).to_string(), "kpis/a.toml:1:6");
}

#[test]
fn unknown_tables_and_keys_suggest_the_right_name() {
    let l = root("[kpis.x]\nname = \"x\"\n");
    let d = only(&l, "unknown-table");
    assert_eq!(d.hint.as_deref(), Some("did you mean `kpi`?"));
    let l = root(&KPI.replace("owner", "ownr"));
    let d = only(&l, "unknown-key");
    assert_eq!(at(&l, &d), "yardstick.toml:12:1");
    assert_eq!(d.hint.as_deref(), Some("did you mean `owner`?"));
}

/// A typo in a key is the one thing to fix: what follows from the key's
/// absence (no measure, no source, not SMART, a warning or a scorecard
/// weight without a target) is not reported on top of it.
#[test]
fn a_typo_in_a_key_is_reported_alone() {
    let with_card = format!("{KPI}warning = \">= 0.5\"\n[scorecard.s]\nweights = {{ revenue = 1 }}\n");
    for (key, typo) in [
        ("source", "sorce"),
        ("measure", "mesure"),
        ("every", "evry"),
        ("target", "taget"),
        ("owner", "ownr"),
        ("objective", "objectve"),
    ] {
        let l = root(&with_card.replacen(&format!("\n{key} ="), &format!("\n{typo} ="), 1));
        let codes: Vec<&str> = l.diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["unknown-key"], "{typo}: {:#?}", l.diagnostics);
        assert_eq!(
            l.diagnostics.iter().next().and_then(|d| d.hint.clone()),
            Some(format!("did you mean `{key}`?"))
        );
    }
    // An unrelated problem in the same table is still reported.
    let l = root(&KPI.replace("owner", "ownr").replace("sum(amount)", "sum(amount"));
    assert_eq!(l.diagnostics.len(), 2, "{:#?}", l.diagnostics);
}

#[test]
fn formula_cycles_name_the_whole_cycle() {
    let l = root(
        "[metric.a]\nformula = \"b + 1\"\n[metric.b]\nformula = \"c * 2\"\n[metric.c]\nformula = \"a / 3\"\n",
    );
    let d = only(&l, "formula-cycle");
    assert_eq!(d.message, "formula cycle: a → b → c → a");
    assert_eq!(at(&l, &d), "yardstick.toml:15:12");
}

#[test]
fn ratio_parts_must_agree_on_for_each() {
    let l = root(
        "[metric.won]\nsource = \"orders\"\nmeasure = \"count(*)\"\nfor_each = \"rep\"\n\
         [kpi.r]\nratio = { numerator = \"won\", denominator = \"all\" }\n\
         [metric.all]\nsource = \"orders\"\nmeasure = \"count(*)\"\n",
    );
    let d = only(&l, "entity-mismatch");
    assert!(d.message.contains("per rep"), "{}", d.message);
    assert!(
        errors(&l).iter().all(|(c, _)| *c == "entity-mismatch"),
        "{:?}",
        errors(&l)
    );
}

#[test]
fn every_and_window_are_exclusive_and_metrics_have_no_target() {
    let l = root(&KPI.replace("every = \"month\"", "every = \"month\"\nwindow = \"28d\""));
    only(&l, "every-and-window");
    let l = root("[metric.m]\nsource = \"orders\"\nmeasure = \"count(*)\"\ntarget = \">= 1\"\n");
    let d = only(&l, "metric-has-target");
    assert!(d.hint.as_deref().unwrap_or("").contains("[kpi.m]"));
}

#[test]
fn dated_targets_must_be_ordered_without_duplicates() {
    let body = KPI.replace(
        "target = \">= 1\"",
        "targets = [{ from = \"2026-07\", target = \">= 2\" }, { from = \"2026-01\", target = \">= 1\" }, { from = \"2026-01\", target = \">= 3\" }]",
    );
    let l = root(&body);
    only(&l, "unordered-targets");
    only(&l, "duplicate-target-date");
}

#[test]
fn fragments_are_single_expressions() {
    let l = root(&KPI.replace("sum(amount)", "sum(amount) FROM orders"));
    let d = only(&l, "bad-sql");
    assert_eq!(at(&l, &d), "yardstick.toml:14:24");
    let l = root(&KPI.replace("sum(amount)", "sum(amount) + (SELECT 1)"));
    assert!(only(&l, "bad-sql").message.contains("sub-queries"));
}

#[test]
fn views_read_known_sources_without_cycles() {
    let l = root(
        "[source.v1]\nsql = \"SELECT * FROM v2\"\ntime = \"t\"\n[source.v2]\nsql = \"SELECT * FROM v1 JOIN nope USING (x)\"\ntime = \"t\"\n",
    );
    only(&l, "view-cycle");
    let d = only(&l, "unknown-reference");
    assert!(d.message.contains("nope"));
}

#[test]
fn contracts_need_a_fee_for_credits_and_a_known_kpi() {
    let l = root(&format!(
        "{KPI}[contract.c]\nstart = 2026-01-01\n[[contract.c.clause]]\nid = \"x\"\nkpi = \"revenu\"\n\
         remedies = [{{ credit = \"10%\" }}]\nbreach_when = \"3 of last 2\"\n"
    ));
    only(&l, "missing-fee");
    assert_eq!(
        only(&l, "unknown-reference").hint.as_deref(),
        Some("did you mean `revenue`?")
    );
    only(&l, "bad-breach-rule");
}

#[test]
fn smart_lint_warns_without_failing() {
    let l = root("[kpi.bare]\nsource = \"orders\"\nmeasure = \"count(*)\"\n");
    assert!(errors(&l).is_empty(), "{:?}", errors(&l));
    let d = only(&l, "not-smart");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(
        d.message,
        "KPI `bare` is not SMART: no objective, no target, no period, no owner"
    );
}

#[test]
fn a_bad_target_is_reported_once() {
    let l = root(&KPI.replace("\">= 1\"", "\"at least 1\""));
    assert_eq!(
        errors(&l),
        vec![("bad-target", "yardstick.toml:16:10".to_string())]
    );
    assert!(l.diagnostics.iter().all(|d| d.code != "not-smart"));
}

#[test]
fn toml_syntax_errors_are_located() {
    let l = project(&[("yardstick.toml", "[project]\nname = \"x\ntimezone = 3\n")]);
    let d = only(&l, "toml-syntax");
    assert!(at(&l, &d).starts_with("yardstick.toml:2:"), "{}", at(&l, &d));
}

#[test]
fn a_target_no_value_can_meet_is_a_located_warning_with_the_fix() {
    let l = root(
        "[kpi.answered]\nobjective = \"o\"\nowner = \"me\"\nsource = \"orders\"\nshare = \"amount > 0\"\nevery = \"month\"\ntarget = \">= 90\"\nwarning = \">= 0.8\"\n",
    );
    assert!(errors(&l).is_empty(), "{:#?}", l.diagnostics);
    let d = only(&l, "impossible-target");
    assert_eq!(d.severity, Severity::Warning);
    assert_eq!(at(&l, &d), "yardstick.toml:16:10");
    assert!(d.hint.as_deref().is_some_and(|h| h.contains("`>= 90%`")), "{d:?}");

    // A count below zero can never be; a share at least 0% always is.
    let l = root(
        "[kpi.n]\nobjective = \"o\"\nowner = \"me\"\nsource = \"orders\"\nmeasure = \"count(*)\"\nevery = \"month\"\ntarget = \"< 0\"\n\n[kpi.s]\nobjective = \"o\"\nowner = \"me\"\nsource = \"orders\"\nshare = \"amount > 0\"\nevery = \"month\"\ntarget = \">= 0%\"\n",
    );
    only(&l, "impossible-target");
    only(&l, "trivial-target");
    // Sums can be anything: no warning.
    let l = root(&KPI.replace(">= 1", "<= -5"));
    assert!(
        !l.diagnostics.iter().any(|d| d.code.ends_with("-target")),
        "{:#?}",
        l.diagnostics
    );
}

#[test]
fn a_scheduled_review_is_checked_where_it_is_written() {
    let ok = root(&format!(
        "{KPI}[review.board]\nevery = \"quarter\"\ndelay = \"2d\"\nformats = [\"pdf\", \"xlsx\"]\nfolder = \"reviews\"\n"
    ));
    assert!(ok.diagnostics.is_empty(), "{:#?}", ok.diagnostics);
    let r = &ok.project.reviews["board"];
    assert_eq!(r.every.value.name(), "quarter");
    assert_eq!(r.formats.len(), 2);
    // Without `formats`: HTML and PDF.
    let default = root(&format!("{KPI}[review.b]\nevery = \"month\"\n"));
    assert_eq!(default.project.reviews["b"].formats.len(), 2);
    let bad = root(&format!(
        "{KPI}[review.board]\nevery = \"day\"\n\n[review.pack]\nevery = \"month\"\nscope = \"scorecard:nope\"\n\
         formats = [\"docx\"]\nfolder = \"../out\"\nparties = [\"Nobody\"]\nwebhook = \"ftp://x\"\n\n[review.none]\nformats = []\n"
    ));
    assert_eq!(
        errors(&bad),
        [
            // every = "day"
            ("bad-value", "yardstick.toml:18:9".to_string()),
            ("unknown-reference", "yardstick.toml:22:9".to_string()),
            // "docx", "../out"
            ("bad-value", "yardstick.toml:23:12".to_string()),
            ("bad-value", "yardstick.toml:24:10".to_string()),
            ("unknown-reference", "yardstick.toml:25:12".to_string()),
            // "ftp://x"
            ("bad-value", "yardstick.toml:26:11".to_string()),
            ("missing-key", "yardstick.toml:28:9".to_string()),
        ]
    );
}

#[test]
fn a_database_source_and_its_connection_are_checked_where_written() {
    // HEAD is 9 lines: the body starts at line 10.
    let l = root(
        "[connection.main]\nurl = \"postgres://u:pw@h/db\"\n\n\
         [connection.wh]\nkind = \"postgress\"\nurl_env = \"WH_URL\"\n\n\
         [source.a]\nconnection = \"mian\"\ntable = \"public.a\"\ntime = \"t\"\n\n\
         [source.b]\ntable = \"b\"\ntime = \"t\"\n\n\
         [source.c]\nconnection = \"main\"\nsql = \"SELECT 1\"\ntime = \"t\"\n\n\
         [source.d]\nconnection = \"main\"\ntable = \"a b\"\npath = \"x.csv\"\ntime = \"t\"\n",
    );
    let mut found = errors(&l);
    found.sort();
    let mut expected = vec![
        // The URL with its password is refused where it is written…
        ("secret-in-definitions", "yardstick.toml:11:1".to_string()),
        // …and the connection still needs url_env.
        ("missing-key", "yardstick.toml:10:13".into()),
        ("bad-value", "yardstick.toml:14:8".into()),
        ("unknown-reference", "yardstick.toml:18:14".into()),
        ("missing-key", "yardstick.toml:23:9".into()),
        ("unsupported", "yardstick.toml:28:7".into()),
        ("conflicting-keys", "yardstick.toml:34:1".into()),
        ("bad-value", "yardstick.toml:33:9".into()),
    ];
    expected.sort();
    assert_eq!(found, expected, "{:#?}", l.diagnostics);
    let hint = only(&l, "secret-in-definitions").hint.unwrap_or_default();
    assert!(hint.contains("url_env = \"MAIN_URL\""), "{hint}");

    // A clean one.
    let l = root(&format!(
        "[connection.main]\nurl_env = \"PG_URL\"\n\n[source.db]\nconnection = \"main\"\ntable = \"public.orders\"\ntime = \"ordered_at\"\n\n{}",
        KPI.replace("source = \"orders\"", "source = \"db\"")
    ));
    assert!(l.diagnostics.is_empty(), "{:#?}", l.diagnostics);
    assert!(matches!(
        &l.project.sources["db"].origin,
        Some(yardstick_core::model::Origin::Database { connection, .. }) if connection.value == "main"
    ));
}
