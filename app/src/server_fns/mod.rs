//! Server functions: thin calls from the pages into the engine, under `/ui/fn/<name>`.
//! Each one resolves the signed-in actor from the session and lets the engine's access
//! rules decide, exactly as the REST API does.

pub mod audit;
pub mod chains;
pub mod directory;
pub mod groups;
pub mod inbox;
pub mod integrations;
pub mod policies;
pub mod reports;
pub mod session;
pub mod settings;
pub mod workflows;
