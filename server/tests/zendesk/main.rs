//! The Zendesk client against the simulator: auth, organizations, fields, tickets, rate limits and retries
//! ([`client`]), and its behaviour under upstream faults and limits ([`robustness`]).

#[path = "../support/mod.rs"]
mod support;

mod client;
mod robustness;
