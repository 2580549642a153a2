//! `yardstick serve`, `push` and `token`: glue over `yardstick-server` and
//! `yardstick-store`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;
use yardstick_engine::ingest::{self, BodyFormat};
use yardstick_store::{Role, Store};
pub(crate) use yardstick_workspace::Rows;

use crate::Format;
use crate::check::{load, print_diagnostics, runtime};
use crate::render::Color;

/// The store URL: `--db`/`YARDSTICK_DB`, else `<dir>/.yardstick/state.db`.
pub(crate) fn store_url(dir: &Path, db: Option<&str>) -> Result<String, String> {
    yardstick_workspace::store_url(dir, db)
}

pub(crate) struct ServeArgs<'a> {
    pub dir: &'a Path,
    pub addr: SocketAddr,
    pub db: Option<&'a str>,
    /// Take any free port when `addr`'s is taken (the demo).
    pub any_port: bool,
}

pub(crate) fn serve(a: ServeArgs<'_>, color: Color) -> Result<ExitCode, String> {
    init_logs();
    let loaded = load(a.dir)?;
    if loaded.diagnostics.has_errors() {
        print_diagnostics(&loaded, loaded.diagnostics.iter().cloned().collect(), color)?;
        eprintln!("error: the definitions have errors; fix them before serving");
        return Ok(crate::fault::project());
    }
    let url = store_url(a.dir, a.db)?;
    let rt = runtime()?;
    rt.block_on(async {
        let store = Store::open(&url).await.map_err(|e| e.to_string())?;
        let first_token = if store.tokens().await.map_err(|e| e.to_string())?.is_empty() {
            let (t, secret) = store
                .create_token(Role::Admin, None, "serve")
                .await
                .map_err(|e| e.to_string())?;
            Some((t.id, secret))
        } else {
            None
        };
        let state = match yardstick_server::AppState::start(a.dir, store).await {
            Ok(s) => s,
            Err(yardstick_server::StartError::Definitions(lines)) => {
                for l in lines {
                    eprintln!("error: {l}");
                }
                return Ok(crate::fault::project());
            }
            Err(e) => return Err(e.to_string()),
        };
        let listener = match tokio::net::TcpListener::bind(a.addr).await {
            Ok(l) => l,
            Err(e) if a.any_port && e.kind() == std::io::ErrorKind::AddrInUse => {
                let any = SocketAddr::new(a.addr.ip(), 0);
                tokio::net::TcpListener::bind(any)
                    .await
                    .map_err(|e| format!("cannot listen on {any}: {e}"))?
            }
            Err(e) => return Err(format!("cannot listen on {}: {e}", a.addr)),
        };
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        eprintln!("Yardstick serves {} at http://{local}/api/v1/", a.dir.display());
        eprintln!("  state store: {}", yardstick_store::redact(&url));
        if let Some((id, secret)) = first_token {
            eprintln!("  no tokens yet: created admin token {id} (shown once, keep it):");
            eprintln!("    {secret}");
            eprintln!("  try: curl -H 'Authorization: Bearer {secret}' http://{local}/api/v1/kpis");
        }
        let code = state.new_login_code().map_err(|e| e.to_string())?;
        eprintln!("  dashboard: http://{local}/login?token={code}  (the link works once)");
        // Scripts (and tests) read the address from standard output; a
        // closed stdout must not stop the server.
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on http://{local}");
            let _ = writeln!(out, "dashboard http://{local}/login?token={code}");
            let _ = out.flush();
        }
        let opts = yardstick_server::ServeOptions {
            addr: local,
            ..Default::default()
        };
        yardstick_server::serve(state, listener, &opts)
            .await
            .map_err(|e| format!("server stopped: {e}"))?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Parses and stores `rows` in one transaction (the workspace's push
/// pipeline): the stored batch, or every bad row (nothing stored).
pub(crate) fn store_rows(
    project: &yardstick_core::Project,
    url: &str,
    rows: &Rows<'_>,
) -> Result<Result<yardstick_store::Stored, Vec<ingest::RowError>>, String> {
    runtime()?.block_on(yardstick_workspace::push(project, url, rows))
}

fn init_logs() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr)
        .try_init();
}

pub(crate) struct PushArgs<'a> {
    pub dir: &'a Path,
    pub source: &'a str,
    pub file: &'a Path,
    pub db: Option<&'a str>,
    pub idempotency_key: Option<&'a str>,
    pub format: Format,
}

