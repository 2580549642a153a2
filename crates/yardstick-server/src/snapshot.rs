//! The evaluated state the API serves, and the loop that keeps it fresh.
//!
//! Requests never evaluate: they read the latest [`Snapshot`] (an `Arc`
//! swapped under a short lock), so reads stay fast under load. A refresher
//! on the engine's own runtime rebuilds it when definitions change on disk,
//! when rows are pushed (here or by another process sharing the store), and
//! once a minute (time moves periods along). A definition change that fails
//! `check` keeps the last good project and reports the errors on
//! `/api/v1/health` and in the log. Each rebuild records what changed in the
//! evaluation history.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use yardstick_core::{Diagnostics, Loaded, Project};
use yardstick_engine::consequences::{self, ScoreReport, SlaReport, SloReport};
use yardstick_engine::eval::{EvalOptions, Evaluation};
use yardstick_engine::reconcile::{ReconcileOptions, Reconciliation};
use yardstick_store::{Reported, Store};
use yardstick_workspace::Workspace;

/// Everything the API answers from, as of one evaluation.
#[derive(Debug)]
pub struct Snapshot {
    pub project: Arc<Project>,
    /// The definitions files `project` was loaded from (an accepted
    /// proposal's amendment is a change of one of them).
    pub files: Arc<yardstick_core::SourceMap>,
    pub evaluation: Evaluation,
    pub sla: SlaReport,
    pub scores: ScoreReport,
    pub slo: SloReport,
    /// The catalog this evaluation read (files and stored rows as they
    /// were): breakdowns and explanations run on it, never on the disk of
    /// the moment.
    pub catalog: Arc<yardstick_engine::Catalog>,
    pub evaluated_at: DateTime<Utc>,
    /// Errors of the newest definitions on disk when they failed `check`
    /// (the project above is then the last good one).
    pub definition_errors: Vec<String>,
    /// Evaluation errors (bad data), if the last evaluation failed.
    pub evaluation_error: Option<String>,
    /// The newest pushed batch included in this evaluation.
    pub batch_seq: i64,
    /// How long the evaluation took and what it read again.
    pub cost: EvaluationCost,
    /// Per evaluation row, in order: the row as JSON and its period's
    /// bounds (µs), prepared once so requests only filter and copy.
    pub rows: Vec<PreparedRow>,
    /// Every `[reconcile.ID]` at the same instant, or why it failed
    /// (what parties said about them is read from the store per request:
    /// a resolution shows at once, without a new evaluation).
    pub reconciliations: BTreeMap<String, Result<Reconciliation, String>>,
}

/// What an evaluation cost: its wall time and how it used the one before
/// (see [`yardstick_engine::eval::incremental`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct EvaluationCost {
    pub seconds: f64,
    pub outcome: yardstick_engine::eval::incremental::Outcome,
}

/// An evaluation row ready to serve.
#[derive(Debug)]
pub struct PreparedRow {
    pub json: String,
    pub start: i64,
    pub end: i64,
}

fn prepare_rows(ev: &Evaluation) -> Vec<PreparedRow> {
    ev.evaluations
        .iter()
        .map(|r| PreparedRow {
            json: serde_json::to_string(r).unwrap_or_else(|_| "null".into()),
            start: r.start.timestamp_micros(),
            end: r.end.timestamp_micros(),
        })
        .collect()
}

/// Renders diagnostics as `path:line:col: message` lines.
pub fn diagnostic_lines(loaded: &Loaded, d: &Diagnostics) -> Vec<String> {
    d.iter()
        .filter(|x| x.severity == yardstick_core::Severity::Error)
        .map(|x| match &x.loc {
            Some(loc) => {
                let p = loaded.files.position(loc);
                format!("{}:{}:{}: {} [{}]", p.path, p.line, p.column, x.message, x.code)
            }
            None => format!("{} [{}]", x.message, x.code),
        })
        .collect()
}

