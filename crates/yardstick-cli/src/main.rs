//! The `yardstick` command: argument parsing and glue over the library
//! crates. Each subcommand lives in its own module; rendering in `render`.

mod check;
mod consequences;
mod eval;
mod explain;
mod fault;
mod forecast;
mod render;
mod scaffold;
mod server;
mod watch;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Yardstick — KPIs, SLAs and contracts as code.
#[derive(Debug, Parser)]
#[command(
    name = "yardstick",
    version,
    about = "Yardstick: KPIs, SLAs, contracts and partnerships as code. Check them like code,\nevaluate them on your data, explain, forecast and serve them.",
    long_about = None
)]
#[command(after_help = "Examples:
  yardstick demo /tmp/acme          write a demo project with 14 months of data
  yardstick check /tmp/acme         check its definitions and data
  yardstick init my-kpis --template sla")]
struct Cli {
    /// When to colour output.
    #[arg(long, value_enum, global = true, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

/// Output format of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Readable text, coloured on a terminal.
    Text,
    /// Machine-readable JSON on standard output.
    Json,
}

/// The project, the instant and the format of a report (`sla`, `payouts`,
/// `score`, `slo`).
#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// Project folder, holding yardstick.toml.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Evaluate as at this instant: RFC 3339 (2026-10-01T12:00:00Z) or a date in the
    /// project's zone (2026-10-01); rows after it are not read (default: now).
    #[arg(long)]
    as_of: Option<String>,
    #[arg(long, value_enum, default_value_t = eval::EvalFormat::Text)]
    format: eval::EvalFormat,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a project's definitions and data, like a compiler.
    #[command(
        after_help = "Checks every definition file (errors at file:line:col with a hint), then the data:
files exist, columns exist, SQL fragments plan, time columns parse. KPIs that are not
SMART (objective, target, period, owner) get a warning.

Exit status: 0 when there are no errors (warnings allowed), 1 otherwise.

Examples:
  yardstick check                      the project in this folder
  yardstick check ../acme --format json
  yardstick check --no-data            definitions only, do not read data"
    )]
    Check {
        /// Project folder, holding yardstick.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Check definitions only; do not read any data.
        #[arg(long)]
        no_data: bool,
        /// Judge data freshness at this instant: RFC 3339 or a date in the project's zone
        /// (default: now).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Evaluate KPIs: value, target and status per period and entity.
    #[command(
        after_help = "Periods run from the first one with data to the one holding --as-of (default: now);
a period that has not ended at --as-of is reported with complete = false. Rows after
--as-of are not read. Each row: KPI, period, entity, value, target, status (met, warning,
missed, no data), attainment (value / target), and for a period in progress where it is
heading. --format json and csv add start, end, previous, baseline, benchmark, unit and the
projection's range and probability.

Examples:
  yardstick eval                                   every KPI of the project here
  yardstick eval ../acme --kpi uptime --kpi revenue
  yardstick eval --as-of 2026-10-01T12:00:00Z --format json
  yardstick eval --from 2026-01-01 --format csv > kpis.csv"
    )]
    Eval {
        /// Project folder, holding yardstick.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Evaluate as at this instant: RFC 3339 (2026-10-01T12:00:00Z) or a date in the
        /// project's zone (2026-10-01); rows after it are not read (default: now).
        #[arg(long)]
        as_of: Option<String>,
        /// Report periods from the one holding this instant.
        #[arg(long)]
        from: Option<String>,
        /// Report periods up to the one holding this instant.
        #[arg(long)]
        to: Option<String>,
        /// Evaluate only this KPI (repeatable).
        #[arg(long = "kpi", value_name = "ID")]
        kpis: Vec<String>,
        /// Break KPIs down by a dimension they declare (values only: targets apply to the whole).
        #[arg(long, value_name = "DIMENSION")]
        by: Option<String>,
        #[arg(long, value_enum, default_value_t = eval::EvalFormat::Text)]
        format: eval::EvalFormat,
    },
    /// Explain one KPI in one period: query, rows, inputs, target, status.
    #[command(
        after_help = "Shows the value and why its status is what it is: the target in force, the query