pub(crate) fn push(a: PushArgs<'_>, color: Color) -> Result<ExitCode, String> {
    let loaded = load(a.dir)?;
    if loaded.diagnostics.has_errors() {
        print_diagnostics(&loaded, loaded.diagnostics.iter().cloned().collect(), color)?;
        return Ok(crate::fault::project());
    }
    let name = a.file.to_string_lossy();
    let fmt = BodyFormat::from_path(&name)
        .ok_or_else(|| format!("cannot tell the format of {name}: name a .json, .ndjson or .csv file"))?;
    let body = std::fs::read(a.file).map_err(|e| format!("cannot read {name}: {e}"))?;
    let rows = Rows {
        source: a.source,
        body: &body,
        format: fmt,
        idempotency_key: a.idempotency_key,
        actor: "cli",
    };
    let stored = match store_rows(&loaded.project, &store_url(a.dir, a.db)?, &rows)? {
        Ok(s) => s,
        Err(rows) => {
            if a.format == Format::Json {
                println!(
                    "{}",
                    json!({"message": format!("{}, nothing was stored", yardstick_core::format::count(rows.len(), "bad row", "bad rows")),
                           "code": "invalid_rows", "errors": rows})
                );
            } else {
                for r in &rows {
                    eprintln!("error: {name}: {r}");
                }
                eprintln!(
                    "error: {} in {name}; nothing was stored",
                    yardstick_core::format::count(rows.len(), "bad row", "bad rows")
                );
            }
            return Ok(crate::fault::project());
        }
    };
    match a.format {
        Format::Json => println!(
            "{}",
            json!({"source": a.source, "rows": stored.rows, "batch": stored.seq, "replayed": stored.replayed})
        ),
        Format::Text if stored.replayed => println!(
            "{} of {name} were already stored (batch {}, same idempotency key): nothing new",
            rows_word(stored.rows),
            stored.seq
        ),
        Format::Text => println!(
            "stored {} into `{}` (batch {})",
            rows_word(stored.rows),
            a.source,
            stored.seq
        ),
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) enum TokenAction<'a> {
    Create { role: Role, party: Option<&'a str> },
    List,
    Revoke { id: &'a str },
}

pub(crate) fn token(
    dir: &Path,
    db: Option<&str>,
    action: TokenAction<'_>,
    format: Format,
) -> Result<ExitCode, String> {
    let url = store_url(dir, db)?;
    let rt = runtime()?;
    rt.block_on(async {
        let store = Store::open(&url).await.map_err(|e| e.to_string())?;
        let out = match action {
            TokenAction::Create { role, party } => {
                let (t, secret) = store
                    .create_token(role, party, "cli")
                    .await
                    .map_err(|e| e.to_string())?;
                match format {
                    Format::Json => println!(
                        "{}",
                        json!({"token": secret, "id": t.id, "role": t.role, "party": t.party})
                    ),
                    Format::Text => {
                        eprintln!(
                            "created {} token {}{} — shown once, only its hash is kept:",
                            t.role.as_str(),
                            t.id,
                            t.party
                                .as_deref()
                                .map(|p| format!(" for party {p}"))
                                .unwrap_or_default()
                        );
                        println!("{secret}");
                    }
                }
                ExitCode::SUCCESS
            }
            TokenAction::List => {
                let list = store.tokens().await.map_err(|e| e.to_string())?;
                match format {
                    Format::Json => println!("{}", json!({ "tokens": list })),
                    Format::Text => {
                        let mut t = crate::render::table(Color::Never);
                        t.set_header(["id", "role", "party", "created", "revoked"]);
                        let when = |us: i64| {
                            chrono::DateTime::from_timestamp_micros(us)
                                .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
                                .unwrap_or_default()
                        };
                        for x in &list {
                            t.add_row([
                                x.id.clone(),
                                x.role.as_str().to_string(),
                                x.party.clone().unwrap_or_default(),
                                when(x.created_at),
                                x.revoked_at.map(when).unwrap_or_default(),
                            ]);
                        }
                        println!("{t}");
                    }
                }
                ExitCode::SUCCESS
            }
            TokenAction::Revoke { id } => {
                store.revoke_token(id, "cli").await.map_err(|e| e.to_string())?;
                match format {
                    Format::Json => println!("{}", json!({"revoked": id})),
                    Format::Text => println!("revoked token {id}"),
                }
                ExitCode::SUCCESS
            }
        };
        store.close().await;
        Ok(out)
    })
}

/// `1 row`, `12 rows`.
fn rows_word(n: i64) -> String {
    yardstick_core::format::count(usize::try_from(n).unwrap_or(0), "row", "rows")
}
