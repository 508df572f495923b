//! Field mapping: the declarative mapping ([`declarative`]) and the WebAssembly plugin host with the real and
//! hostile plugins ([`host`]). (The call metrics have their own binary, `plugin_metrics`: the recorder is
//! process-global.)

#[path = "../support/mod.rs"]
mod support;

mod declarative;
mod host;