run for the period (and its DataFusion plan), rows in the period and after the filter,
the inputs of ratios, formulas and growth with their own values, and availability's
time accounting.

Examples:
  yardstick explain uptime 2026-08
  yardstick explain conversion_rate 2026-07 --entity salesperson=Ana
  yardstick explain gross_margin 2026-Q3 -C ../acme --format json"
    )]
    Explain {
        /// KPI id.
        kpi: String,
        /// Period label: 2026-10-14, 2026-W42, 2026-10, 2026-Q4, 2026-H2, 2026, FY2027-Q1, FY2027.
        period: String,
        /// Entity of a for_each KPI, as column=value (repeatable).
        #[arg(long)]
        entity: Vec<String>,
        /// Project folder, holding yardstick.toml.
        #[arg(short = 'C', long = "project", default_value = ".")]
        dir: PathBuf,
        /// Evaluate as at this instant: RFC 3339 (2026-10-01T12:00:00Z) or a date in the
        /// project's zone (2026-10-01); rows after it are not read (default: now).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Forecast a KPI's next periods, per entity, with 80% and 95% ranges.
    #[command(
        after_help = "Forecasts start after the last complete period before --as-of (default: now). Each
series gets the model with the smallest error on its own recent past among naive, seasonal
naive, drift, AutoETS, AutoETS on seasonally adjusted values and MSTL (the chosen model is
reported); series too short for a model get a naive forecast and a note.

Examples:
  yardstick forecast revenue --horizon 3
  yardstick forecast signups --entity region=north -C ../acme
  yardstick forecast uptime --as-of 2026-10-01 --format json"
    )]
    Forecast {
        /// KPI id.
        kpi: String,
        /// Periods to forecast.
        #[arg(long, default_value_t = 3)]
        horizon: usize,
        /// Only the entity with column=value (repeatable).
        #[arg(long)]
        entity: Vec<String>,
        /// Forecast from the complete periods before this instant: RFC 3339 or a date in
        /// the project's zone (default: now).
        #[arg(long)]
        as_of: Option<String>,
        /// Project folder, holding yardstick.toml.
        #[arg(short = 'C', long = "project", default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Early warnings: anomalies and level changes on each KPI's daily series.
    #[command(
        after_help = "Each KPI is evaluated per day over the last --days complete days before --as-of. An
anomaly is a day more than 4 robust standard deviations from the median of the last four
same weekdays (judged with earlier days only); a level change is a lasting shift found by
Bayesian online changepoint detection.

Examples:
  yardstick watch
  yardstick watch --kpi signups --days 120 --format json"
    )]
    Watch {
        /// Project folder, holding yardstick.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Only this KPI (repeatable).
        #[arg(long = "kpi", value_name = "ID")]
        kpis: Vec<String>,
        /// Days to look back.
        #[arg(long, default_value_t = 63)]
        days: u32,
        /// Evaluate as at this instant: RFC 3339 (2026-10-01T12:00:00Z) or a date in the
        /// project's zone (2026-10-01); rows after it are not read (default: now).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Alert rules: which fire now and since when; --notify delivers changes.
    #[command(
        after_help = "Judges every [alert.ID] at --as-of (default: now). `since` comes from the state
store, where `yardstick serve` (or --notify) remembers delivered notices. With --notify,
changes since the last delivery are sent (firing once, resolved once), as the server does.

Examples:
  yardstick alerts
  yardstick alerts ../acme --notify            e.g. from cron, without a server
  yardstick alerts --format json"
    )]
    Alerts {
        /// Project folder, holding yardstick.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Evaluate as at this instant: RFC 3339 (2026-10-01T12:00:00Z) or a date in the
        /// project's zone (2026-10-01); rows after it are not read (default: now).
        #[arg(long)]
        as_of: Option<String>,
        /// Deliver notices for changes and remember them in the store.
        #[arg(long)]
        notify: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Contract clauses per period: breaches, triggers, service credits, remedies.
    #[command(
        after_help = "One row per contract clause and ended period of its KPI: the value, the clause's
target, whether it was breached (the value misses the target) and triggered (by its
breach_when rule, e.g. two months in a row), the service credit (share of the period's fee
and amount), the remedies, and a sentence that explains the outcome. The total of credits
follows the table.

Examples:
  yardstick sla
  yardstick sla ../acme --as-of 2026-10-01 --format json"
    )]
    Sla {
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Incentive payouts per ended period and entity.
    #[command(
        after_help = "One row per incentive, ended period and entity: the attainment of the incentive's
KPI (value / target) and the payout. Payout is linear between the curve's points by
attainment, 0 below the first point and the last point's pay above the last.

Examples:
  yardstick payouts
  yardstick payouts --as-of 2026-10-01 --format csv > bonuses.csv"
    )]
    Payouts {
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Scorecard scores per period (scorecards may weigh other scorecards).
    #[command(
        after_help = "One row per scorecard and period: the score and whether the period is complete.
A score is the weighted mean of its parts' attainment, each capped at 120%, over the parts
with a value; a part may be another scorecard.

Examples:
  yardstick score
  yardstick score --format json"
    )]
    Score {
        #[command(flatten)]
        report: ReportArgs,
    },
    /// Error budgets of share and availability KPIs: budget, consumed, remaining, burn rate.
    #[command(
        after_help = "For each share or availability KPI with a target such as \">= 99.5%\": the error
