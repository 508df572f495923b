//! Black-box tests of the `ml-connector` binary — every test that runs it lives here: configuration errors,
//! tenants, secrets and the vault key, `serve` ([`cli`]); `plugin ...` with the real plugins ([`plugins`]);
//! `check --tenant` against the simulators ([`check`]); `tenant zendesk-oauth` ([`zendesk_oauth`]); `setup` and `mapping`
//! ([`setup`]); `sync` and `audit` against both simulators ([`sync`]); ticket enrichment
//! with webhooks flowing ([`enrich`]); `demo` from start to SIGINT ([`demo`]).

mod support;

mod check;
mod cli;
mod demo;
mod enrich;
mod plugins;
mod setup;
mod sync;
mod zendesk_oauth;
