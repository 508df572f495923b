//! Bulk jobs (`job_status`): `create_many` / `update_many` answer with a job that runs in the background; the
//! client polls `GET /api/v2/job_statuses/{id}` until it is `completed`, `failed` or `killed`.
//!
//! - A finished job's per-item `results` are read whatever its final status: a `failed` or `killed` job still
//!   reports the items it processed (`{index, error, details}` for a failed create), so callers act on those
//!   and treat only the items without a result as unknown.
//! - A job Zendesk has just accepted may answer `404` on its first polls (not visible yet); that is waited
//!   out, up to [`NOT_YET_VISIBLE_POLLS`] times, before the job is given up as unknown.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::client::{Call, ZendeskClient};
use super::de;
use super::error::ZendeskError;

/// A job's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting to run.
    Queued,
    /// Running.
    Working,
    /// Done; `results` has one entry per item.
    Completed,
    /// Stopped with an error.
    Failed,
    /// Stopped by Zendesk.
    Killed,
    /// Anything else Zendesk may send.
    Other(String),
}

impl JobState {
    fn parse(s: &str) -> Self {
        match s {
            "queued" => Self::Queued,
            "working" => Self::Working,
            "completed" => Self::Completed,
            "failed" => Self::Failed,
            "killed" => Self::Killed,
            other => Self::Other(other.to_string()),
        }
    }

    /// Whether the job will not change any more.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Killed)
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::Working => "working",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Killed => "killed",
            Self::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for JobState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::parse(&String::deserialize(d)?))
    }
}

/// One item's outcome in a finished job.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct JobResult {
    /// The record's id (created or updated).
    #[serde(default, deserialize_with = "de::opt_id")]
    pub id: Option<u64>,
    /// Position of the item in the request.
    #[serde(default)]
    pub index: Option<usize>,
    /// `create`, `update`, ...
    #[serde(default)]
    pub action: Option<String>,
    /// `Created`, `Updated`, `Failed`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// Whether the item succeeded (absent on some result shapes).
    #[serde(default)]
    pub success: Option<bool>,
    /// Error code of a failed item.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub error: Option<String>,
    /// Explanation of a failed item.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub details: Option<String>,
}

impl JobResult {
    /// Whether the item succeeded.
    pub fn succeeded(&self) -> bool {
        match self.success {
            Some(s) => s,
            None => {
                self.error.is_none()
                    && !self
                        .status
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case("failed"))
            }
        }
    }
}

fn results<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<JobResult>, D::Error> {
    // `results` is a list, `null` while running, or (for some job types) an object like {"success": true}.
    match Option::<Value>::deserialize(d)? {
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|i| serde_json::from_value(i).map_err(serde::de::Error::custom))
            .collect(),
        _ => Ok(Vec::new()),
    }
}

/// A `job_status` object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct JobStatus {
    /// Job id.
    pub id: String,
    /// Its API URL.
    #[serde(default)]
    pub url: Option<String>,
    /// `queued`, `working`, `completed`, `failed`, `killed`.
    pub status: JobState,
    /// Items processed.
    #[serde(default)]
    pub progress: Option<u64>,
    /// Items in the job.
    #[serde(default)]
    pub total: Option<u64>,
    /// Message from the job worker.
    #[serde(default, deserialize_with = "de::opt_text")]
    pub message: Option<String>,
    /// Per-item results (when completed).
    #[serde(default, deserialize_with = "results")]
    pub results: Vec<JobResult>,
}

impl JobStatus {
    /// The result of the item at `index` in a bulk *update* of record `id`. Update results are `{id, action,
    /// status, success}` (no `index`), so they are matched by `id`; then by `index` (a failed item may carry
    /// one); then by position, for an entry that has neither.
    pub fn result_for_update(&self, index: usize, id: u64) -> Option<&JobResult> {
        self.results
            .iter()
            .find(|r| r.id == Some(id))
            .or_else(|| self.results.iter().find(|r| r.index == Some(index)))
            .or_else(|| {
                self.results
                    .get(index)
                    .filter(|r| r.id.is_none() && r.index.is_none())
            })
    }

    /// The result of the item at `index` in a bulk *create* (`{id, index}`, or `{index, error, details}`): by
    /// its `index` field, else by position.
    pub fn result_for(&self, index: usize) -> Option<&JobResult> {
        self.results
            .iter()
            .find(|r| r.index == Some(index))
            .or_else(|| {
                self.results
                    .get(index)
                    .filter(|r| r.index.is_none() || r.index == Some(index))
            })
    }
}

/// `404`s tolerated while a just-accepted job is not visible yet (node-zendesk's job monitor waits the same way,
/// five attempts by default), each after `zendesk.job_poll_interval_ms`. A `404` once the job was seen is an
/// error at once.
pub const NOT_YET_VISIBLE_POLLS: u32 = 5;

#[derive(Deserialize)]
struct Envelope {
    job_status: JobStatus,
}

