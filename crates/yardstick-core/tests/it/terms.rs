//! Signed terms' fingerprints, by random edits to the seed example: the
//! hosting contract's fingerprint stays the same through formatting,
//! comments, table order, file splits, names and the spelling of targets
//! and SQL, and changes with every edit that changes one of its results.

use proptest::prelude::*;
use yardstick_core::{MemoryFiles, load};

fn seed() -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/spec/examples/seed-kpis/yardstick.toml");
    std::fs::read_to_string(path).ok()
}

/// The hosting contract's fingerprint with the root file `root` and
/// further files.
fn fingerprint(root: &str, more: &[(String, String)]) -> String {
    let mut files = vec![("yardstick.toml".to_string(), root.to_string())];
    files.extend(more.iter().cloned());
    let loaded = load("yardstick.toml", &MemoryFiles::new(files));
    assert!(
        !loaded.diagnostics.has_errors(),
        "{:#?}\n{root}",
        loaded.diagnostics
    );
    yardstick_core::terms::terms(&loaded.project, "hosting")
        .expect("hosting's terms")
        .fingerprint
}

/// The text split into blocks, each a table header and its lines (a
/// contract's `[[…clause]]` tables stay with it); the first block holds
/// the leading comments and `[project]`.
fn blocks(text: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut seen = false;
    for line in text.lines() {
        if line.starts_with('[') && !line.starts_with("[[") {
            if seen {
                out.push(String::new());
            }
            seen = true;
        }
        let last = out.last_mut().expect("a block");
        last.push_str(line);
        last.push('\n');
    }
    out
}

/// An edit that must leave the fingerprint alone.
#[derive(Debug, Clone)]
enum Neutral {
    /// A comment before the n-th block.
    Comment(usize),
    /// Blocks (after `[project]`) rotated by n.
    Reorder(usize),
    /// Blocks whose index is a multiple of n moved to an included file.
    Split(usize),
    /// Names, objectives and clause texts rewritten.
    Rename(u32),
    /// The same targets and SQL written differently.
    Respell,
}

/// Edits that change one of the hosting contract's results: (what, from, to).
const CHANGES: [(&str, &str, &str); 8] = [
    (
        "the uptime KPI's target",
        "target = \">= 99.5%\"\n\n# ----",
        "target = \">= 99.6%\"\n\n# ----",
    ),
    (
        "the clause's breach rule",
        "breach_when = \"2 consecutive\"",
        "breach_when = \"3 consecutive\"",
    ),
    (
        "the clause's credit",
        "{ credit = \"10%\" }",
        "{ credit = \"12%\" }",
    ),
    ("the fee", "amount = 12000", "amount = 12500"),
    (
        "the maintenance windows' end column",
        "end = \"ends_at\"",
        "end = \"starts_at\"",
    ),
    (
        "the project's time zone",
        "timezone = \"Europe/Berlin\"",
        "timezone = \"Europe/Paris\"",
    ),
    (
        "a credit tier",
        "{ below = \"80%\", credit = \"15%\" }",
        "{ below = \"80%\", credit = \"20%\" }",
    ),
    (
        "the client",
        "client = \"Acme Corp\"",
        "client = \"Acme Corporation\"",
    ),
];

fn neutral() -> impl Strategy<Value = Neutral> {
    prop_oneof![
        (0usize..30).prop_map(Neutral::Comment),
        (1usize..30).prop_map(Neutral::Reorder),
        (2usize..5).prop_map(Neutral::Split),
        any::<u32>().prop_map(Neutral::Rename),
        Just(Neutral::Respell),
    ]
}

