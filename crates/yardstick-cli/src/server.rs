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

/// `yardstick serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeCommand {
    #[command(flatten)]
    pub(crate) project: crate::args::ProjectDir,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: SocketAddr,
    /// State store URL: sqlite://PATH or postgres://… (default: DIR/.yardstick/state.db).
    #[arg(long, env = "YARDSTICK_DB")]
    pub(crate) db: Option<String>,
}

impl ServeCommand {
    pub(crate) fn run(self, color: Color) -> Result<ExitCode, String> {
        let a = ServeArgs {
            dir: &self.project.dir,
            addr: self.addr,
            db: self.db.as_deref(),
            any_port: false,
        };
        serve(a, color)
    }
}

/// `yardstick push`.
#[derive(Debug, clap::Args)]
pub(crate) struct PushArgs {
    /// Stored source id.
    pub(crate) source: String,
    /// File with the rows.
    pub(crate) file: std::path::PathBuf,
    #[command(flatten)]
    pub(crate) project: crate::args::ProjectOpt,
    #[command(flatten)]
    pub(crate) store: crate::args::Db,
    /// Store this batch at most once.
    #[arg(long)]
    pub(crate) idempotency_key: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// What `serve` needs (the demo serves too, on any free port).
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

pub(crate) fn push(a: PushArgs, color: Color) -> Result<ExitCode, String> {
    let dir = a.project.dir.as_path();
    let loaded = load(dir)?;
    if loaded.diagnostics.has_errors() {
        print_diagnostics(&loaded, loaded.diagnostics.iter().cloned().collect(), color)?;
        return Ok(crate::fault::project());
    }
    let name = a.file.to_string_lossy();
    let fmt = BodyFormat::from_path(&name)
        .ok_or_else(|| format!("cannot tell the format of {name}: name a .json, .ndjson or .csv file"))?;
    let body = std::fs::read(&a.file).map_err(|e| format!("cannot read {name}: {e}"))?;
    let rows = Rows {
        source: &a.source,
        body: &body,
        format: fmt,
        idempotency_key: a.idempotency_key.as_deref(),
        actor: "cli",
    };
    let stored = match store_rows(&loaded.project, &store_url(dir, a.store.db.as_deref())?, &rows)? {
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

/// `yardstick token`.
#[derive(Debug, clap::Args)]
pub(crate) struct TokenArgs {
    #[command(subcommand)]
    pub(crate) action: TokenCommand,
    /// Project folder, holding yardstick.toml.
    #[arg(short = 'C', long = "project", default_value = ".", global = true)]
    pub(crate) dir: std::path::PathBuf,
    /// State store URL (default: the project's SQLite file).
    #[arg(long, env = "YARDSTICK_DB", global = true)]
    pub(crate) db: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    pub(crate) format: Format,
}

#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// Create a token and print its secret once.
    Create {
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Limit the token to what is shared with this party.
        #[arg(long)]
        party: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id.
    Revoke { id: String },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub(crate) enum RoleArg {
    Admin,
    Editor,
    Viewer,
}

impl TokenArgs {
    pub(crate) fn run(self) -> Result<ExitCode, String> {
        let action = match &self.action {
            TokenCommand::Create { role, party } => TokenAction::Create {
                role: match role {
                    RoleArg::Admin => Role::Admin,
                    RoleArg::Editor => Role::Editor,
                    RoleArg::Viewer => Role::Viewer,
                },
                party: party.as_deref(),
            },
            TokenCommand::List => TokenAction::List,
            TokenCommand::Revoke { id } => TokenAction::Revoke { id },
        };
        token(&self.dir, self.db.as_deref(), action, self.format)
    }
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
