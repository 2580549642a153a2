//! `[review.ID]`: a review pack issued on a schedule.

use super::*;
use crate::model::review::{PackFormat, REVIEW_GRAINS};

pub(super) fn read_review(cx: &mut Cx<'_>, tab: &Tab<'_>, id: Located<String>) -> Option<Review> {
    tab.known_keys(
        cx,
        &[
            "name",
            "scope",
            "every",
            "delay",
            "formats",
            "folder",
            "webhook",
            "webhook_env",
            "parties",
        ],
    );
    let grains: Vec<(&str, Grain)> = REVIEW_GRAINS.iter().map(|g| (g.name(), *g)).collect();
    let every = match tab.choice(cx, "every", &grains) {
        Some(e) => e,
        None => {
            if !tab.has("every") {
                cx.error(
                    "missing-key",
                    format!(
                        "review `{}` needs `every`: how often its pack is issued",
                        id.value
                    ),
                    &id.loc,
                )
                .hint = Some("one of week, month, quarter, half, year, fiscal_quarter".into());
            }
            return None;
        }
    };
    let delay = tab.parsed(cx, "delay", "bad-duration", Duration::FORMS, |s| {
        Duration::parse(s).ok_or_else(|| format!("`{s}` is not a duration"))
    });
    let mut formats = Vec::new();
    let written = tab.string_list(cx, "formats");
    for f in &written {
        match PackFormat::from_name(&f.value) {
            Some(x) if !formats.contains(&x) => formats.push(x),
            Some(_) => {
                cx.error(
                    "duplicate",
                    format!("format `{}` is listed twice", f.value),
                    &f.loc,
                );
            }
            None => {
                let names = PackFormat::NAMES.map(|(n, _)| n);
                cx.error("bad-value", format!("`{}` is not a pack format", f.value), &f.loc)
                    .hint = Some(
                    suggestion(&f.value, names.iter().copied())
                        .unwrap_or_else(|| format!("accepted values: {}", names.join(", "))),
                );
            }
        }
    }
    if !tab.has("formats") {
        formats = vec![PackFormat::Html, PackFormat::Pdf];
    } else if written.is_empty() {
        let loc = tab.value_loc(cx, "formats");
        cx.error("bad-value", "a review needs at least one format", &loc)
            .hint = Some("e.g. formats = [\"pdf\", \"xlsx\"]".into());
    }
    let folder = tab.string(cx, "folder");
    if let Some(f) = &folder {
        let path = std::path::Path::new(&f.value);
        let escapes = path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir));
        if f.value.trim().is_empty() || escapes {
            cx.error(
                "bad-value",
                format!("folder `{}` must be a path inside the project", f.value),
                &f.loc,
            )
            .hint = Some("e.g. folder = \"reviews\" (written to PROJECT/reviews/)".into());
        }
    }
    let webhook = super::alert::read_webhook(cx, tab);
    Some(Review {
        name: tab.text(cx, "name"),
        scope: tab.string(cx, "scope"),
        every,
        delay,
        formats,
        folder,
        webhook,
        parties: tab.string_list(cx, "parties"),
        id,
    })
}
