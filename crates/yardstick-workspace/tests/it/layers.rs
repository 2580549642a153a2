//! The layering ARCHITECTURE.md promises, checked on the sources: only the
//! server knows HTTP, only the store SQL, `core` does no I/O, and the CLI
//! reaches the server for `serve` alone.

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

fn sources(name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut dirs = vec![crate_dir(name).join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("src").flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).expect("source");
                out.push((
                    p.file_name().unwrap_or_default().to_string_lossy().into_owned(),
                    text,
                ));
            }
        }
    }
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
