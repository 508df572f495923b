//! The Workday client: decoding pages and faults ([`decoder`]) and every operation against the Workday simulator
//! ([`client`]).

mod client;
mod decoder;
