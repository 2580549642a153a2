//! Yardstick's HTTP API (axum): KPIs, evaluations, contracts, scorecards
//! and partnerships as JSON, Prometheus metrics, durable ingestion into
//! stored sources, evaluation history, tokens and partner isolation.
//!
//! Only this crate knows HTTP. [`app`] builds the router from an
//! [`AppState`] (tested with `oneshot`, no socket); [`serve`] binds it with
//! timeouts, a body limit and graceful shutdown. Evaluation runs on an
//! engine runtime of its own, apart from the runtime serving requests, and
//! requests read the latest evaluated [`snapshot::Snapshot`].

pub mod api;
pub mod error;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod snapshot;
pub mod web;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use tokio::sync::{Notify, watch};
use yardstick_core::visibility::{Visible, visible_to};
use yardstick_store::{Role, Store, Token};

pub use api::app;
pub use error::ApiError;
use snapshot::{Refresher, Snapshot, Why};

/// Who is calling: a token's role and, for a party token, what it may see.
#[derive(Debug, Clone)]
pub struct Principal {
    pub token: Token,
    /// `None`: the organisation's own token, which sees everything.
    pub visible: Option<Visible>,
}

/// "an admin", "an editor", "a viewer".
fn with_article(word: &str) -> String {
    let an = word.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {word}", if an { "an" } else { "a" })
}

impl Principal {
    pub fn can_see_kpi(&self, id: &str) -> bool {
        self.visible.as_ref().is_none_or(|v| v.kpis.contains(id))
    }
    pub fn can_see_contract(&self, id: &str) -> bool {
        self.visible.as_ref().is_none_or(|v| v.contracts.contains(id))
    }
    pub fn can_see_partnership(&self, id: &str) -> bool {
        self.visible.as_ref().is_none_or(|v| v.partnerships.contains(id))
    }
    pub fn can_see_scorecard(&self, id: &str) -> bool {
        self.visible.as_ref().is_none_or(|v| v.scorecards.contains(id))
    }
    pub fn can_see_reconciliation(&self, id: &str) -> bool {
        self.visible.as_ref().is_none_or(|v| v.reconciles.contains(id))
    }
    /// Whether this token may push into `source`: the organisation's into
    /// any stored source, a party's only into those it submits.
    pub fn can_push_to(&self, source: &str) -> bool {
        self.visible.as_ref().is_none_or(|v| v.sources.contains(source))
    }
    /// Who wrote, for the audit log: the token, and its party if any.
    pub fn actor(&self) -> String {
        match &self.token.party {
            Some(p) => format!("token:{} party:{p}", self.token.id),
            None => format!("token:{}", self.token.id),
        }
    }
    /// Fails unless the token's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.token.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "this needs {} token; yours is {} token",
                with_article(role.as_str()),
                with_article(self.token.role.as_str())
            )))
        }
    }
}

/// A runtime of its own for DataFusion work (shut down in the background
/// when the state is dropped, so dropping it in async code is fine).
#[derive(Debug)]
struct EngineRuntime(Option<tokio::runtime::Runtime>);

impl Drop for EngineRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    store: Store,
    snapshot: RwLock<Arc<Snapshot>>,
    wake: Notify,
    engine: EngineRuntime,
    started: SystemTime,
    /// Bumped whenever a new snapshot is in place (server-sent events).
    changed: watch::Sender<u64>,
    /// Dashboard sessions: cookie value → the token it stands for.
    sessions: Mutex<HashMap<String, Token>>,
    /// One-time login codes (printed by `serve`) and when they expire.
    login_codes: Mutex<HashMap<String, Instant>>,
}

/// The principal behind a one-time login code: the organisation's console.
fn console_token() -> Token {
    Token {
        id: "console".into(),
        role: Role::Admin,
        party: None,
        created_at: 0,
        revoked_at: None,
    }
}

/// What the server takes as "now": the system's clock, or one a test moves
/// (scheduled reviews fire when a period closes; a test cannot wait a
/// quarter). Evaluations, schedules and the minute tick all read it.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<Mutex<chrono::DateTime<chrono::Utc>>>>);

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stays at `at` until [`Clock::set`] moves it.
    pub fn manual(at: chrono::DateTime<chrono::Utc>) -> Clock {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    /// Moves a manual clock (the system's ignores it).
    pub fn set(&self, at: chrono::DateTime<chrono::Utc>) {
        if let Some(m) = &self.0 {
            match m.lock() {
                Ok(mut t) => *t = at,
                Err(poisoned) => *poisoned.into_inner() = at,
            }
        }
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match &self.0 {
            None => chrono::Utc::now(),
            Some(m) => match m.lock() {
                Ok(t) => *t,
                Err(poisoned) => *poisoned.into_inner(),
            },
        }
    }
}

/// The server's shared state: cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the project does not check:\n{}", .0.join("\n"))]
    Definitions(Vec<String>),
    #[error("{0}")]
    Store(#[from] yardstick_store::StoreError),
    #[error("{0}")]
    Io(String),
}

impl AppState {
    /// Loads the project in `dir` (it must check clean), evaluates it once
    /// and starts the refresher on the engine runtime.
    pub async fn start(dir: &Path, store: Store) -> Result<AppState, StartError> {
        Self::start_with_clock(dir, store, Clock::system()).await
    }

