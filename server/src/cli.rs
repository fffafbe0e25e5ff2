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
    /// Manages users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manages API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Prints the OpenAPI document of the REST API.
    Openapi,
    /// Manages recorded SLA outcomes.
    #[command(subcommand)]
    Outcomes(OutcomesCommand),
}

/// `escalator outcomes …`
#[derive(Debug, Subcommand)]
pub enum OutcomesCommand {
    /// Rebuilds the SLA outcomes of stages that ended before outcomes were recorded, from
    /// the audit log; stages that have one keep it (safe to repeat).
    Backfill,
}

/// `escalator user …`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Creates or updates a user, optionally setting a password (for the UI).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, department_head, approver or viewer.
        #[arg(long)]
        role: String,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        manager: Option<String>,
        /// Mobile number for SMS, international form (+4915112345678).
        #[arg(long)]
        phone: Option<String>,
        /// At least 8 characters; stored as an argon2 hash.
        #[arg(long, env = "ESCALATOR_USER_PASSWORD")]
        password: Option<String>,
    },
}

/// `escalator token …`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Creates an API token for a user and prints it once.
    Create {
        #[arg(long)]
        email: String,
        /// A label, e.g. the system that will use it.
        #[arg(long)]
        name: String,
    },
    /// Lists tokens (never their secrets).
    List {
        #[arg(long)]
        email: Option<String>,
    },
    /// Revokes a token by id.
    Revoke { id: i64 },
}
