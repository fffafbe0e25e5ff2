//! The pages, one module each.

pub mod audit;
pub mod chains;
pub mod directory;
pub mod groups;
pub mod integrations;
pub mod login;
pub mod pending;
pub mod policies;
pub mod reminders;
pub mod reports;
pub mod settings;
pub mod workflow;
