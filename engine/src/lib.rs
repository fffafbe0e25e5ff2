//! Escalator's escalation engine: the services that the scheduler, the CLI, the REST
//! API and the UI all call. One tick is [`Escalator::tick`]; delivery of what a tick
//! queues is [`outbox`]; apalis runs both in the server process ([`scheduler`]).

pub mod access;
mod audit;
pub mod auth;
pub mod availability;
pub mod clock;
pub mod deadlines;
pub mod demo;
pub mod directory;
mod error;
mod events;
pub mod groups;
pub mod links;
pub mod metrics;
pub mod notify;
pub mod outbox;
pub mod reports;
pub mod scheduler;
mod service;
mod sessions;
pub mod tick;
pub mod versions;
pub mod workflows;

pub use access::Actor;

pub use error::{EngineError, EngineResult};
pub use metrics::Metrics;

pub use service::{DigestPolicy, EngineConfig, Escalator, Handover};
pub use tick::TickSummary;
