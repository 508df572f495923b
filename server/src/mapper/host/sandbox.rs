//! What a plugin instance sees: an empty WASI p2 context (no preopened files, no environment or arguments,
//! no network, stdin closed, stdout/stderr discarded) and a memory cap that remembers when it refused.

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::{ClosedInputStream, SinkOutputStream};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::engine::TABLE_ELEMENTS;

/// The store data of one call.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The memory cap of this instance.
    pub limiter: MemoryCap,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// A fresh sandbox whose linear memories may total `memory_limit` bytes.
    pub fn new(memory_limit: u64) -> Self {
        let wasi = WasiCtxBuilder::new()
            .stdin(ClosedInputStream)
            .stdout(SinkOutputStream)
            .stderr(SinkOutputStream)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryCap::new(memory_limit),
        }
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps the total size of an instance's linear memories. A refusal is remembered, so that the trap the guest
/// hits next (an allocation failure usually ends in `unreachable`) is reported as "memory limit".
#[derive(Debug)]
pub struct MemoryCap {
    limit: usize,
    total: usize,
    refused: bool,
}

impl MemoryCap {
    fn new(limit: u64) -> Self {
        Self {
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
            total: 0,
            refused: false,
        }
    }

    /// Whether a growth was refused during this call.
    pub fn refused(&self) -> bool {
        self.refused
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let after = self.total.saturating_sub(current).saturating_add(desired);
        if after > self.limit {
            self.refused = true;
            return Ok(false);
        }
        self.total = after;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= TABLE_ELEMENTS)
    }
}
