//! What the integration suites share: fresh databases on every backend ([`db`]), the real application started
//! the way `serve` starts it ([`app`]), waiting for a condition with a deadline ([`wait`]), and the plugin and
//! Zendesk fixtures ([`plugins`], [`zendesk`]). Each suite includes this module and uses what it needs.
#![allow(dead_code, unused_imports)]

pub mod app;
pub mod db;
pub mod plugins;
pub mod wait;
pub mod zendesk;

pub use app::{TestApp, spawn_apps};
pub use db::{TestDb, postgres_db, sqlite_db, test_config, test_dbs};
pub use wait::{wait_for, wait_until};
