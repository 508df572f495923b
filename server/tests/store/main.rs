//! The store on every backend: tenants, sealed secrets and the vault key ([`secrets`]), the enrichment queue
//! ([`queue`]), plugin versions ([`plugins`]), and the application's view of them: tenant contexts and the
//! sealed OAuth tokens ([`context`]); the sync engine's leases, runs, links, audit rows and
//! invoice index ([`sync`]).

#[path = "../support/mod.rs"]
mod support;

mod context;
mod plugins;
mod queue;
mod secrets;
mod sync;
