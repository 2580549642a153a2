//! Evaluation on an Apache DataFusion Ballista cluster.
//!
//! The engine plans every query as it does locally; with a session from
//! [`remote_session`], DataFusion hands each plan to Ballista's scheduler,
//! which splits it into stages and runs them on executors. Our functions
//! (`ys_instant`, period buckets, the exact percentile, exact `date_part`,
//! the typing conversions) are not known to a stock scheduler or executor:
//! they travel inside the plan through [`codec`], and [`process`] runs a
//! scheduler and executors that decode them (`yardstick cluster scheduler`,
//! `yardstick cluster executor`).
//!
//! Sources must be files every executor can read at the same path (shared
//! storage); rows held in memory (stored sources) cannot travel.

pub mod codec;
pub mod process;

use std::sync::Arc;

use ballista::prelude::SessionContextExt;
use ballista_core::extension::SessionConfigExt;
use datafusion::error::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

/// The scheduler's address from `ballista://HOST:PORT` (or `df://…`).
pub fn scheduler_url(engine: &str) -> Result<String, String> {
    let rest = engine
        .strip_prefix("ballista://")
        .or_else(|| engine.strip_prefix("df://"))
        .ok_or_else(|| format!("`{engine}` is not an engine; write `ballista://HOST:PORT` (or `local`)"))?;
    let (host, port) = rest
        .trim_end_matches('/')
        .rsplit_once(':')
        .ok_or_else(|| format!("`{engine}` has no port; a scheduler listens on 50050 by default"))?;
    let port: u16 = port
        .parse()
        .map_err(|_| format!("`{port}` in `{engine}` is not a port"))?;
    if host.is_empty() {
        return Err(format!("`{engine}` has no host"));
    }
    Ok(format!("df://{host}:{port}"))
}

/// Why a cluster session cannot be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterError {
    /// The engine is not written `ballista://HOST:PORT`.
    BadEngine(String),
    /// Nothing answers at the scheduler's address.
    Unreachable(String),
}

impl ClusterError {
    /// The diagnostic code.
    pub fn code(&self) -> &'static str {
        match self {
            ClusterError::BadEngine(_) => "bad-engine",
            ClusterError::Unreachable(_) => "unreachable-cluster",
        }
    }
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterError::BadEngine(m) | ClusterError::Unreachable(m) => f.write_str(m),
        }
    }
}

/// A project session (its zone, our functions) whose queries run on the
/// Ballista scheduler at `engine` (`ballista://HOST:PORT`). The scheduler
/// must answer now: a cluster that is down is said once, not per query.
pub async fn remote_session(engine: &str, tz: chrono_tz::Tz) -> Result<SessionContext, ClusterError> {
    let url = scheduler_url(engine).map_err(ClusterError::BadEngine)?;
    let addr = url.trim_start_matches("df://").to_string();
    let unreachable = |why: String| {
        ClusterError::Unreachable(format!(
            "cannot reach the cluster's scheduler at {addr} (`{engine}`): {why}; start one with `yardstick cluster scheduler`"
        ))
    };
    match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::net::TcpStream::connect(&addr),
    )
    .await
    {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(unreachable(e.to_string())),
        Err(_) => return Err(unreachable("no answer in 5 s".into())),
    }
    let config = yardstick_engine::sources::session_config(tz)
        .with_ballista_logical_extension_codec(Arc::new(codec::LogicalCodec::default()))
        .with_ballista_physical_extension_codec(Arc::new(codec::PhysicalCodec::default()));
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    let ctx = SessionContext::remote_with_state(&url, state)
        .await
        .map_err(|e: DataFusionError| unreachable(e.to_string()))?;
    yardstick_engine::sources::with_functions(&ctx, tz);
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_url_names_a_scheduler() {
        assert_eq!(
            scheduler_url("ballista://127.0.0.1:50050").as_deref(),
            Ok("df://127.0.0.1:50050")
        );
        assert_eq!(
            scheduler_url("df://sched.internal:7000/").as_deref(),
            Ok("df://sched.internal:7000")
        );
        assert!(scheduler_url("http://x:1").is_err());
        assert!(scheduler_url("ballista://x").is_err());
        assert!(scheduler_url("ballista://:50050").is_err());
    }
}
