//! The `escalator` server: configuration, the HTTP surface (REST API, metrics, health,
//! UI) and the wiring that runs it with the scheduled jobs. `main.rs` is only the CLI.

pub mod cli;
pub mod config;
pub mod http;
pub mod serve;
pub mod session;
pub mod telemetry;
pub mod ui;
