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
}

fn write(
    dir: &Path,
    files: &[scaffold::ProjectFile],
    format: Format,
    what: &str,
) -> Result<ExitCode, String> {
    scaffold::write_project(dir, files).map_err(|e| format!("cannot write {}: {e}", dir.display()))?;
    let names: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    match format {
        Format::Json => {
            let out = Written {
                dir: dir.display().to_string(),
                files: names,
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
            println!("\nNext: yardstick check {}", dir.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn init(dir: &Path, template: Template, format: Format) -> Result<ExitCode, String> {
    let t: scaffold::Template = template.into();
    let files = scaffold::template(t);
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
    write(dir, &files, format, "the Northwind Cloud demo project")
}
