//! Changes to what the sync indexes, broadcast in the process ([`super::App::invalidations`]) so that caches
//! (the agent API's) drop what became stale. A slow subscriber misses changes (`Lagged`) rather than slowing
//! the sync down; it should then drop its whole cache.

use serde::Serialize;

use crate::tenant::TenantId;

/// Changes kept for subscribers that fall behind.
pub const CAPACITY: usize = 4096;

/// What kind of object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangedKind {
    /// A supplier (and its organization).
    Supplier,
    /// An indexed invoice (its position, or it left the index).
    Invoice,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changed {
    /// Tenant.
    pub tenant: TenantId,
    /// Kind of object.
    pub kind: ChangedKind,
    /// Its Workday ID (`Supplier_ID`, the invoice's index key).
    pub id: String,
}