/// A fingerprint of the definition files (path, size, mtime).
fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "data" {
                continue;
            }
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
            } else if name.ends_with(".toml") {
                out.push((path, meta.len(), meta.modified().ok()));
            }
        }
    }
    out.sort();
    out
}

/// What triggers a rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Why {
    Start,
    Definitions,
    Data,
    Clock,
}

/// Discrepant records kept per reconciliation period for the API.
const RECONCILIATION_EXAMPLES: usize = 50;

/// (kpi, period, entity as JSON).
type RowKey = (String, String, String);
/// (value, status, complete).
type Recorded = (Option<f64>, Option<String>, bool);

/// The refresher's memory between rebuilds.
pub(crate) struct Refresher {
    dir: PathBuf,
    store: Store,
    /// The project opened once (definitions, stored rows decoded as they
    /// arrive, the catalog), as every front end opens it.
    ws: Workspace,
    /// The workspace's definitions, shared with the snapshots.
    pub(crate) project: Arc<Project>,
    /// The files those definitions were loaded from.
    files: Arc<yardstick_core::SourceMap>,
    fingerprint: Vec<(PathBuf, u64, Option<SystemTime>)>,
    definition_errors: Vec<String>,
    /// A stored batch the opening read could not decode, for the first
    /// snapshot to report.
    unread: Option<String>,
    /// The last recorded (value, status, complete) of each reported row.
    recorded: HashMap<RowKey, Recorded>,
    /// Webhook client for alert notices and issued review packs.
    http: reqwest::Client,
    clock: crate::Clock,
    /// The clock's instant at the last rebuild.
    evaluated_at: DateTime<Utc>,
    /// When the scheduled reviews were last looked at.
    schedule_looked: Option<DateTime<Utc>>,
}

/// Loads and checks the definitions (without data).
pub fn load_checked(dir: &Path) -> Result<Loaded, Vec<String>> {
    let loaded = yardstick_engine::load_dir(dir);
    if loaded.diagnostics.has_errors() {
        return Err(diagnostic_lines(&loaded, &loaded.diagnostics));
    }
    Ok(loaded)
}

impl Refresher {
    /// The first state: definitions must check clean to start.
    pub(crate) async fn start(
        dir: &Path,
        store: Store,
        clock: crate::Clock,
    ) -> Result<Refresher, Vec<String>> {
        let fp = fingerprint(dir);
        let loaded = load_checked(dir)?;
        let project = Arc::new(loaded.project.clone());
        let files = Arc::new(loaded.files.clone());
        let (ws, read) = Workspace::open_on(dir, loaded, &store).await;
        let data = ws.check_data().await;
        if data.has_errors() {
            return Err(diagnostic_lines(ws.loaded(), &data));
        }
        let recorded = store
            .latest_reported()
            .await
            .map_err(|e| vec![e.to_string()])?
            .into_iter()
            .map(|r| ((r.kpi, r.period, r.entity), (r.value, r.status, r.complete)))
            .collect();
        Ok(Refresher {
            dir: dir.to_path_buf(),
            store,
            ws,
            project,
            files,
            fingerprint: fp,
            definition_errors: Vec::new(),
            unread: read.err(),
            recorded,
            http: yardstick_workspace::alerts::client(),
            evaluated_at: clock.now(),
            schedule_looked: None,
            clock,
        })
    }

