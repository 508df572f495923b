//! The WebAssembly plugin host (wasmtime, component model).
//!
//! - A plugin is compiled once (at upload) into a [`Compiled`]: the component, its `MapperPre` (imports resolved
//!   and the `mapper` world's exports type-checked once) and the serialized native artifact, which the caller
//!   stores keyed by content hash and engine fingerprint with a MAC ([`PluginHost::seal`]). Later loads
//!   deserialize only artifacts whose MAC verifies ([`PluginHost::load_artifact`]).
//! - Every call gets a fresh `Store` and instance from the reused `MapperPre`, an empty WASI context and a
//!   memory cap. It runs asynchronously on the host's own small runtime ([`runtime`]), behind a semaphore sized
//!   like the pooling allocator, under a timeout of its deadline: the guest yields at every epoch tick and every
//!   WASI function it can call is asynchronous, so a call ends at its deadline whether the guest spins or sleeps
//!   in a host call, and its instance and slot are free again then ([`call`]).
//! - Each call's outcome is counted in `mlc_plugin_calls_total{outcome}`.

mod bindings;
mod call;
pub mod engine;
pub mod limits;
mod runtime;
mod sandbox;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mlc_artifact_loader::{ArtifactKey, LoadError};
use serde::Serialize;
use sha2::Digest as _;
use utoipa::ToSchema;
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use self::bindings::MapperPre;
use self::call::{Job, WitInput, Work};
use self::engine::EpochTicker;
use self::limits::PluginLimits;
use self::runtime::CallRuntime;
use self::sandbox::Sandbox;
use super::config::PluginsConfig;
use super::input::Sample;
use super::write::FieldWrite;

/// Why an upload was refused. Every message says what is wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Bigger than `plugins.max_upload_bytes`.
    #[error(
        "the upload is {size} bytes; plugins may be at most {limit} bytes (plugins.max_upload_bytes)"
    )]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Not a WebAssembly component of the `mapper` world.
    #[error("{0}")]
    Invalid(String),
    /// The host could not compile (resource failure, not the plugin's fault).
    #[error("the plugin host failed: {0}")]
    Host(String),
}

/// Why a plugin call produced no writes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, ToSchema)]
#[serde(tag = "outcome", content = "message", rename_all = "snake_case")]
pub enum CallFailure {
    /// The plugin returned `err(reason)`.
    #[error("the plugin refused: {0}")]
    Error(String),
    /// The plugin trapped (panic, unreachable, stack overflow, out-of-bounds access...).
    #[error("the plugin trapped: {0}")]
    Trap(String),
    /// The plugin ran past its deadline and was stopped.
    #[error("the plugin was stopped at its deadline of {0} ms")]
    Deadline(u64),
    /// The plugin asked for more memory than its cap and was stopped.
    #[error("the plugin hit its memory limit of {0} bytes")]
    MemoryLimit(u64),
    /// The output broke a limit or a rule (too many writes, too much text, a value that does not fit).
    #[error("the plugin's output was rejected: {0}")]
    InvalidOutput(String),
    /// The input was larger than `plugins.max_input_bytes`.
    #[error("the input is {0} bytes, over the plugin input limit")]
    InputTooLarge(usize),
    /// The plugin could not be loaded or run (host-side failure).
    #[error("the plugin is unavailable: {0}")]
    Unavailable(String),
    /// The host had no free instance slot (pooling allocator capacity). Not the plugin's fault; the pool is sized
    /// so that this does not happen, and it is reported apart from traps if it ever does.
    #[error("the plugin host is at capacity: {0}")]
    Busy(String),
}

impl CallFailure {
    /// The metric label / short outcome name.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Error(_) => "error",
            Self::Trap(_) => "trap",
            Self::Deadline(_) => "deadline",
            Self::MemoryLimit(_) => "memory_limit",
            Self::InvalidOutput(_) => "invalid_output",
            Self::InputTooLarge(_) => "input_too_large",
            Self::Unavailable(_) => "unavailable",
            Self::Busy(_) => "busy",
        }
    }
}

/// A plugin ready to run: the reused pre-instance of one component.
#[derive(Clone)]
pub struct Loaded {
    /// SHA-256 of the component bytes (hex).
    pub sha256: String,
    pre: MapperPre<Sandbox>,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

/// The result of compiling an upload: ready to run, and the native artifact to store.
#[derive(Debug)]
pub struct Compiled {
    /// The runnable plugin.
    pub loaded: Loaded,
    /// `Component::serialize` output.
    pub artifact: Vec<u8>,
    /// Seconds spent compiling.
    pub compile_time: Duration,
}

/// The plugin host. Cheap to clone.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    linker: Linker<Sandbox>,
    config: PluginsConfig,
    key: ArtifactKey,
    fingerprint: String,
    slots: Arc<tokio::sync::Semaphore>,
    compile_gate: tokio::sync::Semaphore,
    cache: std::sync::Mutex<LoadedCache>,
    runtime: CallRuntime,
    _ticker: EpochTicker,
}

