//! The wasmtime configuration, in one place: component model, pooling allocator, epoch interruption, stack
//! limit. Everything about how plugins are compiled and run that is not per call lives here.
//!
//! The pool has room for `max_concurrent_calls` instances of the largest plugin the host accepts: a component
//! that needs more than the per-component maximum of any resource is refused when it is compiled (at upload),
//! and no more than `max_concurrent_calls` calls hold an instance at once (the host's semaphore), so one
//! tenant's plugin can never take the slots another tenant's call needs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, ModuleVersionStrategy, OptLevel,
    PoolingAllocationConfig,
};

use crate::mapper::config::PluginsConfig;

/// Memories one plugin instance may have (a Rust or componentize-js component has one or two).
pub const MEMORIES_PER_INSTANCE: u32 = 4;
/// Tables one plugin instance may have.
const TABLES_PER_INSTANCE: u32 = 8;
/// Core instances one plugin instance may have (main module, WASI adapter, shims).
const CORE_INSTANCES_PER_INSTANCE: u32 = 16;
/// Elements per table: a SpiderMonkey-based component has large function tables.
pub const TABLE_ELEMENTS: usize = 100_000;
/// Native stack the guest may use before it traps (deep recursion). Calls run on fiber stacks of wasmtime's
/// default `async_stack_size` (2 MiB), which leaves the rest for the host functions the guest calls.
const MAX_WASM_STACK: usize = 512 * 1024;

/// Builds the engine every plugin of this process is compiled for and runs on.
pub fn build(config: &PluginsConfig) -> wasmtime::Result<Engine> {
    let n = config.max_concurrent_calls;
    let mut pool = PoolingAllocationConfig::new();
    // Every total is `n` times the per-instance maximum. Slots reserve address space, not memory: a memory slot
    // is committed only as far as the plugin grows it, and returned to the pool when its call ends.
    pool.total_component_instances(n)
        .total_core_instances(n * CORE_INSTANCES_PER_INSTANCE)
        .max_core_instances_per_component(CORE_INSTANCES_PER_INSTANCE)
        .total_memories(n * MEMORIES_PER_INSTANCE)
        .max_memories_per_component(MEMORIES_PER_INSTANCE)
        .total_tables(n * TABLES_PER_INSTANCE)
        .max_tables_per_component(TABLES_PER_INSTANCE)
        .table_elements(TABLE_ELEMENTS)
        // One fiber stack per call in flight (calls are asynchronous).
        .total_stacks(n)
        .max_memory_size(usize::try_from(config.memory_limit_bytes).unwrap_or(usize::MAX));
    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .epoch_interruption(true)
        .max_wasm_stack(MAX_WASM_STACK)
        .cranelift_opt_level(OptLevel::Speed)
        .parallel_compilation(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&wasm)
}

/// A fingerprint of the engine's code-generation settings and wasmtime version: compiled artifacts are only
/// reused by an engine with the same fingerprint.
///
/// `wasmtime{major}-` and 128 bits of the SHA-256 of wasmtime's compatibility hash input (target, compiler
/// flags, tunables, features and the full wasmtime version). SHA-256, not `DefaultHasher`, whose algorithm may
/// change with any Rust release and would then orphan every stored artifact.
pub fn fingerprint(engine: &Engine) -> String {
    use std::hash::Hash as _;
    let mut hasher = Sha256Hasher(sha2::Sha256::default());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest = sha2::Digest::finalize(hasher.0);
    format!(
        "wasmtime{}-{}",
        ModuleVersionStrategy::WasmtimeVersion.as_str(),
        hex::encode(&digest[..16])
    )
}

/// Feeds what a `Hash` implementation writes into SHA-256.
struct Sha256Hasher(sha2::Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        sha2::Digest::update(&mut self.0, bytes);
    }

    fn finish(&self) -> u64 {
        // Not used by the fingerprint (it reads the whole digest); a prefix of the digest so far.
        let digest = sha2::Digest::finalize(self.0.clone());
        u64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"))
    }
}

/// A thread that advances the engine's epoch at a fixed rate; a call's deadline is a number of ticks.
/// Stops when dropped, or when the engine is gone.
#[derive(Debug)]
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine` every `period`.
    pub fn start(engine: &Engine, period: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let weak = engine.weak();
        let flag = stop.clone();
        let handle = std::thread::Builder::new()
            .name("mlc-plugin-epoch".into())
            .spawn(move || {
                let mut next = Instant::now();
                while !flag.load(Ordering::Relaxed) {
                    next += period;
                    let now = Instant::now();
                    if next > now {
                        std::thread::sleep(next - now);
                    } else {
                        // Fell behind (machine suspended or overloaded): tick now and restart the schedule.
                        next = now;
                    }
                    match weak.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_names_the_wasmtime_version_and_is_stable() {
        let config = PluginsConfig {
            max_concurrent_calls: 1,
            ..PluginsConfig::default()
        };
        let a = fingerprint(&build(&config).unwrap());
        let b = fingerprint(&build(&config).unwrap());
        assert_eq!(a, b);
        let (version, hash) = a.split_once('-').unwrap();
        assert_eq!(
            version,
            format!(
                "wasmtime{}",
                ModuleVersionStrategy::WasmtimeVersion.as_str()
            )
        );
        assert_eq!(hash.len(), 32, "{a}");
        assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{a}");
    }
}