    /// The server's "now".
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Why a rebuild is due now, if it is.
    pub(crate) async fn due(&mut self, last: SystemTime) -> Option<Why> {
        let elapsed = last.elapsed().unwrap_or_default();
        if fingerprint(&self.dir) != self.fingerprint {
            return Some(Why::Definitions);
        }
        match self.store.latest_seq().await {
            // Under a stream of pushes, evaluate at most every 250 ms: each
            // evaluation then takes in many batches.
            Ok(seq) if seq != self.ws.batch_seq() && elapsed >= Duration::from_millis(250) => {
                return Some(Why::Data);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the state store"),
        }
        // A minute on the server's clock (which a test may move).
        let ticked = (self.now() - self.evaluated_at).to_std().unwrap_or_default();
        if ticked >= Duration::from_secs(60) {
            return Some(Why::Clock);
        }
        None
    }

    /// Rebuilds the snapshot.
    pub(crate) async fn rebuild(&mut self, why: Why) -> Snapshot {
        if why == Why::Definitions {
            self.fingerprint = fingerprint(&self.dir);
            match load_checked(&self.dir) {
                Ok(loaded) => {
                    tracing::info!("definitions reloaded");
                    self.project = Arc::new(loaded.project.clone());
                    self.files = Arc::new(loaded.files.clone());
                    self.definition_errors.clear();
                    // Schemas may have changed: stored rows are decoded afresh.
                    self.ws.set_definitions(loaded);
                }
                Err(errors) => {
                    for e in &errors {
                        tracing::error!(error = %e, "definitions do not check; keeping the last good version");
                    }
                    self.definition_errors = errors;
                }
            }
        }
        // Taken before reading rows: a snapshot evaluated after a push was
        // acknowledged has read that push.
        let now = self.now();
        self.evaluated_at = now;
        let mut evaluation_error = None;
        // Opened just now at the start; afterwards, new batches and files.
        let read = match why {
            Why::Start => self.unread.take().map_or(Ok(()), Err),
            _ => self.ws.refresh(&self.store).await,
        };
        if let Err(e) = read {
            tracing::error!(error = %e, "cannot read stored rows");
            evaluation_error = Some(e);
        }
        let opts = EvalOptions {
            as_of: now,
            from: None,
            to: None,
            kpis: Vec::new(),
            by: None,
            projections: true,
        };
        let p = &*self.project;
        let failed = |msg: String, evaluation_error: &mut Option<String>| {
            tracing::error!(error = %msg, "evaluation failed");
            *evaluation_error = Some(msg);
            Evaluation {
                as_of: now.into(),
                evaluations: Vec::new(),
            }
        };
        // One catalog for the evaluation and the alert rules.
        let started = std::time::Instant::now();
        let evaluated = self.ws.evaluate_incremental(&opts).await;
        let cost = EvaluationCost {
            seconds: started.elapsed().as_secs_f64(),
            outcome: self.ws.incremental_outcome(),
        };
        tracing::debug!(seconds = cost.seconds, outcome = ?cost.outcome, "evaluated");
        let evaluation = match evaluated {
            Ok((_, d)) if d.has_errors() => {
                let msg: Vec<String> = d.iter().map(|x| x.message.clone()).collect();
                failed(msg.join("; "), &mut evaluation_error)
            }
            Ok((ev, _)) => ev,
            Err(e) => failed(e.to_string(), &mut evaluation_error),
        };
        let catalog = self.ws.shared_catalog();
        let mut sla = consequences::sla(p, &evaluation);
        yardstick_engine::why::clauses::name_top_causes(p, &catalog, &mut sla, now).await;
        let scores = consequences::scores(p, &evaluation);
        let slo = consequences::slo(p, &evaluation);
        if evaluation_error.is_none() {
            self.record(&evaluation, now, why).await;
            self.alerts(&catalog, &evaluation, now).await;
        }
        // Scheduled reviews are looked at once a minute of the clock (and at
        // start or on new definitions), not on every rebuild a stream of
        // pushes causes: their periods close on the clock.
        let look = match self.schedule_looked {
            Some(at) => why == Why::Definitions || now - at >= chrono::Duration::seconds(60),
            None => true,
        };
        let p = &*self.project;
        if look && evaluation_error.is_none() && !p.reviews.is_empty() {
            self.schedule_looked = Some(now);
            let stale = yardstick_engine::freshness::stale_sources(p, &catalog, now)
                .await
                .unwrap_or_default();
            let at = yardstick_workspace::schedule::Evaluated {
                project: p,
                catalog: &catalog,
                evaluation: &evaluation,
                sla: &sla,
                scores: &scores,
                stale: &stale,
            };
            yardstick_workspace::schedule::issue_due(&self.dir, &at, &self.store, now, &self.http).await;
        }
        let rows = prepare_rows(&evaluation);
        let reconciliations = self.reconciliations(now).await;
        Snapshot {
            project: self.project.clone(),
            files: self.files.clone(),
            evaluation,
            sla,
            scores,
            slo,
            catalog,
            evaluated_at: now,
            definition_errors: self.definition_errors.clone(),
            evaluation_error,
            batch_seq: self.ws.batch_seq(),
            cost,
            rows,
            reconciliations,
        }
    }

    /// Every reconciliation at `now` (the first records of each kind per
    /// period: the API lists examples, `yardstick reconcile --format csv`
    /// all of them).
    async fn reconciliations(&self, now: DateTime<Utc>) -> BTreeMap<String, Result<Reconciliation, String>> {
        let opts = ReconcileOptions {
            as_of: now,
            period: None,
            limit: Some(RECONCILIATION_EXAMPLES),
        };
        let mut out = BTreeMap::new();
        for id in self.project.reconciles.keys() {
            let r = match self.ws.reconcile(id, &opts).await {
                Ok(Ok(r)) => Ok(r),
                Ok(Err(d)) => Err(d.iter().map(|x| x.message.clone()).collect::<Vec<_>>().join("; ")),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = &r {
                tracing::error!(reconcile = %id, error = %e, "reconciliation failed");
            }
            out.insert(id.clone(), r);
        }
        out
    }

    /// Judges the alert rules on a fresh evaluation and delivers changes.
    async fn alerts(&self, catalog: &yardstick_engine::Catalog, evaluation: &Evaluation, now: DateTime<Utc>) {
        let p = &*self.project;
        if p.alerts.is_empty() {
            return;
        }
        let firing = match yardstick_engine::alerts::evaluate_firing(p, catalog, evaluation, now).await {
            Ok(f) => f,
            Err(e) => {
                tracing::error!(error = %e, "cannot judge the alert rules");
                return;
            }
        };
        if let Err(e) =
            yardstick_workspace::alerts::deliver_changes(p, &self.store, &firing, now, &self.http).await
        {
            tracing::error!(error = %e, "cannot read the alerts' state");
        }
    }

    /// Stores what changed since the last evaluation. On a clock tick only
    /// changes of status or completeness are kept (an ongoing period's
    /// availability moves every minute; its history would be noise).
    async fn record(&mut self, ev: &Evaluation, now: DateTime<Utc>, why: Why) {
        let at = now.timestamp_micros();
        let mut changed = Vec::new();
        for r in &ev.evaluations {
            let entity = r.entity_json();
            let key = (r.kpi.clone(), r.period.clone(), entity);
            let status = r.status.map(|s| s.as_str().to_string());
            let new = (r.value, status, r.complete);
            let differs = match self.recorded.get(&key) {
                None => true,
                Some(old) if why == Why::Clock => old.1 != new.1 || old.2 != new.2,
                Some(old) => *old != new,
            };
            if differs {
                changed.push(Reported {
                    kpi: key.0.clone(),
                    period: key.1.clone(),
                    entity: key.2.clone(),
                    value: new.0,
                    status: new.1.clone(),
                    complete: new.2,
                    evaluated_at: at,
                });
            }
        }
        match self.store.record(&changed).await {
            Ok(()) => {
                for r in changed {
                    self.recorded
                        .insert((r.kpi, r.period, r.entity), (r.value, r.status, r.complete));
                }
            }
            // Not remembered as recorded: the next rebuild tries again.
            Err(e) => tracing::error!(error = %e, "cannot record the evaluation history"),
        }
    }
}
