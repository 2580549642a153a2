//! A scheduler and an executor that know our functions: Ballista's own
//! processes with [`crate::codec`] in place of the stock codec.

use std::net::SocketAddr;
use std::sync::Arc;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;

use crate::codec::{LogicalCodec, PhysicalCodec};

/// Runs a scheduler on `addr` until the process ends.
pub async fn scheduler(addr: SocketAddr) -> Result<(), String> {
    let config = SchedulerConfig {
        bind_host: addr.ip().to_string(),
        bind_port: addr.port(),
        external_host: addr.ip().to_string(),
        scheduling_policy: TaskSchedulingPolicy::PullStaged,
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| e.to_string())?;
    start_server(cluster, addr, Arc::new(config))
        .await
        .map_err(|e| e.to_string())
}

/// Where an executor listens and which scheduler it serves.
#[derive(Debug, Clone)]
pub struct Executor {
    pub scheduler: SocketAddr,
    /// Its Arrow Flight port (shuffle data); gRPC listens on the next one.
    pub bind: SocketAddr,
    /// Tasks run at once (default: the machine's cores).
    pub concurrency: Option<usize>,
    /// Where shuffle files go (default: a temporary folder).
    pub work_dir: Option<String>,
}

/// Runs an executor until the process ends.
pub async fn executor(e: Executor) -> Result<(), String> {
    let defaults = ExecutorProcessConfig::default();
    let config = ExecutorProcessConfig {
        bind_host: e.bind.ip().to_string(),
        external_host: Some(e.bind.ip().to_string()),
        port: e.bind.port(),
        grpc_port: e.bind.port().saturating_add(1),
        scheduler_host: e.scheduler.ip().to_string(),
        scheduler_port: e.scheduler.port(),
        scheduler_connect_timeout_seconds: 30,
        vcores: e.concurrency.unwrap_or(defaults.vcores),
        task_scheduling_policy: TaskSchedulingPolicy::PullStaged,
        work_dir: e.work_dir,
        print_thread_info: false,
        override_logical_codec: Some(Arc::new(LogicalCodec::default())),
        override_physical_codec: Some(Arc::new(PhysicalCodec::default())),
        ..defaults
    };
    start_executor_process(Arc::new(config))
        .await
        .map_err(|e| e.to_string())
}
