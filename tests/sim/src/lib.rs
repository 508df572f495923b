//! Simulators of Workday (SOAP + REST) and Zendesk (Support API + webhooks) that speak the real wire formats.
//!
//! They are the test double and the demo universe, not the product. They never share wire code with the
//! server: every envelope, JSON shape and signature here is written from the published formats on its own.

pub mod workday;
pub mod zendesk;