/// Applies the edits: the root file's text and the included files.
fn apply(text: &str, edits: &[Neutral]) -> (String, Vec<(String, String)>) {
    let mut text = text.to_string();
    let mut more: Vec<(String, String)> = Vec::new();
    for e in edits {
        match e {
            Neutral::Comment(n) => {
                let mut b = blocks(&text);
                let i = n % b.len();
                b[i] = format!("# an edit that changes nothing ({n})\n{}", b[i]);
                text = b.concat();
            }
            Neutral::Reorder(n) => {
                let mut b = blocks(&text);
                let len = b.len() - 1;
                b[1..].rotate_left(n % len);
                text = b.concat();
            }
            Neutral::Split(n) => {
                if !more.is_empty() {
                    continue;
                }
                let b = blocks(&text);
                let (mut kept, mut moved) = (String::new(), String::new());
                for (i, block) in b.iter().enumerate() {
                    if i > 0 && i % n == 0 {
                        moved.push_str(block);
                    } else {
                        kept.push_str(block);
                    }
                }
                text = kept.replacen("[project]\n", "[project]\ninclude = [\"more/*.toml\"]\n", 1);
                more.push(("more/split.toml".to_string(), moved));
            }
            Neutral::Rename(n) => {
                let lines: Vec<String> = text
                    .lines()
                    .map(|l| {
                        for key in ["name = ", "objective = ", "text = "] {
                            if l.starts_with(key) && !l.starts_with("name = \"Acme Cloud\"") {
                                return format!("{key}\"renamed {n}\"");
                            }
                        }
                        l.to_string()
                    })
                    .collect();
                text = lines.join("\n") + "\n";
            }
            Neutral::Respell => {
                text = text
                    .replace("target = \">= 99.5%\"", "target = \">=0.995\"")
                    .replace("measure = \"sum(amount)\"", "measure = \"sum( amount )\"")
                    .replace(
                        "fee = { amount = 12000, every = \"month\" }",
                        "fee = { every = \"month\", amount = 12000.0 }",
                    );
            }
        }
    }
    (text, more)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn fingerprints_move_with_results_only(
        edits in prop::collection::vec(neutral(), 0..5),
        change in prop::option::of(0usize..CHANGES.len()),
    ) {
        let Some(original) = seed() else {
            eprintln!("SKIPPED: ../shared/spec/examples/seed-kpis is not beside the repository");
            return Ok(());
        };
        let base = fingerprint(&original, &[]);
        let mut text = original.clone();
        if let Some(c) = change {
            let (what, from, to) = CHANGES[c];
            prop_assert!(text.contains(from), "{what}: `{from}` not in the seed");
            text = text.replacen(from, to, 1);
        }
        let (text, more) = apply(&text, &edits);
        let got = fingerprint(&text, &more);
        match change {
            None => prop_assert_eq!(got, base, "{:?}\n{}", edits, text),
            Some(c) => prop_assert_ne!(got, base, "{} did not change it: {:?}", CHANGES[c].0, edits),
        }
    }
}

#[test]
fn terms_leave_out_what_no_result_reads() {
    let Some(original) = seed() else {
        eprintln!("SKIPPED: ../shared/spec/examples/seed-kpis is not beside the repository");
        return;
    };
    let base = fingerprint(&original, &[]);
    // Revenue's target is not a term of the hosting contract.
    let other = original.replacen("target = \">= 25000\"", "target = \">= 30000\"", 1);
    assert_eq!(fingerprint(&other, &[]), base);
    let loaded = load(
        "yardstick.toml",
        &MemoryFiles::new([("yardstick.toml", original.as_str())]),
    );
    let t = yardstick_core::terms::terms(&loaded.project, "hosting").expect("terms");
    assert_eq!(t.parties, ["Provider Ltd", "Acme Corp"]);
    let measures: Vec<&String> = t.terms["measures"]
        .as_object()
        .expect("measures")
        .keys()
        .collect();
    assert!(
        measures.iter().any(|m| *m == "uptime") && !measures.iter().any(|m| *m == "revenue"),
        "{measures:?}"
    );
    let sources: Vec<&String> = t.terms["sources"].as_object().expect("sources").keys().collect();
    assert!(
        sources.iter().any(|s| *s == "maintenance") && !sources.iter().any(|s| *s == "orders"),
        "{sources:?}"
    );
    assert!(t.fingerprint.starts_with("sha256:") && t.fingerprint.len() == 7 + 64);
}