budget (1 - target) in minutes (availability: of scheduled time) or events (share: of rows),
what was consumed, what remains and the burn rate ((1 - value) / (1 - target); above 1
spends the budget before the period ends). Rolling windows too, per day.

Examples:
  yardstick slo
  yardstick slo --format json"
    )]
    Slo {
        #[command(flatten)]
        report: ReportArgs,
    },
    /// A partnership: both partners, its KPIs and its score per review period.
    #[command(after_help = "Examples:
  yardstick partnership cloudco
  yardstick partnership cloudco -C ../acme --format json")]
    Partnership {
        /// Partnership id.
        id: String,
        /// Project folder, holding yardstick.toml.
        #[arg(short = 'C', long = "project", default_value = ".")]
        dir: PathBuf,
        /// Evaluate as at this instant: RFC 3339 (2026-10-01T12:00:00Z) or a date in the
        /// project's zone (2026-10-01); rows after it are not read (default: now).
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = eval::EvalFormat::Text)]
        format: eval::EvalFormat,
    },
    /// Serve the HTTP API: KPIs, evaluations, contracts, ingestion, metrics.
    #[command(
        after_help = "Evaluates the project, keeps it fresh (definitions reloaded when files change, rows
pushed to stored sources, every minute) and serves API v1 with bearer tokens. The state
store is a SQLite file in the project (.yardstick/state.db) unless --db names another,
e.g. postgres://user@host/db. With no token in the store yet, an admin token is created
and printed once. The OpenAPI document is at /api/v1/openapi.json; Prometheus metrics
at /metrics. Stops on SIGTERM or Ctrl-C after requests in flight finish.

Examples:
  yardstick serve
  yardstick serve ../acme --addr 0.0.0.0:8080 --db postgres://yardstick@db/yardstick"
    )]
    Serve {
        /// Project folder, holding yardstick.toml.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// State store URL: sqlite://PATH or postgres://… (default: DIR/.yardstick/state.db).
        #[arg(long, env = "YARDSTICK_DB")]
        db: Option<String>,
    },
    /// Push rows from a file into a stored source (`store = true`).
    #[command(
        after_help = "The file is a JSON array of objects (.json), NDJSON (.ndjson/.jsonl) or CSV with a
header (.csv). Rows are checked against the source's declared columns; one bad row
rejects the whole file, and every bad row is listed. Rows are committed when this
returns. With --idempotency-key, pushing the same file again stores nothing new.