/// What the plugin host holds right now: calls in flight and the pooling allocator's live instances and slots.
/// All zero when no call is running (nothing leaks past a call's end, whatever the plugin did).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PoolUsage {
    /// Calls holding a concurrency slot (at most `plugins.max_concurrent_calls`).
    pub calls: usize,
    /// Live component instances.
    pub component_instances: u64,
    /// Live core instances.
    pub core_instances: u64,
    /// Linear memories in use.
    pub memories: usize,
    /// Tables in use.
    pub tables: usize,
    /// Fiber stacks in use.
    pub stacks: usize,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost")
            .field("fingerprint", &self.inner.fingerprint)
            .finish_non_exhaustive()
    }
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

impl PluginHost {
    /// Builds the engine and linker and starts the epoch ticker. `key` authenticates stored artifacts.
    pub fn new(config: &PluginsConfig, key: ArtifactKey) -> Result<Self, UploadError> {
        if let Err((k, m)) = config.validate() {
            return Err(UploadError::Host(format!(
                "invalid configuration `{k}`: {m}"
            )));
        }
        let host_err = |what: &str, e: wasmtime::Error| UploadError::Host(format!("{what}: {e:#}"));
        let engine =
            engine::build(config).map_err(|e| host_err("creating the wasmtime engine", e))?;
        let mut linker = Linker::new(&engine);
        // Asynchronous WASI: a guest that sleeps or polls waits on a timer, never on a thread.
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| host_err("linking WASI", e))?;
        let ticker = EpochTicker::start(&engine, Duration::from_millis(config.epoch_tick_ms))
            .map_err(|e| UploadError::Host(format!("starting the epoch ticker: {e}")))?;
        let runtime = CallRuntime::start(CallRuntime::threads_for(config.max_concurrent_calls))
            .map_err(|e| UploadError::Host(format!("starting the plugin runtime: {e}")))?;
        let fingerprint = engine::fingerprint(&engine);
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                config: config.clone(),
                key,
                fingerprint,
                slots: Arc::new(tokio::sync::Semaphore::new(
                    config.max_concurrent_calls as usize,
                )),
                compile_gate: tokio::sync::Semaphore::new(1),
                cache: std::sync::Mutex::new(LoadedCache::default()),
                runtime,
                _ticker: ticker,
            }),
        })
    }

    /// The process limits.
    pub fn config(&self) -> &PluginsConfig {
        &self.inner.config
    }

    /// The engine fingerprint artifacts are keyed by.
    pub fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    /// Calls in flight and the pooling allocator's live instances, memories, tables and stacks.
    pub fn usage(&self) -> PoolUsage {
        let calls = (self.inner.config.max_concurrent_calls as usize)
            .saturating_sub(self.inner.slots.available_permits());
        let pool = self.inner.engine.pooling_allocator_metrics();
        PoolUsage {
            calls,
            component_instances: pool.as_ref().map_or(0, |p| p.component_instances()),
            core_instances: pool.as_ref().map_or(0, |p| p.core_instances()),
            memories: pool.as_ref().map_or(0, |p| p.memories()),
            tables: pool.as_ref().map_or(0, |p| p.tables()),
            stacks: pool.as_ref().map_or(0, |p| p.stacks()),
        }
    }

    /// Checks that `bytes` is a component of the `mapper` world that needs nothing the host does not give,
    /// and compiles it. CPU-heavy (seconds for a JavaScript plugin): runs on the blocking pool, one at a time.
    pub async fn compile(&self, bytes: Arc<[u8]>) -> Result<Compiled, UploadError> {
        check_header(&bytes, self.inner.config.max_upload_bytes)?;
        let _gate = self
            .inner
            .compile_gate
            .acquire()
            .await
            .map_err(|_| UploadError::Host("the plugin host is shutting down".into()))?;
        let host = self.clone();
        let compiled = tokio::task::spawn_blocking(move || host.compile_blocking(&bytes))
            .await
            .map_err(|e| UploadError::Host(format!("compilation task failed: {e}")))??;
        self.remember(&compiled.loaded);
        Ok(compiled)
    }

    /// The same, on the current thread (CLI, benches).
    pub fn compile_blocking(&self, bytes: &[u8]) -> Result<Compiled, UploadError> {
        check_header(bytes, self.inner.config.max_upload_bytes)?;
        let started = Instant::now();
        let component = Component::new(&self.inner.engine, bytes).map_err(|e| {
            UploadError::Invalid(format!(
                "the component does not compile: {}",
                root_cause(&e)
            ))
        })?;
        let compile_time = started.elapsed();
        let sha256 = sha256_hex(bytes);
        let loaded = self.prepare(sha256, &component)?;
        let artifact = component
            .serialize()
            .map_err(|e| UploadError::Host(format!("serializing the compiled plugin: {e:#}")))?;
        Ok(Compiled {
            loaded,
            artifact,
            compile_time,
        })
    }

    fn prepare(&self, sha256: String, component: &Component) -> Result<Loaded, UploadError> {
        let instance_pre = self.inner.linker.instantiate_pre(component).map_err(|e| {
            UploadError::Invalid(format!(
                "the component needs imports this host does not provide (plugins get no files, network, \
                 environment or other capabilities): {}",
                root_cause(&e)
            ))
        })?;
        let pre = MapperPre::new(instance_pre).map_err(|e| {
            UploadError::Invalid(format!(
                "the component does not implement world `mapper` of ml-connector:mapper@1.0.0 (exports \
                 map-supplier and map-invoice with the WIT signatures): {}",
                root_cause(&e)
            ))
        })?;
        Ok(Loaded { sha256, pre })
    }

    /// The MAC context of an artifact: engine fingerprint + component hash.
    fn context(&self, sha256: &str) -> Vec<u8> {
        format!("{}\n{sha256}", self.inner.fingerprint).into_bytes()
    }

    /// The MAC tag to store with `artifact` of component `sha256`.
    pub fn seal(&self, sha256: &str, artifact: &[u8]) -> Vec<u8> {
        mlc_artifact_loader::seal(&self.inner.key, &self.context(sha256), artifact).to_vec()
    }

    /// A plugin already loaded in this process.
    pub fn cached(&self, sha256: &str) -> Option<Loaded> {
        self.inner.cache.lock().ok()?.get(sha256)
    }

    fn remember(&self, loaded: &Loaded) {
        if let Ok(mut cache) = self.inner.cache.lock() {
            cache.insert(loaded.clone());
        }
    }

    /// Loads a stored artifact after verifying its MAC (and wasmtime's compatibility check).
    pub async fn load_artifact(
        &self,
        sha256: &str,
        artifact: Vec<u8>,
        tag: Vec<u8>,
    ) -> Result<Loaded, String> {
        let host = self.clone();
        let sha = sha256.to_string();
        let loaded =
            tokio::task::spawn_blocking(move || host.load_artifact_blocking(&sha, &artifact, &tag))
                .await
                .map_err(|e| format!("loading task failed: {e}"))??;
        self.remember(&loaded);
        Ok(loaded)
    }

    /// The same, on the current thread.
    pub fn load_artifact_blocking(
        &self,
        sha256: &str,
        artifact: &[u8],
        tag: &[u8],
    ) -> Result<Loaded, String> {
        let component = mlc_artifact_loader::load(
            &self.inner.engine,
            &self.inner.key,
            &self.context(sha256),
            artifact,
            tag,
        )
        .map_err(|e: LoadError| e.to_string())?;
        self.prepare(sha256.to_string(), &component)
            .map_err(|e| e.to_string())
    }

    /// Runs one mapping call in a fresh instance, within `limits`, on the plugin runtime; returns at the
    /// deadline at the latest (after waiting for a free slot). If the caller stops waiting, the call still ends
    /// by its deadline and is counted.
    pub async fn call(
        &self,
        plugin: &Loaded,
        limits: PluginLimits,
        input: &Sample,
    ) -> Result<Vec<FieldWrite>, CallFailure> {
        let started = Instant::now();
        let size = json_size(input);
        if size > limits.max_input_bytes {
            let refused = Err(CallFailure::InputTooLarge(size));
            call::record(&refused, started);
            return refused;
        }
        let work = Work::Map(Box::new(WitInput::from(input)));
        match self.spawn(plugin, limits, work).await {
            // The job ran and counted itself.
            Ok(result) => result,
            // It never ran, or died: count it here.
            Err(failure) => {
                let result = Err(failure);
                call::record(&result, started);
                result
            }
        }
    }

    /// Instantiates without calling, the same way as [`PluginHost::call`] (benchmarks: the per-call floor).
    /// Not counted in the metrics.
    pub async fn instantiate_only(
        &self,
        plugin: &Loaded,
        limits: PluginLimits,
    ) -> Result<(), CallFailure> {
        self.spawn(plugin, limits, Work::InstantiateOnly)
            .await?
            .map(drop)
    }

    /// Takes a slot and runs `work` as a task on the plugin runtime. The outer error says the job did not run
    /// to its end (shutting down, or the task died); the inner result is the job's.
    async fn spawn(
        &self,
        plugin: &Loaded,
        limits: PluginLimits,
        work: Work,
    ) -> Result<Result<Vec<FieldWrite>, CallFailure>, CallFailure> {
        let permit = self
            .inner
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| CallFailure::Unavailable("the plugin host is shutting down".into()))?;
        let job = Job {
            engine: self.inner.engine.clone(),
            pre: plugin.pre.clone(),
            limits,
            permit,
            work,
        };
        self.inner
            .runtime
            .handle()
            .spawn(job.run())
            .await
            .map_err(|e| CallFailure::Unavailable(format!("the call task failed: {e}")))
    }
}

