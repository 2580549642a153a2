//! `check`: the seed checks clean; each breakage is one located error with a hint.

use super::*;

#[test]
fn the_seed_example_checks_clean() {
    let (code, json) = check_json(&seed_dir());
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["errors"], 0);
    assert_eq!(json["warnings"], 0, "{json:#}");
    assert_eq!(json["counts"]["kpis"], 11);
    assert_eq!(json["data_checked"], "yes");
}

/// Each breakage of the seed: the edit, the error code, where, and a hint.
const BREAKAGES: [(&str, &str, &str, &str, &str); 7] = [
    (
        "unknown key",
        "target = \">= 25000\"",
        "traget = \">= 25000\"",
        "unknown-key",
        "yardstick.toml:55:1",
    ),
    (
        "bad target",
        "target = \">= 15\"",
        "target = \">== 15\"",
        "bad-target",
        "yardstick.toml:67:10",
    ),
    (
        "unknown source",
        "source = \"deals\"",
        "source = \"deal\"",
        "unknown-reference",
        "yardstick.toml:119:10",
    ),
    (
        "formula cycle",
        "formula = \"revenue / order_count\"",
        "formula = \"revenue / average_order_value\"",
        "formula-cycle",
        "yardstick.toml:77:22",
    ),
    (
        "missing column",
        "measure = \"sum(amount - cost)\"",
        "measure = \"sum(amount - costs)\"",
        "unknown-column",
        "yardstick.toml:43:25",
    ),
    (
        "bad time zone",
        "timezone = \"Europe/Berlin\"",
        "timezone = \"Europe/Berln\"",
        "bad-timezone",
        "yardstick.toml:4:12",
    ),
    (
        "two measure forms",
        "share = \"stage = 'won'\"",
        "share = \"stage = 'won'\"\nmeasure = \"count(*)\"",
        "multiple-measures",
        "yardstick.toml:121:1",
    ),
];

#[test]
fn each_breakage_of_the_seed_is_one_located_error_with_a_hint() {
    for (what, from, to, code, at) in BREAKAGES {
        let dir = broken_seed(from, to);
        let (exit, json) = check_json(dir.path());
        assert_eq!(exit, 1, "{what}: {json:#}");
        let (got_code, got_at, hint) = the_error(&json);
        assert_eq!((got_code.as_str(), got_at.as_str()), (code, at), "{what}");
        assert!(!hint.is_empty(), "{what}: no hint");
    }
}

#[test]
fn hints_say_what_to_write() {
    let hint = |from, to| the_error(&check_json(broken_seed(from, to).path()).1).2;
    assert_eq!(
        hint("target = \">= 25000\"", "traget = \">= 25000\""),
        "did you mean `target`?"
    );
    assert!(hint("target = \">= 15\"", "target = \">== 15\"").contains("\"between 10 and 20\""));
    assert_eq!(
        hint(
            "measure = \"sum(amount - cost)\"",
            "measure = \"sum(amount - costs)\""
        ),
        "did you mean `cost`?"
    );
    assert_eq!(
        hint("timezone = \"Europe/Berlin\"", "timezone = \"Europe/Berln\""),
        "did you mean `Europe/Berlin`?"
    );
}

#[test]
fn text_output_quotes_the_line_with_a_caret() {
    let dir = broken_seed("target = \">= 15\"", "target = \">== 15\"");
    let out = yardstick(&["check", "."], dir.path());
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_time_that_does_not_parse_names_file_and_row() {
    let dir = broken_seed("", "");
    let path = dir.path().join("data/deals.csv");
    let text = std::fs::read_to_string(&path).expect("deals");
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    assert!(lines[2].contains("2026-06-13T08:43:25Z"), "{}", lines[2]);
    lines[2] = lines[2].replacen("2026-06-13T08:43:25Z", "13/06/2026 08:43", 1);
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let (exit, json) = check_json(dir.path());
    assert_eq!(exit, 1);
    let (code, at, _) = the_error(&json);
    assert_eq!((code.as_str(), at.as_str()), ("bad-time", "yardstick.toml:16:8"));
    let message = json["diagnostics"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("data/deals.csv:3 (row 2)"), "{message}");
    assert!(message.contains("13/06/2026 08:43"), "{message}");
}

#[test]
fn a_missing_data_file_is_an_error_at_its_path() {
    let dir = broken_seed("path = \"data/tickets.csv\"", "path = \"data/ticket.csv\"");
    let (exit, json) = check_json(dir.path());
    assert_eq!(exit, 1);
    let (code, at, _) = the_error(&json);
    assert_eq!(
        (code.as_str(), at.as_str()),
        ("missing-data", "yardstick.toml:20:8")
    );
}
