//! Help, completions and the message for a folder without a project.

use super::*;

#[test]
fn checking_a_folder_without_a_project_says_how_to_make_one() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = yardstick(&["check", "."], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("yardstick init"));
}

#[test]
fn every_command_has_examples_in_its_help() {
    for cmd in [
        "check",
        "eval",
        "explain",
        "sla",
        "slo",
        "payouts",
        "score",
        "partnership",
        "init",
        "demo",
        "serve",
        "push",
        "token",
        "terms",
        "sign",
        "propose",
        "accept",
        "reject",
        "agreements",
        "appendix",
        "catalog",
        "review",
    ] {
        let out = yardstick(&[cmd, "--help"], Path::new("."));
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(help.contains("Examples:"), "{cmd}: {help}");
        assert!(
            !help.contains("LANGUAGE.md"),
            "{cmd}: say what the output is: {help}"
        );
    }
}

/// Every `[DIR]`, `--project` and `--as-of` says what it is.
#[test]
fn every_argument_is_explained_in_help() {
    for cmd in [
        "check",
        "eval",
        "explain",
        "forecast",
        "watch",
        "alerts",
        "sla",
        "payouts",
        "score",
        "slo",
        "partnership",
        "serve",
        "push",
    ] {
        let out = yardstick(&[cmd, "--help"], Path::new("."));
        let help = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = help.lines().map(str::trim_start).collect();
        for (i, t) in lines.iter().enumerate() {
            if t.starts_with("[DIR]")
                || t.starts_with("-C, --project <DIR>")
                || t.starts_with("--as-of <AS_OF>")
            {
                let same_line = t.split_once('>').map_or(&t[5..], |(_, rest)| rest).trim();
                // Long help puts the text on the next line.
                let doc = if same_line.is_empty() {
                    lines.get(i + 1).copied().unwrap_or("")
                } else {
                    same_line
                };
                assert!(
                    !doc.is_empty() && !doc.starts_with('['),
                    "{cmd}: `{t}` is not explained"
                );
            }
        }
        if !matches!(cmd, "serve" | "push") {
            assert!(help.contains("--as-of"), "{cmd}");
        }
    }
    let out = yardstick(&["--help"], Path::new("."));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(!help.contains("glue"), "{help}");
}

#[test]
fn completions_are_written_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef yardstick"),
        ("fish", "complete -c yardstick"),
    ] {
        let out = yardstick(&["completions", shell], Path::new("."));
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(marker) && text.contains("forecast"),
            "{shell}: {text}"
        );
    }
}