Examples:
  yardstick push deals new-deals.csv
  yardstick push probes probes.ndjson -C ../acme --idempotency-key 2026-11-24-run1"
    )]
    Push {
        /// Stored source id.
        source: String,
        /// File with the rows.
        file: PathBuf,
        /// Project folder, holding yardstick.toml.
        #[arg(short = 'C', long = "project", default_value = ".")]
        dir: PathBuf,
        /// State store URL (default: the project's SQLite file).
        #[arg(long, env = "YARDSTICK_DB")]
        db: Option<String>,
        /// Store this batch at most once.
        #[arg(long)]
        idempotency_key: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Manage API tokens: create (the secret is printed once), list, revoke.
    #[command(
        after_help = "Roles: viewer reads; editor also pushes rows; admin also manages tokens.
A token with --party sees only the KPIs, contracts, partnerships and scorecards shared with
that party (named as contract provider/client, partnership partner or in a KPI's parties).

Examples:
  yardstick token create --role viewer --party CloudCo
  yardstick token list
  yardstick token revoke 3fa2c1d0"
    )]
    Token {
        #[command(subcommand)]
        action: TokenCommand,
        /// Project folder, holding yardstick.toml.
        #[arg(short = 'C', long = "project", default_value = ".", global = true)]
        dir: PathBuf,
        /// State store URL (default: the project's SQLite file).
        #[arg(long, env = "YARDSTICK_DB", global = true)]
        db: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
        format: Format,
    },
    /// Write a commented starter project that checks clean.
    #[command(after_help = "Templates:
  saas                      revenue, new clients, margin, churn-style KPIs
  sla                       uptime and response-time SLA with service credits
  partnership-distribution  sales volume, market penetration, customer acquisition cost
  partnership-jv            ROI, profit margin, milestones on time
  partnership-technology    product launches, development cycle time, user adoption

Examples:
  yardstick init my-kpis
  yardstick init hosting-sla --template sla")]
    Init {
        /// Folder to create (must be empty or missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value_t = scaffold::Template::Saas)]
        template: scaffold::Template,
        /// Random seed of the sample data: the same seed and end give the same files.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// First day after the sample data, a year of it (default: today, UTC).
        #[arg(long)]
        end: Option<chrono::NaiveDate>,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write a realistic demo project with generated data, and serve its dashboard.
    #[command(
        after_help = "A SaaS company with a hosting SLA and maintenance windows, a support team, a sales
team with individual KPIs and a bonus plan, and a distribution partner: 14 months of
seeded, deterministic data ending the day before --end. Then it serves the project like
`yardstick serve` and prints a one-time link to the dashboard (--no-serve: only write).

Examples:
  yardstick demo /tmp/acme                      write, serve, open the printed link
  yardstick demo /tmp/acme --no-serve && yardstick eval /tmp/acme
  yardstick demo /tmp/acme --seed 7 --end 2026-11-01 --no-serve"
    )]
    Demo {
        /// Folder to write (must be empty or missing).
        #[arg(default_value = "yardstick-demo")]
        dir: PathBuf,
        /// Random seed: the same seed and end give the same files.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// First day after the data (default: today, UTC).
        #[arg(long)]
        end: Option<chrono::NaiveDate>,
        /// Only write the project; do not serve it.
        #[arg(long)]
        no_serve: bool,
        /// Address to serve on (another free port if it is taken).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Examples:
  yardstick completions bash > ~/.local/share/bash-completion/completions/yardstick
  yardstick completions zsh > \"${fpath[1]}/_yardstick\"
  yardstick completions fish > ~/.config/fish/completions/yardstick.fish")]
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
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

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Admin,
    Editor,
    Viewer,
}

