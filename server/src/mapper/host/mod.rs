//! The WebAssembly plugin host (wasmtime, component model).
//!
//! - A plugin is compiled once (at upload) into a [`Compiled`]: the component, its `MapperPre` (imports resolved
//!   and the `mapper` world's exports type-checked once) and the serialized native artifact, which the caller
//!   stores keyed by content hash and engine fingerprint with a MAC ([`PluginHost::seal`]). Later loads
//!   deserialize only artifacts whose MAC verifies ([`PluginHost::load_artifact`]).
//! - Every call gets a fresh `Store` and instance from the reused `MapperPre`, an empty WASI context, a memory
//!   cap and an epoch deadline, and runs on the blocking thread pool behind a semaphore sized like the pooling
//!   allocator, so a hostile plugin holds one thread for at most its deadline and never an async worker.
//! - Each call's outcome is counted in `mlc_plugin_calls_total{outcome}`.

mod bindings;
pub mod engine;
pub mod limits;
mod sandbox;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mlc_artifact_loader::{ArtifactKey, LoadError};
use serde::Serialize;
use sha2::Digest as _;
use utoipa::ToSchema;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, Trap};

use self::bindings::{MapperPre, TicketContext as WitTicket};
use self::engine::EpochTicker;
use self::limits::PluginLimits;
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
    slots: tokio::sync::Semaphore,
    compile_gate: tokio::sync::Semaphore,
    cache: std::sync::Mutex<LoadedCache>,
    _ticker: EpochTicker,
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
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| host_err("linking WASI", e))?;
        let ticker = EpochTicker::start(&engine, Duration::from_millis(config.epoch_tick_ms))
            .map_err(|e| UploadError::Host(format!("starting the epoch ticker: {e}")))?;
        let fingerprint = engine::fingerprint(&engine);
        Ok(Self {
            inner: Arc::new(Inner {
                engine,
                linker,
                config: config.clone(),
                key,
                fingerprint,
                slots: tokio::sync::Semaphore::new(config.max_concurrent_calls as usize),
                compile_gate: tokio::sync::Semaphore::new(1),
                cache: std::sync::Mutex::new(LoadedCache::default()),
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

    /// Runs one mapping call in a fresh instance, within `limits`. Never blocks an async worker thread.
    pub async fn call(
        &self,
        plugin: &Loaded,
        limits: PluginLimits,
        input: &Sample,
    ) -> Result<Vec<FieldWrite>, CallFailure> {
        let started = Instant::now();
        let result = self.call_inner(plugin, limits, input).await;
        let outcome = match &result {
            Ok(_) => "ok",
            Err(f) => f.outcome(),
        };
        metrics::counter!("mlc_plugin_calls_total", "outcome" => outcome).increment(1);
        metrics::histogram!("mlc_plugin_call_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        result
    }

    async fn call_inner(
        &self,
        plugin: &Loaded,
        limits: PluginLimits,
        input: &Sample,
    ) -> Result<Vec<FieldWrite>, CallFailure> {
        let size = serde_json::to_vec(input)
            .map(|v| v.len())
            .unwrap_or(usize::MAX);
        if size > limits.max_input_bytes {
            return Err(CallFailure::InputTooLarge(size));
        }
        let _slot = self
            .inner
            .slots
            .acquire()
            .await
            .map_err(|_| CallFailure::Unavailable("the plugin host is shutting down".into()))?;
        let host = self.clone();
        let plugin = plugin.clone();
        let input = input.clone();
        tokio::task::spawn_blocking(move || host.call_blocking(&plugin, limits, &input))
            .await
            .map_err(|e| CallFailure::Unavailable(format!("the call task failed: {e}")))?
    }

    /// One call on the current thread (CLI, benches). Does not take a concurrency slot or count metrics.
    pub fn call_blocking(
        &self,
        plugin: &Loaded,
        limits: PluginLimits,
        input: &Sample,
    ) -> Result<Vec<FieldWrite>, CallFailure> {
        let mut store = Store::new(&self.inner.engine, Sandbox::new(limits.memory_limit_bytes));
        store.limiter(|s| &mut s.limiter);
        let tick = self.inner.config.epoch_tick_ms.max(1);
        // Fires between `deadline` and `deadline + tick` after this point.
        store.set_epoch_deadline(limits.deadline_ms.div_ceil(tick) + 1);
        store.epoch_deadline_trap();
        let outcome = plugin
            .pre
            .instantiate(&mut store)
            .and_then(|mapper| match input {
                Sample::Supplier { supplier } => {
                    mapper.call_map_supplier(&mut store, &supplier.into())
                }
                Sample::Invoice { invoice, ticket } => {
                    let ticket: WitTicket = ticket.into();
                    mapper.call_map_invoice(&mut store, &invoice.into(), &ticket)
                }
            });
        let writes = match outcome {
            Ok(Ok(writes)) => writes,
            Ok(Err(reason)) => return Err(CallFailure::Error(truncate(&reason, 1000))),
            Err(e) => return Err(classify(&e, &store, limits)),
        };
        if writes.len() > limits.max_writes {
            return Err(CallFailure::InvalidOutput(format!(
                "{} writes returned; the limit is {}",
                writes.len(),
                limits.max_writes
            )));
        }
        let writes: Vec<FieldWrite> = writes.into_iter().map(FieldWrite::from).collect();
        let bytes: usize = writes.iter().map(FieldWrite::text_bytes).sum();
        if bytes > limits.max_output_bytes {
            return Err(CallFailure::InvalidOutput(format!(
                "{bytes} bytes of text returned; the limit is {}",
                limits.max_output_bytes
            )));
        }
        Ok(writes)
    }

    /// Instantiates without calling (benchmarks: the per-call floor).
    pub fn instantiate_only(
        &self,
        plugin: &Loaded,
        limits: PluginLimits,
    ) -> Result<(), CallFailure> {
        let mut store = Store::new(&self.inner.engine, Sandbox::new(limits.memory_limit_bytes));
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(
            limits
                .deadline_ms
                .div_ceil(self.inner.config.epoch_tick_ms.max(1))
                + 1,
        );
        store.epoch_deadline_trap();
        plugin
            .pre
            .instantiate(&mut store)
            .map(|_| ())
            .map_err(|e| classify(&e, &store, limits))
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

fn classify(err: &wasmtime::Error, store: &Store<Sandbox>, limits: PluginLimits) -> CallFailure {
    if store.data().limiter.refused() {
        return CallFailure::MemoryLimit(limits.memory_limit_bytes);
    }
    match err.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => CallFailure::Deadline(limits.deadline_ms),
        Some(Trap::StackOverflow) => {
            CallFailure::Trap("call stack exhausted (too deep recursion)".into())
        }
        Some(trap) => CallFailure::Trap(trap.to_string()),
        None => CallFailure::Trap(truncate(&format!("{err:#}"), 1000)),
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
    use base64::Engine as _;
    use hmac::Mac as _;
    use secrecy::ExposeSecret as _;
    let master = vault.master_key().to_base64();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(master.expose_secret().as_bytes())
        .unwrap_or_default();
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(&raw)
        .expect("HMAC takes any key length");
    mac.update(b"ml-connector plugin artifact MAC key v1");
    ArtifactKey::new(mac.finalize().into_bytes().into())
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
}
