//! `yardstick init` and `yardstick demo`.

use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;
use serde::Serialize;
use yardstick_scaffold as scaffold;

use crate::Format;

/// Starter templates (see `yardstick init --help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Template {
    Saas,
    Sla,
    PartnershipDistribution,
    PartnershipJv,
    PartnershipTechnology,
}

impl From<Template> for scaffold::Template {
    fn from(t: Template) -> Self {
        match t {
            Template::Saas => scaffold::Template::Saas,
            Template::Sla => scaffold::Template::Sla,
            Template::PartnershipDistribution => scaffold::Template::PartnershipDistribution,
            Template::PartnershipJv => scaffold::Template::PartnershipJv,
            Template::PartnershipTechnology => scaffold::Template::PartnershipTechnology,
        }
    }
}

#[derive(Serialize)]
struct Written<'a> {
    dir: String,
    files: Vec<&'a str>,
    /// Rows pushed into stored sources (the demo's signups and partner
    /// report).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pushed: Vec<Pushed>,
}

#[derive(Serialize)]
struct Pushed {
    source: &'static str,
    rows: i64,
    /// What the rows are, for the text report.
    #[serde(skip)]
    words: &'static str,
}

fn write(
    dir: &Path,
    files: &[scaffold::ProjectFile],
    format: Format,
    what: &str,
) -> Result<ExitCode, String> {
    scaffold::write_project(dir, files).map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    report(dir, files, format, what, Vec::new())
}

fn report(
    dir: &Path,
    files: &[scaffold::ProjectFile],
    format: Format,
    what: &str,
    pushed: Vec<Pushed>,
) -> Result<ExitCode, String> {
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    match format {
        Format::Json => {
            let out = Written {
                dir: dir.display().to_string(),
                files: names,
                pushed,
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
            );
        }
        Format::Text => {
            println!("Wrote {what} to {}:", dir.display());
            for n in names {
                println!("  {n}");
            }
            for p in &pushed {
                println!(
                    "and pushed {} {} into the stored source `{}`.",
                    p.rows, p.words, p.source
                );
            }
            println!("\nNext: yardstick check {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `yardstick init`.
#[derive(Debug, clap::Args)]
pub(crate) struct InitArgs {
    /// Folder to create (must be empty or missing).
    #[arg(default_value = ".")]
    pub(crate) dir: std::path::PathBuf,
    #[arg(long, value_enum, default_value_t = Template::Saas)]
    pub(crate) template: Template,
    /// Random seed of the sample data: the same seed and end give the same files.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// First day after the sample data, a year of it (default: today, UTC).
    #[arg(long)]
    pub(crate) end: Option<chrono::NaiveDate>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

/// `yardstick demo`.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// Folder to write (must be empty or missing).
    #[arg(default_value = "yardstick-demo")]
    pub(crate) dir: std::path::PathBuf,
    /// Random seed: the same seed and end give the same files.
    #[arg(long, default_value_t = 42)]
    pub(crate) seed: u64,
    /// First day after the data (default: today, UTC).
    #[arg(long)]
    pub(crate) end: Option<chrono::NaiveDate>,
    /// Only write the project; do not serve it.
    #[arg(long)]
    pub(crate) no_serve: bool,
    /// Address to serve on (another free port if it is taken).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) addr: std::net::SocketAddr,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub(crate) format: Format,
}

impl InitArgs {
    pub(crate) fn run(self) -> Result<ExitCode, String> {
        init(&self.dir, self.template, self.seed, self.end, self.format)
    }
}

impl DemoArgs {
    /// Writes the demo, then serves it unless `--no-serve`.
    pub(crate) fn run(self, color: crate::render::Color) -> Result<ExitCode, String> {
        match demo(&self.dir, self.seed, self.end, self.format) {
            Ok(code) if code == ExitCode::SUCCESS && !self.no_serve => crate::server::serve(
                crate::server::ServeArgs {
                    dir: &self.dir,
                    addr: self.addr,
                    db: None,
                    any_port: true,
                },
                color,
            ),
            other => other,
        }
    }
}

pub(crate) fn init(
    dir: &Path,
    template: Template,
    seed: u64,
    end: Option<chrono::NaiveDate>,
    format: Format,
) -> Result<ExitCode, String> {
    let t: scaffold::Template = template.into();
    let end = end.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let files = scaffold::template(t, seed, end);
    write(dir, &files, format, &format!("a `{}` starter project", t.name()))
}

pub(crate) fn demo(
    dir: &Path,
    seed: u64,
    end: Option<chrono::NaiveDate>,
    format: Format,
) -> Result<ExitCode, String> {
    let end = end.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let files = scaffold::demo(seed, end);
    scaffold::write_project(dir, &files).map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    // Trial signups arrive through the API in real life: push them into the
    // stored source as a client would, so the dashboard has them from the
    // start.
    let loaded = crate::check::load(dir)?;
    let signups = scaffold::demo_signups(seed, end);
    let rows = crate::server::Rows {
        source: "signups",
        body: signups.as_bytes(),
        format: yardstick_engine::ingest::BodyFormat::Csv,
        idempotency_key: Some("demo-signups"),
        actor: "demo",
    };
    let url = crate::server::store_url(dir, None)?;
    let signups_pushed = match crate::server::store_rows(&loaded.project, &url, &rows)? {
        Ok(stored) => stored.rows,
        Err(bad) => return Err(format!("the demo's own signups were rejected: {bad:?}")),
    };
    // CloudCo's own sales report, as the partner would push it.
    let report_csv = scaffold::demo_partner_report(seed, &files);
    let partner_rows = crate::server::Rows {
        source: "cloudco_report",
        body: report_csv.as_bytes(),
        format: yardstick_engine::ingest::BodyFormat::Csv,
        idempotency_key: Some("demo-cloudco-report"),
        actor: "demo",
    };
    let report_pushed = match crate::server::store_rows(&loaded.project, &url, &partner_rows)? {
        Ok(stored) => stored.rows,
        Err(bad) => return Err(format!("the demo's own partner report was rejected: {bad:?}")),
    };
    report(
        dir,
        &files,
        format,
        "the Northwind Cloud demo project",
        vec![
            Pushed {
                source: "signups",
                rows: signups_pushed,
                words: "trial signups, as the website would,",
            },
            Pushed {
                source: "cloudco_report",
                rows: report_pushed,
                words: "sales from CloudCo's own report, as the partner would,",
            },
        ],
    )
}
