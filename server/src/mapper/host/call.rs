//! One plugin call: a fresh `Store` and instance, the call, the output limits, and what went wrong.
//!
//! A call is a future that owns everything it uses — its concurrency permit, its store, and so its pooled
//! instance, memories and fiber stack — and runs under `tokio::time::timeout(deadline)`. The guest yields back to
//! the executor at every epoch tick (`epoch_deadline_async_yield_and_update`), and every WASI host function it
//! may call (a clock subscription + `poll`, say) is asynchronous, so the timeout fires wherever the guest is:
//! spinning in its own code or sleeping in a host call. Dropping the future drops the store, which returns the
//! instance's slots to the pool, and then the permit.

use std::time::Instant;

use tokio::sync::OwnedSemaphorePermit;
use wasmtime::{Engine, PoolConcurrencyLimitError, Store, Trap};

use super::bindings::{
    Invoice as WitInvoice, Mapper, MapperPre, Supplier as WitSupplier, TicketContext as WitTicket,
};
use super::limits::PluginLimits;
use super::sandbox::Sandbox;
use super::{CallFailure, truncate};
use crate::mapper::input::Sample;
use crate::mapper::write::FieldWrite;

/// What a call does once it has its instance.
#[derive(Debug)]
pub enum Work {
    /// Call the export that matches this record.
    Map(Box<WitInput>),
    /// Stop after instantiating (benchmarks: the per-call floor).
    InstantiateOnly,
}

/// A record in the types of the `mapper` world, converted once per call and moved into the job.
// Like `Sample`, whose shape it has; it travels boxed in `Work::Map`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum WitInput {
    /// For `map-supplier`.
    Supplier(WitSupplier),
    /// For `map-invoice`.
    Invoice(WitInvoice, WitTicket),
}

impl From<&Sample> for WitInput {
    fn from(sample: &Sample) -> Self {
        match sample {
            Sample::Supplier { supplier } => Self::Supplier(supplier.into()),
            Sample::Invoice { invoice, ticket } => Self::Invoice(invoice.into(), ticket.into()),
        }
    }
}

/// A call, ready to be spawned on the plugin runtime.
pub struct Job {
    /// The engine the plugin was compiled for.
    pub engine: Engine,
    /// The plugin's pre-instance.
    pub pre: MapperPre<Sandbox>,
    /// Its limits.
    pub limits: PluginLimits,
    /// The concurrency slot, released when the job (and so its store) is gone.
    pub permit: OwnedSemaphorePermit,
    /// What to do.
    pub work: Work,
}

impl Job {
    /// Runs the call to its end or its deadline, counts the outcome and frees the instance and then the slot.
    pub async fn run(self) -> Result<Vec<FieldWrite>, CallFailure> {
        let started = Instant::now();
        let limits = self.limits;
        // The timeout future, which owns the store, is dropped at the end of this statement.
        let result = tokio::time::timeout(
            limits.deadline(),
            execute(&self.engine, &self.pre, limits, &self.work),
        )
        .await
        .unwrap_or(Err(CallFailure::Deadline(limits.deadline_ms)));
        drop(self.permit);
        if let Work::Map(_) = self.work {
            record(&result, started);
        }
        result
    }
}

/// Counts a finished call in `mlc_plugin_calls_total{outcome}` and times it.
pub fn record(result: &Result<Vec<FieldWrite>, CallFailure>, started: Instant) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(f) => f.outcome(),
    };
    metrics::counter!("mlc_plugin_calls_total", "outcome" => outcome).increment(1);
    metrics::histogram!("mlc_plugin_call_duration_seconds").record(started.elapsed().as_secs_f64());
}

async fn execute(
    engine: &Engine,
    pre: &MapperPre<Sandbox>,
    limits: PluginLimits,
    work: &Work,
) -> Result<Vec<FieldWrite>, CallFailure> {
    let mut store = Store::new(engine, Sandbox::new(limits.memory_limit_bytes));
    store.limiter(|s| &mut s.limiter);
    // Yield to the executor at every tick (the deadline is the timeout around this future).
    store.set_epoch_deadline(1);
    store.epoch_deadline_async_yield_and_update(1);
    let mapper = match pre.instantiate_async(&mut store).await {
        Ok(mapper) => mapper,
        Err(e) => return Err(classify(&e, &store, limits)),
    };
    let Work::Map(input) = work else {
        return Ok(Vec::new());
    };
    let writes = match call(&mapper, &mut store, input).await {
        Ok(Ok(writes)) => writes,
        Ok(Err(reason)) => return Err(CallFailure::Error(truncate(&reason, 1000))),
        Err(e) => return Err(classify(&e, &store, limits)),
    };
    check_output(writes, limits)
}

async fn call(
    mapper: &Mapper,
    store: &mut Store<Sandbox>,
    input: &WitInput,
) -> wasmtime::Result<Result<Vec<super::bindings::FieldWrite>, String>> {
    match input {
        WitInput::Supplier(supplier) => mapper.call_map_supplier(store, supplier).await,
        WitInput::Invoice(invoice, ticket) => mapper.call_map_invoice(store, invoice, ticket).await,
    }
}

fn check_output(
    writes: Vec<super::bindings::FieldWrite>,
    limits: PluginLimits,
) -> Result<Vec<FieldWrite>, CallFailure> {
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

fn classify(err: &wasmtime::Error, store: &Store<Sandbox>, limits: PluginLimits) -> CallFailure {
    if store.data().limiter.refused() {
        return CallFailure::MemoryLimit(limits.memory_limit_bytes);
    }
    if let Some(full) = err.downcast_ref::<PoolConcurrencyLimitError>() {
        return CallFailure::Busy(full.to_string());
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