impl ZendeskClient {
    /// `GET /api/v2/job_statuses/{id}`.
    pub async fn job_status(&self, id: &str) -> Result<JobStatus, ZendeskError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(ZendeskError::InvalidInput(format!("job id `{id}`")));
        }
        let env: Envelope = self
            .call_json(Call::get(format!("job_statuses/{id}")))
            .await?;
        Ok(env.job_status)
    }

    /// Polls `job` every `zendesk.job_poll_interval_ms` until it is final. A `failed` or `killed` job is
    /// returned as it is, with the results of the items it processed; more than `zendesk.job_poll_limit` polls
    /// is `JobTimeout`. While no poll has found the job yet, a `404` means "not visible yet" and is polled
    /// again, up to [`NOT_YET_VISIBLE_POLLS`] times (then `JobTimeout` with the status `not visible`).
    pub async fn wait_for_job(&self, job: JobStatus) -> Result<JobStatus, ZendeskError> {
        let interval = Duration::from_millis(self.config().job_poll_interval_ms);
        let limit = self.config().job_poll_limit;
        let mut current = job;
        let mut polls = 0;
        let mut seen = false;
        let mut not_found = 0;
        while !current.status.is_final() {
            if polls >= limit {
                return Err(ZendeskError::JobTimeout {
                    id: current.id,
                    status: current.status.as_str().to_string(),
                    polls,
                });
            }
            tokio::time::sleep(interval).await;
            polls += 1;
            match self.job_status(&current.id).await {
                Ok(job) => {
                    seen = true;
                    current = job;
                }
                Err(ZendeskError::NotFound { .. }) if !seen => {
                    not_found += 1;
                    if not_found > NOT_YET_VISIBLE_POLLS {
                        return Err(ZendeskError::JobTimeout {
                            id: current.id,
                            status: "not visible".into(),
                            polls,
                        });
                    }
                    tracing::debug!(job = %current.id, not_found, "job not visible yet; polling again");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(current)
    }

    /// Submits a bulk call (`create_many`, `update_many`) and waits for its job to be final. The answer is
    /// decoded under the retry policy: an unreadable answer to an idempotent call (PUT) is sent again, while
    /// a create (POST) whose answer was lost is not — its error is ambiguous and the caller reconciles.
    pub(crate) async fn submit_job(&self, call: Call) -> Result<JobStatus, ZendeskError> {
        let env: Envelope = self.call_json(call).await?;
        self.wait_for_job(env.job_status).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_documented_shapes() {
        let done: JobStatus = serde_json::from_value(serde_json::json!({
            "id": "8b726e606741012ffc2d782bcb7848fe",
            "url": "https://acme.zendesk.com/api/v2/job_statuses/8b726e606741012ffc2d782bcb7848fe.json",
            "job_type": "bulk_create_organizations",
            "status": "completed",
            "total": 2,
            "progress": 2,
            "message": "Completed at 2024-01-01 00:00:00 +0000",
            "results": [
                {"id": 244, "index": 0, "action": "create", "success": true, "status": "Created"},
                {"index": 1, "error": "DuplicateValue", "details": "Name: has already been taken", "status": "Failed"}
            ]
        }))
        .unwrap();
        assert_eq!(done.status, JobState::Completed);
        assert!(done.result_for(0).unwrap().succeeded());
        let failed = done.result_for(1).unwrap();
        assert!(!failed.succeeded());
        assert_eq!(
            failed.details.as_deref(),
            Some("Name: has already been taken")
        );

        let running: JobStatus = serde_json::from_value(serde_json::json!({
            "id": "x1", "status": "working", "results": null, "progress": null, "total": 3
        }))
        .unwrap();
        assert!(!running.status.is_final());
        assert!(running.results.is_empty());

        // The shapes of Zendesk's OpenAPI document: create results `{id, index}`, update results
        // `{action, id, status, success}` (no index).
        let created: JobStatus = serde_json::from_value(serde_json::json!({
            "id": "c1", "status": "completed", "total": 2, "progress": 2,
            "results": [{"id": 244, "index": 0}, {"index": 1, "error": "DuplicateValue",
                "details": "Name: Acme has already been taken"}]
        }))
        .unwrap();
        assert_eq!(created.result_for(0).unwrap().id, Some(244));
        assert!(created.result_for(0).unwrap().succeeded());
        assert!(!created.result_for(1).unwrap().succeeded());
        let updated: JobStatus = serde_json::from_value(serde_json::json!({
            "id": "u1", "status": "completed", "total": 3, "progress": 3,
            "results": [
                {"id": 302, "action": "update", "status": "Updated", "success": true},
                {"id": 301, "action": "update", "status": "Failed", "success": false,
                    "error": "DuplicateValue", "details": "Name: Acme has already been taken"},
                {"id": 303, "action": "update", "status": "Updated", "success": true}
            ]
        }))
        .unwrap();
        // Matched by id whatever the order.
        assert!(!updated.result_for_update(0, 301).unwrap().succeeded());
        assert!(updated.result_for_update(1, 302).unwrap().succeeded());
        assert_eq!(updated.result_for_update(2, 303).unwrap().id, Some(303));
        assert!(updated.result_for_update(3, 999).is_none());

        let odd: JobStatus = serde_json::from_value(serde_json::json!({
            "id": "x2", "status": "completed", "results": {"success": true}
        }))
        .unwrap();
        assert!(odd.results.is_empty());
    }
}