impl ReportArgs {
    fn run(self, report: consequences::Report, color: render::Color) -> Result<ExitCode, String> {
        consequences::run(&self.dir, report, self.as_of.as_deref(), self.format, color)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorArg::Always => render::Color::Always,
        ColorArg::Never => render::Color::Never,
        ColorArg::Auto if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() => {
            render::Color::Always
        }
        ColorArg::Auto => render::Color::Never,
    };
    let result = match cli.command {
        Command::Check {
            dir,
            format,
            no_data,
            as_of,
        } => check::run(&dir, format, !no_data, as_of.as_deref(), color),
        Command::Eval {
            dir,
            as_of,
            from,
            to,
            kpis,
            by,
            format,
        } => eval::run(
            eval::EvalArgs {
                dir: &dir,
                as_of: as_of.as_deref(),
                from: from.as_deref(),
                to: to.as_deref(),
                kpis,
                by,
                format,
            },
            color,
        ),
        Command::Explain {
            kpi,
            period,
            entity,
            dir,
            as_of,
            format,
        } => explain::run(
            explain::ExplainArgs {
                dir: &dir,
                kpi: &kpi,
                period: &period,
                entity: &entity,
                as_of: as_of.as_deref(),
                format,
            },
            color,
        ),
        Command::Forecast {
            kpi,
            horizon,
            entity,
            as_of,
            dir,
            format,
        } => forecast::run(
            forecast::ForecastArgs {
                dir: &dir,
                kpi: &kpi,
                horizon,
                entity: &entity,
                as_of: as_of.as_deref(),
                format,
            },
            color,
        ),
        Command::Watch {
            dir,
            kpis,
            days,
            as_of,
            format,
        } => watch::watch(
            watch::WatchArgs {
                dir: &dir,
                kpis,
                days,
                as_of: as_of.as_deref(),
                format,
            },
            color,
        ),
        Command::Alerts {
            dir,
            as_of,
            notify,
            format,
        } => watch::alerts(
            watch::AlertsArgs {
                dir: &dir,
                as_of: as_of.as_deref(),
                notify,
                format,
            },
            color,
        ),
        Command::Sla { report } => report.run(consequences::Report::Sla, color),
        Command::Payouts { report } => report.run(consequences::Report::Payouts, color),
        Command::Score { report } => report.run(consequences::Report::Score, color),
        Command::Slo { report } => report.run(consequences::Report::Slo, color),
        Command::Partnership {
            id,
            dir,
            as_of,
            format,
        } => consequences::run(
            &dir,
            consequences::Report::Partnership(&id),
            as_of.as_deref(),
            format,
            color,
        ),
        Command::Serve { dir, addr, db } => server::serve(
            server::ServeArgs {
                dir: &dir,
                addr,
                db: db.as_deref(),
                any_port: false,
            },
            color,
        ),
        Command::Push {
            source,
            file,
            dir,
            db,
            idempotency_key,
            format,
        } => server::push(
            server::PushArgs {
                dir: &dir,
                source: &source,
                file: &file,
                db: db.as_deref(),
                idempotency_key: idempotency_key.as_deref(),
                format,
            },
            color,
        ),
        Command::Token {
            action,
            dir,
            db,
            format,
        } => {
            let action = match &action {
                TokenCommand::Create { role, party } => server::TokenAction::Create {
                    role: match role {
                        RoleArg::Admin => yardstick_store::Role::Admin,
                        RoleArg::Editor => yardstick_store::Role::Editor,
                        RoleArg::Viewer => yardstick_store::Role::Viewer,
                    },
                    party: party.as_deref(),
                },
                TokenCommand::List => server::TokenAction::List,
                TokenCommand::Revoke { id } => server::TokenAction::Revoke { id },
            };
            server::token(&dir, db.as_deref(), action, format)
        }
        Command::Init {
            dir,
            template,
            seed,
            end,
            format,
        } => scaffold::init(&dir, template, seed, end, format),
        Command::Demo {
            dir,
            seed,
            end,
            no_serve,
            addr,
            format,
        } => match scaffold::demo(&dir, seed, end, format) {
            Ok(code) if code == ExitCode::SUCCESS && !no_serve => server::serve(
                server::ServeArgs {
                    dir: &dir,
                    addr,
                    db: None,
                    any_port: true,
                },
                color,
            ),
            other => other,
        },
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "yardstick", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            fault::usage()
        }
    }
}