/// Plugins loaded in this process, by content hash; the least recently loaded are dropped beyond
/// [`LoadedCache::CAPACITY`] (they load again from their stored artifact in milliseconds).
#[derive(Default)]
struct LoadedCache {
    map: std::collections::HashMap<String, Loaded>,
    order: std::collections::VecDeque<String>,
}

impl LoadedCache {
    const CAPACITY: usize = 64;

    fn get(&self, sha256: &str) -> Option<Loaded> {
        self.map.get(sha256).cloned()
    }

    fn insert(&mut self, loaded: Loaded) {
        if self
            .map
            .insert(loaded.sha256.clone(), loaded.clone())
            .is_none()
        {
            self.order.push_back(loaded.sha256);
        }
        while self.order.len() > Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.map.remove(&old);
            }
        }
    }
}

/// The length of `value` as compact JSON (what `serde_json::to_vec` would give), without building it;
/// `usize::MAX` if it does not serialize.
fn json_size(value: &impl Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    match serde_json::to_writer(&mut count, value) {
        Ok(()) => count.0,
        Err(_) => usize::MAX,
    }
}

fn root_cause(err: &wasmtime::Error) -> String {
    truncate(&format!("{err:#}"), 600)
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Refuses what is not a component before spending time on it, with a message that says what it is.
fn check_header(bytes: &[u8], limit: usize) -> Result<(), UploadError> {
    if bytes.len() > limit {
        return Err(UploadError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(UploadError::Invalid(format!(
            "not a WebAssembly binary ({} bytes without the \\0asm header); upload the .wasm component built \
             for ml-connector:mapper@1.0.0",
            bytes.len()
        )));
    }
    if Engine::detect_precompiled(bytes).is_some() {
        return Err(UploadError::Invalid(
            "this is a precompiled wasmtime artifact; upload the .wasm component itself".into(),
        ));
    }
    match &bytes[4..8] {
        [0x01, 0x00, 0x00, 0x00] => Err(UploadError::Invalid(
            "this is a core WebAssembly module, not a component: build it for the wasm32-wasip2 target (Rust), \
             with componentize-js (JavaScript), or wrap it with `wasm-tools component new`"
                .into(),
        )),
        [0x0d, 0x00, 0x01, 0x00] => Ok(()),
        other => Err(UploadError::Invalid(format!(
            "unsupported WebAssembly binary version {other:02x?}; expected a component (0d 00 01 00)"
        ))),
    }
}

/// Derives the artifact MAC key from the vault's master key (HMAC-SHA256 with a fixed label), so that only
/// this deployment's processes can produce artifacts they will load.
pub fn artifact_key(vault: &crate::vault::Vault) -> ArtifactKey {
    ArtifactKey::new(
        vault
            .master_key()
            .derive("ml-connector plugin artifact MAC key v1"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_classified_with_clear_messages() {
        let err = |b: &[u8]| check_header(b, 1024).unwrap_err().to_string();
        assert!(err(b"\0asm\x01\0\0\0").contains("core WebAssembly module"));
        assert!(err(b"hello world, not wasm").contains("not a WebAssembly binary"));
        assert!(err(&[0u8; 2000]).contains("at most 1024 bytes"));
        assert!(check_header(b"\0asm\x0d\0\x01\0", 1024).is_ok());
    }

    #[test]
    fn input_size_is_the_length_of_the_json() {
        let sample = Sample::from_json(
            br#"{"supplier": {"id": "S-1", "name": "Ac\u00e9me \"q\"", "status": "Active", "extra": {"k": "v"}}}"#,
        )
        .unwrap();
        assert_eq!(
            json_size(&sample),
            serde_json::to_vec(&sample).unwrap().len()
        );
    }
}
