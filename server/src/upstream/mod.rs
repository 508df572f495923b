//! What the Workday and Zendesk clients share, written once: refresh-token rotation ([`oauth`]) and the retry
//! policy ([`retry`]). Nothing here knows either upstream; the clients plug in their specifics (token endpoint,
//! errors, token lifetimes), and the application layer plugs in where tokens are kept (`crate::app::tokens`).

pub mod oauth;
pub mod retry;

pub use oauth::{
    IssuedTokens, MemoryTokens, PersistError, RotatingSession, SessionError, TokenGrant, TokenPair,
    TokenPersistence,
};
pub use retry::RetryPolicy;