    /// [`AppState::start`] on `clock`.
    pub async fn start_with_clock(dir: &Path, store: Store, clock: Clock) -> Result<AppState, StartError> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("yardstick-engine")
            .enable_all()
            .build()
            .map_err(|e| StartError::Io(format!("cannot start the engine runtime: {e}")))?;
        let dir2 = dir.to_path_buf();
        let store2 = store.clone();
        let (refresher, first) = rt
            .spawn(async move {
                let mut r = Refresher::start(&dir2, store2, clock).await?;
                let first = r.rebuild(Why::Start).await;
                Ok::<_, Vec<String>>((r, first))
            })
            .await
            .map_err(|e| StartError::Io(format!("the engine stopped: {e}")))?
            .map_err(StartError::Definitions)?;
        let inner = Arc::new(Inner {
            dir: dir.to_path_buf(),
            store,
            snapshot: RwLock::new(Arc::new(first)),
            wake: Notify::new(),
            engine: EngineRuntime(Some(rt)),
            started: SystemTime::now(),
            changed: watch::channel(0).0,
            sessions: Mutex::new(HashMap::new()),
            login_codes: Mutex::new(HashMap::new()),
        });
        let state = AppState { inner };
        state.spawn_refresher(refresher);
        Ok(state)
    }

    fn spawn_refresher(&self, mut r: Refresher) {
        let weak = Arc::downgrade(&self.inner);
        let Some(rt) = self.inner.engine.0.as_ref() else {
            return;
        };
        rt.spawn(async move {
            let mut last = SystemTime::now();
            loop {
                let Some(inner) = weak.upgrade() else { return };
                // Woken by a push, or look around every 250 ms.
                let _ = tokio::time::timeout(Duration::from_millis(250), inner.wake.notified()).await;
                drop(inner);
                if let Some(why) = r.due(last).await {
                    let snap = r.rebuild(why).await;
                    last = SystemTime::now();
                    let Some(inner) = weak.upgrade() else { return };
                    if let Ok(mut s) = inner.snapshot.write() {
                        *s = Arc::new(snap);
                    }
                    inner.changed.send_modify(|n| *n += 1);
                }
            }
        });
    }

    /// The latest evaluated state.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.inner.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub fn uptime(&self) -> Duration {
        self.inner.started.elapsed().unwrap_or_default()
    }

    /// Asks the refresher to look now (after a push).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Waits (at most `max`) until the served evaluation includes pushed
    /// batch `seq`; false if it does not by then.
    pub async fn wait_for_batch(&self, seq: i64, max: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + max;
        self.wake();
        while tokio::time::Instant::now() < deadline {
            if self.snapshot().batch_seq >= seq {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    /// A receiver that sees every new snapshot.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    /// Runs `f` on the engine runtime (DataFusion work, off the HTTP threads).
    pub async fn on_engine<F, T>(&self, f: F) -> Result<T, ApiError>
    where
        F: std::future::Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let rt = self
            .inner
            .engine
            .0
            .as_ref()
            .ok_or_else(|| ApiError::Unavailable("the server is shutting down".into()))?;
        rt.spawn(f)
            .await
            .map_err(|e| ApiError::Internal(format!("engine task failed: {e}")))
    }

    /// A one-time login code for the dashboard (valid for a day or one use).
    pub fn new_login_code(&self) -> Result<String, ApiError> {
        let code = yardstick_store::random_hex(16).map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Ok(mut codes) = self.inner.login_codes.lock() {
            codes.insert(code.clone(), Instant::now() + Duration::from_secs(24 * 3600));
        }
        Ok(code)
    }

    /// Exchanges a one-time login code or a bearer token for a session id.
    pub async fn login(&self, secret: &str) -> Result<Option<String>, ApiError> {
        let from_code = match self.inner.login_codes.lock() {
            Ok(mut codes) => codes
                .remove(secret)
                .is_some_and(|expires| expires > Instant::now()),
            Err(_) => false,
        };
        let token = if from_code {
            console_token()
        } else {
            match self.inner.store.authenticate(secret).await? {
                Some(t) => t,
                None => return Ok(None),
            }
        };
        let session = yardstick_store::random_hex(24).map_err(|e| ApiError::Internal(e.to_string()))?;
        if let Ok(mut sessions) = self.inner.sessions.lock() {
            sessions.insert(session.clone(), token);
        }
        Ok(Some(session))
    }

    /// Ends a session.
    pub fn logout(&self, session: &str) {
        if let Ok(mut sessions) = self.inner.sessions.lock() {
            sessions.remove(session);
        }
    }

    /// The principal of a session cookie (its token must still be live).
    pub async fn session_principal(&self, session: &str) -> Result<Option<Principal>, ApiError> {
        let token = match self.inner.sessions.lock() {
            Ok(s) => s.get(session).cloned(),
            Err(_) => None,
        };
        let Some(token) = token else { return Ok(None) };
        if token.id != "console" && !self.inner.store.token_is_live(&token.id).await? {
            self.logout(session);
            return Ok(None);
        }
        Ok(Some(self.principal(token)))
    }

    fn principal(&self, token: Token) -> Principal {
        let visible = token
            .party
            .as_deref()
            .map(|p| visible_to(&self.snapshot().project, p));
        Principal { token, visible }
    }

    /// The principal of a bearer token, if it is a live one.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<Principal>, ApiError> {
        let Some(token) = self.inner.store.authenticate(secret).await? else {
            return Ok(None);
        };
        Ok(Some(self.principal(token)))
    }
}

/// How `serve` listens.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub addr: SocketAddr,
    /// Longest time a request may take before it is answered 408.
    pub request_timeout: Duration,
    /// Largest accepted request body.
    pub body_limit: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            request_timeout: Duration::from_secs(30),
            body_limit: 64 * 1024 * 1024,
        }
    }
}

/// Serves `state` on a bound listener until SIGTERM or Ctrl-C; requests in
/// flight finish before it returns.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    opts: &ServeOptions,
) -> std::io::Result<()> {
    let app: Router = api::app_with(state, opts.request_timeout, opts.body_limit);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
