//! `yardstick cluster`: a Ballista scheduler and executors that know our
//! functions, for `eval --engine ballista://HOST:PORT`.

use std::net::SocketAddr;
use std::process::ExitCode;

/// `yardstick cluster`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Run a scheduler: clients send it plans, it hands stages to executors.
    Scheduler {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:50050")]
        addr: SocketAddr,
    },
    /// Run an executor: it runs the scheduler's tasks and serves their results.
    Executor {
        /// The scheduler to serve.
        #[arg(long, default_value = "127.0.0.1:50050")]
        scheduler: SocketAddr,
        /// Arrow Flight address (shuffle data); gRPC listens on the next port.
        #[arg(long, default_value = "127.0.0.1:50051")]
        addr: SocketAddr,
        /// Tasks run at once (default: the machine's cores).
        #[arg(long)]
        concurrency: Option<usize>,
        /// Folder for shuffle files (default: a temporary folder).
        #[arg(long)]
        work_dir: Option<String>,
    },
}

impl Args {
    pub(crate) fn run(self) -> Result<ExitCode, String> {
        let rt = crate::check::runtime()?;
        let result = match self.command {
            Command::Scheduler { addr } => {
                eprintln!("scheduler listening on {addr}");
                rt.block_on(yardstick_cluster::process::scheduler(addr))
            }
            Command::Executor {
                scheduler,
                addr,
                concurrency,
                work_dir,
            } => {
                eprintln!("executor on {addr} serving the scheduler at {scheduler}");
                rt.block_on(yardstick_cluster::process::executor(
                    yardstick_cluster::process::Executor {
                        scheduler,
                        bind: addr,
                        concurrency,
                        work_dir,
                    },
                ))
            }
        };
        result.map(|()| ExitCode::SUCCESS)
    }
}
