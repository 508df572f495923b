//! The threads plugin calls run on: a small tokio runtime of the host's own, so that guest code never runs on
//! the server's async workers. Calls are asynchronous and yield at every epoch tick, so a few threads
//! interleave all the calls in flight; a call is a task that is dropped, with its instance, at its deadline.

use tokio::runtime::{Builder, Handle, Runtime};

/// The plugin runtime. Shuts down in the background when dropped (safe inside an async context), which drops
/// every call still in flight.
#[derive(Debug)]
pub struct CallRuntime {
    runtime: Option<Runtime>,
    handle: Handle,
}

impl CallRuntime {
    /// Starts `threads` worker threads named `mlc-plugin`.
    pub fn start(threads: usize) -> std::io::Result<Self> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("mlc-plugin")
            .enable_time()
            .build()?;
        let handle = runtime.handle().clone();
        Ok(Self {
            runtime: Some(runtime),
            handle,
        })
    }

    /// Threads for a host that runs at most `max_calls` calls at once: one per core, no more than calls.
    pub fn threads_for(max_calls: u32) -> usize {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        cores
            .min(usize::try_from(max_calls).unwrap_or(usize::MAX))
            .max(1)
    }

    /// Where calls are spawned.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for CallRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
