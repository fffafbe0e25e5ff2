//! `escalator`: the server binary. See `escalator --help` and the README.

use std::process::ExitCode;

use clap::Parser;
use escalator_engine::directory::UserInput;
use escalator_engine::Actor;
use server::cli::{Cli, Command, OutcomesCommand, TokenCommand, UserCommand};
use server::config::Config;
use server::serve::{self, ServerError};
use server::telemetry;

/// mimalloc instead of glibc's malloc: see the dependency's note in `Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    escalator_domain::sla::zones::use_rules(config.tz_rules);
    match run(cli.command, config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(%err, "escalator failed");
            eprintln!("escalator: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Whoever runs the CLI has the database's credentials: an admin, named `cli` in audit entries.
fn cli_actor() -> escalator_engine::Actor {
    escalator_engine::Actor::internal("cli")
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
        Command::Serve { listen } => serve::serve(config.clone(), listen.unwrap_or(config.listen)).await,
        Command::Migrate => {
            let store = escalator_storage::connect_with(&config.database_url, &config.database()).await?;
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
        Command::Outcomes(OutcomesCommand::Backfill) => {
            let escalator = serve::engine(&config).await?;
            let done = escalator.backfill_outcomes(&Actor::internal("cli")).await?;
            println!(
                "read {} workflows: {} ended stages, {} outcomes written (the rest had one)",
                done.workflows, done.stages, done.written
            );
            Ok(())
        }
        Command::User(UserCommand::Create {
            email,
            name,
            role,
            department,
            manager,
            phone,
            password,
        }) => {
            let escalator = serve::engine(&config).await?;
            let input = UserInput {
                name,
                role,
                department,
                manager,
                phone,
            };
            let (user, created) = escalator.put_user(&email, &input, &Actor::internal("cli")).await?;
            if let Some(password) = password {
                escalator.set_password(user.email.as_str(), &password).await?;
            }
            println!(
                "{} user {} ({})",
                if created { "created" } else { "updated" },
                user.email,
                user.role.as_str()
            );
            Ok(())
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            let escalator = serve::engine(&config).await?;
            let (token, record) = escalator.create_token(&email, &name).await?;
            eprintln!(
                "token {} for {} created; it is shown only once:",
                record.id, record.user
            );
            println!("{token}");
            Ok(())
        }
        Command::Token(TokenCommand::List { email }) => {
            let escalator = serve::engine(&config).await?;
            let tokens = escalator.tokens(email.as_deref(), &cli_actor()).await?;
            for t in tokens {
                let state = t.revoked_at.map_or("live".to_string(), |at| format!("revoked {at}"));
                println!("{}\t{}\t{}\t{}\t{}", t.id, t.user, t.name, t.created_at, state);
            }
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let escalator = serve::engine(&config).await?;
            escalator.revoke_token(id, &cli_actor()).await?;
            println!("token {id} revoked");
            Ok(())
        }
        Command::Openapi => {
            println!("{}", server::http::api::document().to_pretty_json().unwrap_or_default());
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
