//! The `yardstick` command: argument parsing and glue over the library
//! crates. Each subcommand lives in its own module; rendering in `render`.

mod action;
mod agreements;
mod args;
mod check;
mod cluster;
mod consequences;
mod documents;
mod eval;
mod explain;
mod fault;
mod forecast;
mod reconcile;
mod render;
mod review;
mod scaffold;
mod server;
mod terms;
mod watch;
mod why;

use std::io::IsTerminal;
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
    Check(check::Args),
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
    Eval(eval::Args),
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
    Explain(explain::Args),
    /// Why a KPI moved or missed in a period: its causes, ranked, over its dimensions.
    #[command(
        after_help = "Splits the gap between the period's value and a reference (the previous period, the
same period a year before, the target, the baseline or a forecast) over the KPI's
dimensions: causes are sets of dimension values (up to --depth combined), each with its
value now and before and its contribution to the gap. Sums and counts split exactly;
ratios, averages and shares into mix and rate effects. The roots are the fewest causes
that explain the unusual movement (the criterion is printed).

Examples:
  yardstick why revenue 2026-09
  yardstick why revenue 2026-09 --vs target --dimensions region,partner --depth 2
  yardstick why first_response_24h 2026-07 --format json"
    )]
    Why(why::Args),
    /// Corrective actions: record one against a KPI's miss, list them with before and after, close one.
    #[command(
        after_help = "An action answers a KPI's period (and optionally a cause that `why` found), with an
owner, a due date and the periods its effect is judged in. `action list` shows the KPI and
the cause's segment before the miss, in it and in the judged periods, and whether each
recovered (the KPI: every complete judged period meets the target; the segment: back to
at least 90% of what it was before the miss). Actions are kept in the state store with
an audit entry.

Examples:
  yardstick action add revenue 2026-05 --cause partner=CloudCo,region=EU \\
      --title \"Call CloudCo's EU desk\" --owner partner-manager --due 2026-06-15 --judge 2026-06..2026-07
  yardstick action list --kpi revenue
  yardstick action close 1 --outcome \"orders back since June\""
    )]
    Action(action::Args),
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
    Forecast(forecast::Args),
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
    Watch(watch::WatchArgs),
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
    Alerts(watch::AlertsArgs),
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
    Sla(consequences::ReportArgs),
    /// Incentive payouts per ended period and entity.
    #[command(
        after_help = "One row per incentive, ended period and entity: the attainment of the incentive's
KPI (value / target) and the payout. Payout is linear between the curve's points by
attainment, 0 below the first point and the last point's pay above the last.

Examples:
  yardstick payouts
  yardstick payouts --as-of 2026-10-01 --format csv > bonuses.csv"
    )]
    Payouts(consequences::ReportArgs),
    /// Scorecard scores per period (scorecards may weigh other scorecards).
    #[command(
        after_help = "One row per scorecard and period: the score and whether the period is complete.
A score is the weighted mean of its parts' attainment, each capped at 120%, over the parts
with a value; a part may be another scorecard.

Examples:
  yardstick score
  yardstick score --format json"
    )]
    Score(consequences::ReportArgs),
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
    Slo(consequences::ReportArgs),
    /// A partnership: both partners, its KPIs and its score per review period.
    #[command(after_help = "Examples:
  yardstick partnership cloudco
  yardstick partnership cloudco -C ../acme --format json")]
    Partnership(consequences::PartnershipArgs),
    /// What an agreement is judged by, in one canonical form, and its fingerprint.
    #[command(
        after_help = "The terms of a contract, incentive plan or partnership: everything that decides its
results — the calendar, its own rules (fee, dates, parties, clauses, credits, payout curve),
every KPI and metric it reads with its measure, period, targets and fill, and every source
those read — built from the definitions, so formatting, key order, comments, file splits,
names and descriptions do not change them. The fingerprint (sha256) changes with any term
that changes a result. Without an id: every agreement with its fingerprint.

