//! The layering and the code rules ARCHITECTURE.md promises, checked on the
//! sources: only the server knows HTTP, only the store SQL, only the engine
//! DataFusion (and the cluster, which hands the engine's plans to Ballista),
//! `core` does no I/O, the CLI reaches the server for `serve`
//! alone; no import circles between a crate's modules; no file over 1,000
//! lines, each saying what it is for; exit codes chosen in one place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn crate_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(name)
}

fn manifest(name: &str) -> String {
    std::fs::read_to_string(crate_dir(name).join("Cargo.toml")).expect("Cargo.toml")
}

/// The `[dependencies]` section of a crate's manifest.
fn dependencies(name: &str) -> String {
    let m = manifest(name);
    let start = m.find("[dependencies]").expect("dependencies");
    let rest = &m[start + "[dependencies]".len()..];
    rest[..rest.find("\n[").unwrap_or(rest.len())].to_string()
}

const CRATES: [&str; 9] = [
    "yardstick-core",
    "yardstick-engine",
    "yardstick-cluster",
    "yardstick-forecast",
    "yardstick-store",
    "yardstick-workspace",
    "yardstick-server",
    "yardstick-scaffold",
    "yardstick-cli",
];

fn sources(name: &str) -> Vec<(String, String)> {
    files_under(name, "src")
        .into_iter()
        .map(|(p, t)| {
            (
                p.file_name().unwrap_or_default().to_string_lossy().into_owned(),
                t,
            )
        })
        .collect()
}

/// Every `.rs` file under `crate/dir`, with its path relative to `dir`.
fn files_under(name: &str, dir: &str) -> Vec<(PathBuf, String)> {
    let root = crate_dir(name).join(dir);
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).expect("source");
                out.push((p.strip_prefix(&root).unwrap_or(&p).to_path_buf(), text));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn only_the_server_knows_http_and_only_the_store_sql() {
    for name in [
        "yardstick-core",
        "yardstick-engine",
        "yardstick-forecast",
        "yardstick-workspace",
        "yardstick-store",
    ] {
        let deps = dependencies(name);
        for http in ["axum", "tower-http", "utoipa"] {
            assert!(!deps.contains(http), "{name} depends on {http}");
        }
    }
    for name in ["yardstick-core", "yardstick-engine", "yardstick-forecast"] {
        assert!(!dependencies(name).contains("sqlx"), "{name} depends on sqlx");
    }
}

#[test]
fn core_does_no_io() {
    for (file, text) in sources("yardstick-core") {
        for io in ["std::fs", "std::net", "tokio::", "File::open"] {
            assert!(!text.contains(io), "yardstick-core/src/{file} uses {io}");
        }
    }
}

#[test]
fn the_cli_reaches_the_server_only_to_serve() {
    for (file, text) in sources("yardstick-cli") {
        if text.contains("yardstick_server::") {
            assert_eq!(file, "server.rs", "{file} uses yardstick-server");
        }
    }
    let server_rs = sources("yardstick-cli")
        .into_iter()
        .find(|(f, _)| f == "server.rs")
        .map(|(_, t)| t)
        .unwrap_or_default();
    for line in server_rs.lines().filter(|l| l.contains("yardstick_server::")) {
        assert!(
            ["AppState", "StartError", "ServeOptions", "serve("]
                .iter()
                .any(|x| line.contains(x)),
            "server.rs uses yardstick-server beyond serving: {line}"
        );
    }
}

#[test]
fn only_the_engine_talks_to_datafusion() {
    // The cluster hands the engine's plans to Ballista: it is DataFusion's
    // other side, and holds no evaluation of its own.
    for name in CRATES
        .iter()
        .filter(|n| !["yardstick-engine", "yardstick-cluster"].contains(n))
    {
        assert!(
            !dependencies(name).contains("datafusion"),
            "{name} depends on datafusion: go through yardstick-engine"
        );
        for (file, text) in sources(name) {
            assert!(
                !text.contains("datafusion::"),
                "{name}/src/{file} uses DataFusion"
            );
        }
    }
}

#[test]
fn no_file_is_over_1000_lines_and_each_says_what_it_is_for() {
    for name in CRATES {
        for dir in ["src", "tests", "benches", "examples"] {
            for (path, text) in files_under(name, dir) {
                let lines = text.lines().count();
                assert!(lines <= 1000, "{name}/{dir}/{}: {lines} lines", path.display());
                if dir == "src" {
                    assert!(
                        text.starts_with("//!"),
                        "{name}/src/{} has no module doc (`//!`)",
                        path.display()
                    );
                }
            }
        }
    }
}

/// The crate's top-level modules and, for each, the others it names
/// (`crate::x`, `crate::{x, y}`), outside comments and test modules.
fn module_graph(name: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, text) in files_under(name, "src") {
        let top = path
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .unwrap_or_default();
        if top == "lib" || top == "main" {
            continue;
        }
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or("")
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let mut names = BTreeSet::new();
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                for part in group.split(',') {
                    let id: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    names.insert(id);
                }
            } else {
                names.insert(
                    rest.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect(),
                );
            }
        }
        names.remove(&top);
        graph.entry(top).or_default().extend(names);
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for targets in graph.values_mut() {
        targets.retain(|t| modules.contains(t));
    }
    graph
}

/// A circle of modules, if the graph has one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        m: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut c = path[i..].to_vec();
            c.push(m.to_string());
            return Some(c);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for n in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(g, n, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(graph, m, &mut Vec::new(), &mut done))
}

#[test]
fn modules_of_a_crate_use_each_other_without_circles() {
    for name in CRATES {
        if let Some(c) = circle(&module_graph(name)) {
            panic!("{name}: modules in a circle: {}", c.join(" → "));
        }
    }
    // The check finds one when there is one.
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    g.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(circle(&g).is_some());
}

#[test]
fn exit_codes_and_apologies_are_written_once() {
    for (file, text) in sources("yardstick-cli") {
        if file != "fault.rs" {
            assert!(
                !text.contains("ExitCode::from("),
                "{file} chooses an exit code: use cli::fault"
            );
            assert!(
                !text.contains("Sorry"),
                "{file} apologises: use cli::fault::internal"
            );
        }
    }
    let apologies = sources("yardstick-server")
        .iter()
        .filter(|(_, t)| t.contains("Sorry"))
        .count();
    assert_eq!(apologies, 1, "the server apologises in server::error only");
}
