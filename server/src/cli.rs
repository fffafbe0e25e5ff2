//! The command line: `escalator serve | migrate | tick | demo`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Escalator: watches pending approval workflows, reminds before SLA deadlines and
/// escalates up a chain when they pass.
#[derive(Debug, Parser)]
#[command(name = "escalator", version, about)]
pub struct Cli {
    /// Database URL: `sqlite:PATH` (default: escalator.db next to the binary) or `postgres://…`.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Optional TOML configuration file (see README, "Configuration").
    #[arg(long, global = true, env = "ESCALATOR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format: `text` (default) or `json`.
    #[arg(long, global = true, env = "ESCALATOR_LOG_FORMAT")]
    pub log_format: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serves the UI, the REST API and metrics, and runs the scheduled jobs.
    Serve {
        /// Address to listen on (default 127.0.0.1:3000).
        #[arg(long, env = "ESCALATOR_LISTEN")]
        listen: Option<SocketAddr>,
    },
    /// Applies database migrations and exits.
    Migrate,
    /// Runs one escalation tick now and prints its summary.
    Tick {
        /// Print one JSON object instead of a sentence.
        #[arg(long)]
        json: bool,
    },
    /// Loads demo data (departments, users, a policy, a chain, workflows); safe to repeat.
    Demo,
}