Examples:
  yardstick terms
  yardstick terms hosting
  yardstick terms hosting -C ../acme --format json"
    )]
    Terms(terms::Args),
    /// Sign an agreement's terms now in force, as one of its parties.
    #[command(
        after_help = "Records in the state store (with an audit entry) that PARTY signed the terms whose
fingerprint `yardstick terms ID` prints now. Signing the same terms again changes nothing;
terms changed later need new signatures. Before signing, the agreement's KPI targets are
judged by their own history (never met, or always met by a wide margin, over the last 12
periods): warnings with the figures, and the signature is recorded all the same. Over the
API a party's token signs only as that party.

Examples:
  yardstick sign hosting --as \"Acme Corp\"
  yardstick sign hosting --as \"Provider Ltd\" --db postgres://yardstick@db/acme --format json"
    )]
    Sign(terms::SignArgs),
    /// Propose a new target for an agreement's clause or KPI, from an effective period.
    #[command(
        after_help = "Records (with an audit entry) that PARTY proposes a new target for a contract's clause
(--clause) or a partnership's or incentive plan's KPI (--kpi) from an effective period,
with a reason. The period must be one not yet judged: periods before it keep their
target. The target is first judged by the KPI's own history (met in fewer than 10% of the
last 12 periods, or in every one by a wide margin): warnings with the figures. Another
party accepts or rejects it.

Examples:
  yardstick propose hosting --clause uptime --target \">= 99.0%\" --from 2027-01 \\
      --reason \"two misses in a row: see yardstick why uptime\" --as \"Provider Ltd\"
  yardstick propose cloudco --kpi partner_revenue --target \">= 50000\" --from 2027-Q1 --as CloudCo --reason …"
    )]
    Propose(agreements::ProposeArgs),
    /// Accept a proposal as another party; --write writes the amendment into the definitions.
    #[command(
        after_help = "Records the acceptance (with an audit entry) and shows the amendment: the clause's target
becomes an effective-dated `targets` list, the old target from the contract's start and
the new one from the effective period with a note naming the proposal. --write writes it
into the definitions file for the owner to commit; the amended terms have a new
fingerprint that every party signs again (yardstick sign).

Examples:
  yardstick accept 3 --as \"Acme Corp\" --comment \"agreed at the quarterly review\" --write"
    )]
    Accept(agreements::DecideArgs),
    /// Reject a proposal as another party, with a comment.
    #[command(
        after_help = "Examples:\n  yardstick reject 3 --as \"Acme Corp\" --comment \"the misses were the provider's own\""
    )]
    Reject(agreements::DecideArgs),
    /// Every agreement's standing, or one agreement's signed versions and proposals.
    #[command(after_help = "Examples:\n  yardstick agreements\n  yardstick agreements hosting --format json")]
    Agreements(agreements::ListArgs),
    /// An agreement's KPI appendix: Markdown, HTML or PDF, both sides read and sign.
    #[command(
        after_help = "Each KPI's objective and exact definition in words (what is counted, filters, how time
is cut, the time zone, exclusions such as scheduled maintenance), its target and warning
with every amendment, each clause's wording, breach rule and consequences, the data's
sources and owners, the terms' fingerprint and the signatures recorded. Generated from
the definitions Yardstick evaluates, so the document and the results cannot disagree.

Examples:
  yardstick appendix hosting
  yardstick appendix hosting --format pdf -o hosting-appendix.pdf
  yardstick appendix cloudco --format html -o cloudco.html"
    )]
    Appendix(documents::AppendixArgs),
    /// The KPI catalogue: every KPI with its definition in words, by level and owner.
    #[command(after_help = "Examples:\n  yardstick catalog\n  yardstick catalog --format pdf -o kpis.pdf")]
    Catalog(documents::CatalogArgs),
    /// A period review (board pack): summary, each KPI with its history, contracts.
    #[command(
        after_help = "Cover (scope, period, as-of instant, the data's freshness, the agreements' standing),
