//! Scheduled reviews (`[review.ID]`): once a review's period has closed
//! and its delay for late data has passed, its pack is written from the
//! evaluation of that moment, kept in the store with its as-of instant,
//! written into the review's folder and announced to its webhook.
//!
//! Each look issues the latest due period only: a server started long
//! after a period closed issues that period's pack, not every one before
//! it. The store's unique (review, period, party, format) is what makes a
//! pack issue once — a restart, or a second server on the same store,
//! finds it issued. A pack lists the values restated since the previous
//! pack of the same schedule (and party) was issued.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde_json::json;
use yardstick_core::Project;
use yardstick_core::model::review::{PackFormat, Review};
use yardstick_core::visibility::visible_to;
use yardstick_engine::Catalog;
use yardstick_engine::consequences::{ScoreReport, SlaReport};
use yardstick_engine::eval::Evaluation;
use yardstick_engine::freshness::Stale;
use yardstick_store::{NewPack, Pack, Store};

use crate::review::{Inputs, build, gather};

/// The evaluated state a pack is written from (the server's snapshot).
#[derive(Debug, Clone, Copy)]
pub struct Evaluated<'a> {
    pub project: &'a Project,
    pub catalog: &'a Catalog,
    pub evaluation: &'a Evaluation,
    pub sla: &'a SlaReport,
    pub scores: &'a ScoreReport,
    pub stale: &'a [Stale],
}

/// Packs issued by one look.
#[derive(Debug, Clone)]
pub struct Issued {
    pub review: String,
    pub period: String,
    pub party: Option<String>,
    pub packs: Vec<Pack>,
}

/// The name a pack's file gets in a review's folder:
/// `ID-PERIOD[-PARTY].EXT`, the party reduced to letters, digits and `-`.
pub fn file_name(review: &str, period: &str, party: Option<&str>, format: &str) -> String {
    let party = party
        .map(|p| {
            let slug: String = p
                .trim()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            format!("-{slug}")
        })
        .unwrap_or_default();
    format!("{review}-{period}{party}.{format}")
}

/// Issues every pack due at `now` that is not issued yet, and tells the
/// webhooks of packs not yet announced. Failures are logged and tried
/// again at the next look; what was issued is returned.
pub async fn issue_due(
    dir: &Path,
    at: &Evaluated<'_>,
    store: &Store,
    now: DateTime<Utc>,
    http: &reqwest::Client,
) -> Vec<Issued> {
    let p = at.project;
    if p.reviews.is_empty() {
        return Vec::new();
    }
    let known = match store.packs().await {
        Ok(k) => k,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the issued review packs");
            return Vec::new();
        }
    };
    let cal = p.settings.calendar();
    let mut issued = Vec::new();
    for r in p.reviews.values() {
        let due = r.due(&cal, now);
        let label = cal.label(&due);
        let audiences: Vec<Option<&str>> = if r.parties.is_empty() {
            vec![None]
        } else {
            r.parties.iter().map(|x| Some(x.value.as_str())).collect()
        };
        for party in audiences {
            let mine = |k: &&Pack| k.review == r.id.value && k.party.as_deref() == party;
            let have: BTreeSet<&str> = known
                .iter()
                .filter(mine)
                .filter(|k| k.period == label)
                .map(|k| k.format.as_str())
                .collect();
            if r.formats.iter().all(|f| have.contains(f.name())) {
                continue;
            }
            let previous = known
                .iter()
                .filter(mine)
                .filter(|k| k.period != label)
                .map(|k| k.as_of)
                .max();
            match issue(dir, at, store, r, &label, &due, party, previous).await {
                Ok(Some(x)) => issued.push(x),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(review = %r.id.value, period = %label, error = %e, "cannot issue the review pack; trying again at the next look")
                }
            }
        }
    }
    announce(p, store, http).await;
    issued
}

