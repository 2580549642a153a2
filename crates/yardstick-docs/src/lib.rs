//! Documents both sides of an agreement read: its KPI appendix
//! (`core::appendix`) and the project's KPI catalogue, as Markdown, HTML
//! (templates, autoescaped) and PDF (the Markdown typeset with the
//! standard PDF fonts, so the three never say different things).

pub mod chart;
mod pdf;
pub mod review;
pub mod xlsx;

use minijinja::{Environment, context};
use serde::Serialize;
use yardstick_core::appendix::{Appendix, KpiText};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Html,
    Pdf,
}

/// A signature as the documents show it.
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    pub party: String,
    /// When, as people read it (`2026-12-02 14:05 UTC`).
    pub at: String,
    pub fingerprint: String,
    /// Whether it signs the terms this document describes.
    pub current: bool,
}

/// Why a document was not rendered: always our bug (the templates are
/// ours and the data is typed).
#[derive(Debug, thiserror::Error)]
#[error("cannot render the document: {0}")]
pub struct DocError(pub(crate) String);

fn env() -> Result<Environment<'static>, DocError> {
    let mut env = Environment::new();
    for (name, text) in [
        ("base.html.j2", include_str!("../templates/base.html.j2")),
        ("kpi.html.j2", include_str!("../templates/kpi.html.j2")),
        ("appendix.html.j2", include_str!("../templates/appendix.html.j2")),
        ("appendix.md.j2", include_str!("../templates/appendix.md.j2")),
        (
            "catalogue.html.j2",
            include_str!("../templates/catalogue.html.j2"),
        ),
        ("catalogue.md.j2", include_str!("../templates/catalogue.md.j2")),
        ("review.md.j2", include_str!("../templates/review.md.j2")),
        ("review.html.j2", include_str!("../templates/review.html.j2")),
    ] {
        env.add_template(name, text)
            .map_err(|e| DocError(e.to_string()))?;
    }
    // Words written for Markdown (`orders`) as HTML: escaped, with code.
    env.add_filter("ticks", |s: String| {
        let escaped = minijinja::HtmlEscape(&s).to_string();
        let mut out = String::new();
        for (i, part) in escaped.split('`').enumerate() {
            if i % 2 == 1 {
                out += &format!("<code>{part}</code>");
            } else {
                out += part;
            }
        }
        minijinja::Value::from_safe_string(out)
    });
    // HTML templates escape every value; Markdown ones write it as is.
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html.j2") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    Ok(env)
}

fn render(template: &str, ctx: minijinja::Value) -> Result<String, DocError> {
    env()?
        .get_template(template)
        .and_then(|t| t.render(ctx))
        .map_err(|e| DocError(e.to_string()))
}

/// An agreement's KPI appendix with its signatures; `unsigned` are the
/// parties that have not signed these terms (a signature line each).
pub fn appendix(
    a: &Appendix,
    signatures: &[Signed],
    unsigned: &[String],
    generated: &str,
    format: Format,
) -> Result<Vec<u8>, DocError> {
    let ctx = context! { a, signatures, unsigned, generated };
    match format {
        Format::Markdown => render("appendix.md.j2", ctx).map(String::into_bytes),
        Format::Html => render("appendix.html.j2", ctx).map(String::into_bytes),
        Format::Pdf => {
            let md = render("appendix.md.j2", ctx)?;
            Ok(pdf::from_markdown(&format!("KPI appendix: {}", a.title), &md))
        }
    }
}

/// KPIs of one level and owner in the catalogue.
#[derive(Debug, Clone, Serialize)]
struct Group<'a> {
    title: String,
    kpis: Vec<&'a KpiText>,
}

/// Groups of the catalogue (already ordered by level and owner).
fn groups(kpis: &[KpiText]) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = Vec::new();
    for k in kpis {
        let level = match k.level {
            Some(l) => format!("{}{} KPIs", l[..1].to_uppercase(), &l[1..]),
            None => "KPIs without a level".to_string(),
        };
        let title = match &k.owner {
            _ if k.kind == "metric" => "Metrics the KPIs are built from".to_string(),
            Some(o) => format!("{level}, owned by {o}"),
            None => format!("{level}, no owner named"),
        };
        match out.last_mut() {
            Some(g) if g.title == title => g.kpis.push(k),
            _ => out.push(Group { title, kpis: vec![k] }),
        }
    }
    out
}

/// The project's KPI catalogue (`core::appendix::catalogue`).
pub fn catalogue(
    project: &str,
    calendar: &str,
    kpis: &[KpiText],
    generated: &str,
    format: Format,
) -> Result<Vec<u8>, DocError> {
    let ctx = context! { project, calendar, groups => groups(kpis), generated };
    match format {
        Format::Markdown => render("catalogue.md.j2", ctx).map(String::into_bytes),
        Format::Html => render("catalogue.html.j2", ctx).map(String::into_bytes),
        Format::Pdf => {
            let md = render("catalogue.md.j2", ctx)?;
            Ok(pdf::from_markdown(&format!("KPI catalogue: {project}"), &md))
        }
    }
}