a summary (met / warning / missed, scorecard scores and their change, the biggest wins
and misses), a section per KPI (value against target, change on the period before and
a year ago, its history with a chart in HTML, where a period in progress is heading,
the causes sla names for a breach, what it counts), and the contracts' clauses and
credits in the period. Every number comes from the same evaluation as eval, sla and score.

Examples:
  yardstick review --period 2026-Q3 -o q3.html
  yardstick review --scope partnership:cloudco --period 2026-Q3 --format pdf -o cloudco-q3.pdf
  yardstick review --scope owner:sre --period 2026-09 --format md"
    )]
    Review(review::Args),
    /// Reconcile two sides' records: what differs, and how much of each KPI gap it explains.
    #[command(
        after_help = "For each [reconcile.ID] (or the one named) and period of its KPIs: records matched on
their keys, only on the left, only on the right, differing per compared column (within the
declared tolerances) and with duplicate keys (never paired); each KPI on both sides, its
difference and the bridge that splits it into those causes. Exit status 1 when a KPI is
outside its tolerance, so a monthly close can gate on it.

Examples:
  yardstick reconcile
  yardstick reconcile northwind_sales --period 2026-10
  yardstick reconcile northwind_sales --format csv > discrepancies.csv
  yardstick reconcile --format json -C ../acme"
    )]
    Reconcile(reconcile::Args),
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
    Serve(server::ServeCommand),
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
    Push(server::PushArgs),
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
    Token(server::TokenArgs),
    /// Run a Ballista scheduler or executor that knows Yardstick's functions.
    #[command(
        after_help = "Evaluation runs on the cluster with `yardstick eval --engine ballista://HOST:PORT`
(or YARDSTICK_ENGINE, which `serve` reads too). Every executor must read the project's data
files at the same paths; stored and database sources are evaluated locally only.

Examples:
  yardstick cluster scheduler --addr 127.0.0.1:50050
  yardstick cluster executor --scheduler 127.0.0.1:50050 --addr 127.0.0.1:50051
  yardstick cluster executor --scheduler 127.0.0.1:50050 --addr 127.0.0.1:50061
  yardstick eval --engine ballista://127.0.0.1:50050"
    )]
    Cluster(cluster::Args),
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
    Init(scaffold::InitArgs),
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
    Demo(scaffold::DemoArgs),
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
        Command::Check(a) => check::run(a, color),
        Command::Eval(a) => eval::run(a, color),
        Command::Explain(a) => explain::run(a, color),
        Command::Why(a) => why::run(a, color),
        Command::Action(a) => action::run(a, color),
        Command::Forecast(a) => forecast::run(a, color),
        Command::Watch(a) => watch::watch(a, color),
        Command::Alerts(a) => watch::alerts(a, color),
        Command::Sla(a) => a.run(consequences::Report::Sla, color),
        Command::Payouts(a) => a.run(consequences::Report::Payouts, color),
        Command::Score(a) => a.run(consequences::Report::Score, color),
        Command::Slo(a) => a.run(consequences::Report::Slo, color),
        Command::Partnership(a) => a.run(color),
        Command::Terms(a) => terms::run(a, color),
        Command::Sign(a) => terms::sign(a, color),
        Command::Propose(a) => agreements::run_propose(a, color),
        Command::Accept(a) => agreements::run_decide(a, true, color),
        Command::Reject(a) => agreements::run_decide(a, false, color),
        Command::Agreements(a) => agreements::run_list(a, color),
        Command::Appendix(a) => documents::appendix(a, color),
        Command::Catalog(a) => documents::catalog(a, color),
        Command::Review(a) => review::run(a, color),
        Command::Reconcile(a) => reconcile::run(a, color),
        Command::Serve(a) => a.run(color),
        Command::Push(a) => server::push(a, color),
        Command::Token(a) => a.run(),
        Command::Cluster(a) => a.run(),
        Command::Init(a) => a.run(),
        Command::Demo(a) => a.run(color),
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