/// Writes, stores and files one pack.
#[allow(clippy::too_many_arguments)]
async fn issue(
    dir: &Path,
    at: &Evaluated<'_>,
    store: &Store,
    r: &Review,
    label: &str,
    due: &yardstick_core::Period,
    party: Option<&str>,
    previous: Option<i64>,
) -> Result<Option<Issued>, String> {
    let p = at.project;
    let as_of = at.evaluation.as_of.utc();
    let scope = r.scope_of(p);
    let visible = party.map(|x| visible_to(p, x));
    let gathered = gather(
        p,
        at.catalog,
        at.evaluation,
        Some(store),
        &scope,
        due,
        visible.as_ref(),
    )
    .await
    .map_err(|e| e.to_string())?;
    let restated = match previous {
        Some(since) => store
            .restatements()
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|x| x.restated_at > since)
            .collect(),
        None => Vec::new(),
    };
    let inputs = Inputs {
        project: p,
        evaluation: at.evaluation,
        sla: at.sla,
        scores: at.scores,
        stale: at.stale,
        agreements: &gathered.agreements,
        actions: &gathered.actions,
        visible: visible.as_ref(),
        restated: &restated,
        causes: &gathered.causes,
        reconciliations: &gathered.reconciliations,
        restated_since: previous.and_then(DateTime::from_timestamp_micros),
    };
    let mut review = build(&inputs, &scope, due, label);
    if let Some(name) = &r.name {
        review.title = format!("{}: {name}, {label}", p.settings.name);
    }
    if let Some(x) = party {
        review.title = format!("{} (for {x})", review.title);
    }
    let generated = as_of.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut bodies = Vec::new();
    for f in &r.formats {
        let body = yardstick_docs::review::pack(&review, &generated, *f).map_err(|e| e.to_string())?;
        bodies.push((*f, body));
    }
    let formats: Vec<NewPack<'_>> = bodies
        .iter()
        .map(|(f, b)| NewPack {
            format: f.name(),
            body: b,
        })
        .collect();
    let packs = store
        .issue_pack(&r.id.value, label, party, as_of.timestamp_micros(), &formats)
        .await
        .map_err(|e| e.to_string())?;
    if packs.is_empty() {
        return Ok(None);
    }
    tracing::info!(review = %r.id.value, period = %label, party = party.unwrap_or(""), "review pack issued");
    if let Some(folder) = &r.folder {
        write_files(
            &dir.join(&folder.value),
            &r.id.value,
            label,
            party,
            &bodies,
            &packs,
        );
    }
    Ok(Some(Issued {
        review: r.id.value.clone(),
        period: label.to_string(),
        party: party.map(str::to_string),
        packs,
    }))
}

/// Writes the formats just issued into the review's folder.
fn write_files(
    folder: &Path,
    review: &str,
    period: &str,
    party: Option<&str>,
    bodies: &[(PackFormat, Vec<u8>)],
    packs: &[Pack],
) {
    if let Err(e) = std::fs::create_dir_all(folder) {
        tracing::error!(folder = %folder.display(), error = %e, "cannot create the review folder; the pack is in the store");
        return;
    }
    for (f, body) in bodies {
        if !packs.iter().any(|p| p.format == f.name()) {
            continue;
        }
        let path = folder.join(file_name(review, period, party, f.name()));
        if let Err(e) = std::fs::write(&path, body) {
            tracing::error!(path = %path.display(), error = %e, "cannot write the review pack; it is in the store");
        }
    }
}

/// Tells each review's webhook about its packs not yet announced (one
/// notice per review, period and party); a failed delivery is tried again
/// at the next look.
async fn announce(p: &Project, store: &Store, http: &reqwest::Client) {
    let waiting = match store.packs().await {
        Ok(all) => all
            .into_iter()
            .filter(|k| k.notified_at.is_none())
            .collect::<Vec<_>>(),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the issued review packs");
            return;
        }
    };
    let mut groups: Vec<(&str, &str, Option<&str>)> = waiting
        .iter()
        .map(|k| (k.review.as_str(), k.period.as_str(), k.party.as_deref()))
        .collect();
    groups.dedup();
    for (review, period, party) in groups {
        let Some(r) = p.reviews.get(review) else { continue };
        let url = match crate::alerts::webhook_url(r.webhook.as_ref()) {
            Ok(Some(u)) => u,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(review, error = %e, "review pack not announced");
                continue;
            }
        };
        let packs: Vec<&Pack> = waiting
            .iter()
            .filter(|k| k.review == review && k.period == period && k.party.as_deref() == party)
            .collect();
        let body = notice(p, r, period, party, &packs);
        match crate::alerts::post(http, &url, &body).await {
            Ok(()) => {
                let ids: Vec<i64> = packs.iter().map(|k| k.id).collect();
                if let Err(e) = store.packs_notified(&ids).await {
                    tracing::error!(review, error = %e, "cannot remember that the pack was announced");
                }
            }
            Err(e) => {
                tracing::warn!(review, period, error = %e, "review pack not announced; trying again at the next look")
            }
        }
    }
}

/// The JSON a review's webhook receives: which pack, and where each
/// format is downloaded (paths of the server's API).
fn notice(p: &Project, r: &Review, period: &str, party: Option<&str>, packs: &[&Pack]) -> serde_json::Value {
    let as_of = packs
        .first()
        .and_then(|k| DateTime::from_timestamp_micros(k.as_of))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    json!({
        "project": p.settings.name,
        "review": r.id.value,
        "name": r.name,
        "period": period,
        "party": party,
        "as_of": as_of,
        "packs": packs.iter().map(|k| json!({
            "id": k.id,
            "format": k.format,
            "bytes": k.bytes,
            "url": format!("/api/v1/reviews/issued/{}", k.id),
        })).collect::<Vec<_>>(),
    })
}
