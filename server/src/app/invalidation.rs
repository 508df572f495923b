//! Changes to what the sync indexes, broadcast in the process ([`super::App::invalidations`]) so that caches
//! (the agent API's) drop what became stale. A slow subscriber misses changes (`Lagged`) rather than slowing
//! the sync down; it should then drop its whole cache.
//!
//! On PostgreSQL, [`run_postgres_bridge`] carries them to the other replicas: this process's changes go out with
//! `NOTIFY` (batched, on a channel named after the database and schema), and the other processes' come in with
//! `LISTEN` and are relayed on [`super::App::remote_invalidations`].

use serde::{Deserialize, Serialize};

use crate::tenant::TenantId;

/// Changes kept for subscribers that fall behind.
pub const CAPACITY: usize = 4096;

/// What kind of object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangedKind {
    /// A supplier (and its organization).
    Supplier,
    /// An indexed invoice (its position, or it left the index).
    Invoice,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    /// Tenant.
    pub tenant: TenantId,
    /// Kind of object.
    pub kind: ChangedKind,
    /// Its Workday ID (`Supplier_ID`, the invoice's index key).
    pub id: String,
}

/// Changes per `NOTIFY` (PostgreSQL limits a payload to 8,000 bytes).
const BATCH: usize = 30;

#[derive(Debug, Serialize, Deserialize)]
struct Notice {
    /// The process that sent it (its own notices are ignored).
    origin: String,
    changes: Vec<Changed>,
}

/// Carries changes between the replicas on one PostgreSQL database until the process ends (see the module
/// documentation). Does nothing on SQLite. A lost connection is re-established by the listener; changes made while
/// it was down reach the other replicas' caches only through their time to live.
pub async fn run_postgres_bridge(app: super::App) {
    if app.store().backend() != crate::store::Backend::Postgres {
        return;
    }
    let channel = match app.store().notify_channel("mlc_changes").await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot name the invalidation channel; replicas will not share cache invalidations");
            return;
        }
    };
    let origin = uuid::Uuid::new_v4().simple().to_string();
    let url = app.config().effective_database_url();
    let mut listener = match sqlx::postgres::PgListener::connect(&url).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(error = %e, "cannot LISTEN; replicas will not share cache invalidations");
            return;
        }
    };
    if let Err(e) = listener.listen(&channel).await {
        tracing::warn!(error = %e, "cannot LISTEN; replicas will not share cache invalidations");
        return;
    }
    let mut local = app.invalidations();
    loop {
        tokio::select! {
            change = local.recv() => match change {
                Ok(first) => {
                    let mut changes = vec![first];
                    while changes.len() < BATCH {
                        match local.try_recv() {
                            Ok(c) => changes.push(c),
                            Err(_) => break,
                        }
                    }
                    let payload = serde_json::to_string(&Notice { origin: origin.clone(), changes })
                        .unwrap_or_default();
                    if let Err(e) = app.store().notify(&channel, &payload).await {
                        tracing::warn!(error = %e, "cannot NOTIFY the other replicas of changes");
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "fell behind the sync's changes; other replicas rely on their caches' time to live");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            notice = listener.recv() => match notice {
                Ok(n) => match serde_json::from_str::<Notice>(n.payload()) {
                    Ok(notice) if notice.origin != origin => {
                        for c in notice.changes {
                            app.announce_remote(c);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "unreadable invalidation notice"),
                },
                Err(e) => {
                    tracing::warn!(error = %e, "LISTEN connection failed; retrying");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            },
        }
    }
}
