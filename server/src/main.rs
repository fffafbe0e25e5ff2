//! `escalator`: the server binary. See `escalator --help` and the README.

mod cli;
mod config;
mod http;
mod serve;
mod telemetry;
mod ui;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::Config;
use crate::serve::ServerError;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match load_config(&cli) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("escalator: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log_format);
    match run(cli.command, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "escalator failed");
            eprintln!("escalator: {err}");
            ExitCode::FAILURE
        }
    }
}

fn load_config(cli: &Cli) -> Result<Config, ServerError> {
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(url) = &cli.database_url {
        config.database_url = url.clone();
    }
    if let Some(format) = &cli.log_format {
        config.log_format = format.clone();
    }
    Ok(config)
}

async fn run(command: Command, config: Config) -> Result<(), ServerError> {
    match command {
        Command::Serve { listen } => {
            serve::serve(config.clone(), listen.unwrap_or(config.listen)).await
        }
        Command::Migrate => {
            let store = escalator_storage::connect(&config.database_url).await?;
            store.migrate().await?;
            println!(
                "migrations applied to {}",
                escalator_storage::redact(&config.database_url)
            );
            Ok(())
        }
        Command::Tick { json } => {
            let escalator = serve::engine(&config).await?;
            let summary = escalator.tick().await?;
            if json {
                println!("{}", serde_json::to_string(&summary).unwrap_or_default());
            } else {
                println!(
                    "checked {}, reminded {}, escalated {}, exhausted {}, failed {} in {:.3} s{}",
                    summary.checked,
                    summary.reminded,
                    summary.escalated,
                    summary.exhausted,
                    summary.failed,
                    summary.duration_seconds,
                    if summary.skipped {
                        " (skipped: another replica is ticking)"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        Command::Demo => {
            let escalator = serve::engine(&config).await?;
            let summary = escalator.load_demo().await?;
            println!(
                "demo data loaded into {}: {} departments, {} users, {} workflows created ({} already there)",
                escalator_storage::redact(&config.database_url),
                summary.departments,
                summary.users,
                summary.workflows_created,
                summary.workflows_existing
            );
            Ok(())
        }
    }
}
