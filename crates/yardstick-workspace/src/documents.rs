//! Documents as every front end renders them: an agreement's KPI appendix
//! with the signatures the store holds, and the project's KPI catalogue
//! (`core::appendix` for the content, `yardstick-docs` for the formats).

use yardstick_core::Project;
use yardstick_core::appendix::{Appendix, appendix, catalogue};
pub use yardstick_docs::Format;
use yardstick_docs::{DocError, Signed};

use crate::agreements::Agreement;

/// A time as the documents show it: `2026-12-02 14:05 UTC`.
pub fn shown(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// The appendix of `agreement` (its terms as the definitions say now, the
/// signatures recorded) and who has yet to sign these terms.
pub fn appendix_of(project: &Project, agreement: &Agreement) -> Option<(Appendix, Vec<Signed>, Vec<String>)> {
    let a = appendix(project, &agreement.terms.id)?;
    let signed = agreement
        .signatures
        .iter()
        .map(|s| Signed {
            party: s.party.clone(),
            at: shown(s.signed_at),
            fingerprint: s.fingerprint.clone(),
            current: s.fingerprint == a.fingerprint,
        })
        .collect();
    Some((a, signed, agreement.unsigned.clone()))
}

/// The appendix of `agreement` rendered in `format`, generated at `now`.
pub fn render_appendix(
    project: &Project,
    agreement: &Agreement,
    format: Format,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<Result<Vec<u8>, DocError>> {
    let (a, signed, unsigned) = appendix_of(project, agreement)?;
    let generated = now.format("%Y-%m-%d %H:%M UTC").to_string();
    Some(yardstick_docs::appendix(
        &a, &signed, &unsigned, &generated, format,
    ))
}

/// The project's KPI catalogue rendered in `format`.
pub fn render_catalogue(
    project: &Project,
    format: Format,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<u8>, DocError> {
    let generated = now.format("%Y-%m-%d %H:%M UTC").to_string();
    yardstick_docs::catalogue(
        &project.settings.name,
        &yardstick_core::appendix::calendar_words(project),
        &catalogue(project),
        &generated,
        format,
    )
}
