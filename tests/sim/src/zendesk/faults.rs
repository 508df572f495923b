//! Fault injection: the next matching request(s) fail in a chosen way.

use std::time::Duration;

/// How a request fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer this status (5xx with a Zendesk-style JSON body) without processing the request.
    Status(u16),
    /// Answer `429` with `Retry-After: secs` and exhausted rate-limit headers, without processing.
    RateLimited {
        /// Seconds in `Retry-After`.
        retry_after_secs: u64,
    },
    /// Answer `429` with this exact `Retry-After` value (e.g. `1e20`, `-1`), or none, and no rate-limit headers,
    /// without processing: for checking that no header value can upset the client.
    RateLimitedRaw {
        /// The raw `Retry-After` value; `None` omits the header.
        retry_after: Option<String>,
    },
    /// Process normally, then set these headers on the answer (e.g. `ratelimit-reset:
    /// 18446744073709551615`).
    Headers(Vec<(String, String)>),
    /// Drop the connection (TCP reset) before processing: nothing happened.
    ResetBeforeProcessing,
    /// Process the request (the write is committed), then drop the connection before answering.
    ResetAfterCommit,
    /// Wait this long, then process normally.
    Delay(Duration),
    /// Process, then answer 200 with a body that is not JSON.
    MalformedBody,
    /// For bulk endpoints: the job is killed after this many items (the rest never run).
    KillJob {
        /// Items processed before the kill.
        after_items: usize,
    },
    /// For bulk endpoints: the job fails after this many items (the rest never run).
    FailJob {
        /// Items processed before the failure.
        after_items: usize,
    },
    /// For bulk endpoints: the job is accepted and runs, but its first `polls` status requests answer 404
    /// (`RecordNotFound`), as a job Zendesk has just queued may not be visible yet.
    JobNotYetVisible {
        /// Status requests answered 404 before the job shows.
        polls: u32,
    },
}

impl FaultKind {
    pub(crate) fn is_job_fault(&self) -> bool {
        matches!(
            self,
            Self::KillJob { .. } | Self::FailJob { .. } | Self::JobNotYetVisible { .. }
        )
    }

    pub(crate) fn label(&self) -> &'static str {
        match self {
            Self::Status(_) => "status",
            Self::RateLimited { .. } => "rate_limited",
            Self::RateLimitedRaw { .. } => "rate_limited_raw",
            Self::Headers(_) => "headers",
            Self::ResetBeforeProcessing => "reset_before_processing",
            Self::ResetAfterCommit => "reset_after_commit",
            Self::Delay(_) => "delay",
            Self::MalformedBody => "malformed_body",
            Self::KillJob { .. } => "kill_job",
            Self::FailJob { .. } => "fail_job",
            Self::JobNotYetVisible { .. } => "job_not_yet_visible",
        }
    }
}

/// A fault armed for the next `times` requests matching `method` and `path`.
#[derive(Debug, Clone)]
pub struct Fault {
    /// HTTP method to match (any when `None`).
    pub method: Option<String>,
    /// Path to match exactly (`/api/v2/organizations`), or a prefix ending in `*` (`/api/v2/*`); empty: any.
    pub path: String,
    /// What happens.
    pub kind: FaultKind,
    /// How many matching requests it applies to.
    pub times: usize,
}

impl Fault {
    /// A fault for the next request of any kind.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            method: None,
            path: String::new(),
            kind,
            times: 1,
        }
    }

    /// Only requests with this method and path (`*` at the end: a prefix).
    pub fn on(mut self, method: &str, path: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self.path = path.to_string();
        self
    }

    /// Applies to this many matching requests.
    pub fn times(mut self, n: usize) -> Self {
        self.times = n;
        self
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        let path_ok = if self.path.is_empty() {
            true
        } else if let Some(prefix) = self.path.strip_suffix('*') {
            path.starts_with(prefix)
        } else {
            path == self.path
        };
        method_ok && path_ok
    }
}

/// Takes the first armed fault matching the request (job faults are taken separately, when a job starts).
pub(crate) fn take(
    faults: &mut Vec<Fault>,
    method: &str,
    path: &str,
    jobs: bool,
) -> Option<FaultKind> {
    let pos = faults
        .iter()
        .position(|f| f.times > 0 && f.kind.is_job_fault() == jobs && f.matches(method, path))?;
    let kind = faults[pos].kind.clone();
    faults[pos].times -= 1;
    if faults[pos].times == 0 {
        faults.remove(pos);
    }
    Some(kind)
}

/// Faults drawn at random for requests no armed fault matches ([`super::ZendeskSim::set_random_faults`]).
#[derive(Debug)]
pub(crate) struct RandomFaults {
    rate: f64,
    state: u64,
}

impl RandomFaults {
    pub(crate) fn new(rate: f64, seed: u64) -> Self {
        Self {
            rate: rate.clamp(0.0, 1.0),
            state: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// xorshift64*: a number in [0, 1).
    fn next(&mut self) -> f64 {
        let mut x = self.state.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The fault for one request, if it is to fail.
    pub(crate) fn draw(&mut self, method: &str, path: &str) -> Option<FaultKind> {
        if !path.starts_with("/api/v2/") || self.next() >= self.rate {
            return None;
        }
        let write = !method.eq_ignore_ascii_case("GET");
        let kinds = if write { 4.0 } else { 3.0 };
        Some(match (self.next() * kinds) as u32 {
            0 => FaultKind::Status(503),
            1 => FaultKind::RateLimited {
                retry_after_secs: 1,
            },
            2 => FaultKind::ResetBeforeProcessing,
            _ => FaultKind::ResetAfterCommit,
        })
    }
}
