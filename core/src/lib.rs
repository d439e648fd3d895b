pub mod model; pub mod text; pub mod matcher; pub mod anchor; pub mod export; pub mod import;
pub mod outbox;
