//! Bulk jobs: queued, then working through their items a few per tick, then completed (or killed / failed).
//!
//! A finished job carries its per-item `results` whatever its final status: a job that ended `failed` or
//! `killed` still reports the items it processed (Zendesk does so: e.g. a `failed` bulk create answering
//! `{"index": 0, "error": "TicketCreateFailed", "details": "Description: cannot be blank"}`, as reported in
//! cloudbees-oss/zendesk-java-client#98), so clients can tell the items done from those never run.

use std::time::Instant;

use serde_json::{Value, json};

use super::{Job, JobKind, JobState, TicketChange, World, ZdError, id_of};

impl World {
    pub fn job_json(&self, job: &Job) -> Value {
        json!({
            "id": job.id,
            "url": format!("{}/api/v2/job_statuses/{}.json", self.base_url, job.id),
            "job_type": job.kind.job_type(),
            "total": job.items.len(),
            "progress": job.progress,
            "status": job.state.as_str(),
            "message": job.message,
            "results": if job.state.is_done() { Value::Array(job.results.clone()) } else { Value::Null },
        })
    }

    pub fn active_jobs(&self) -> usize {
        self.jobs.values().filter(|j| !j.state.is_done()).count()
    }

    pub fn enqueue_job(
        &mut self,
        kind: JobKind,
        items: Vec<Value>,
        stop_after: Option<(usize, JobState)>,
        actor_id: Option<u64>,
    ) -> String {
        self.job_seq += 1;
        let id = format!("{:016x}{:016x}", self.job_seq, rand::random::<u64>());
        self.jobs.insert(
            id.clone(),
            Job {
                id: id.clone(),
                kind,
                items,
                created: Instant::now(),
                state: JobState::Queued,
                progress: 0,
                results: Vec::new(),
                message: None,
                stop_after,
                hidden_polls: 0,
                actor_id,
            },
        );
        id
    }

    /// Advances every job: a job waits `start_delay` in `queued`, then processes up to `per_step` items per call.
    /// Returns the ticket changes that bulk ticket updates made (they send webhooks).
    pub fn step_jobs(
        &mut self,
        start_delay: std::time::Duration,
        per_step: usize,
    ) -> Vec<TicketChange> {
        let mut changes = Vec::new();
        let mut ids: Vec<String> = self
            .jobs
            .values()
            .filter(|j| !j.state.is_done() && j.created.elapsed() >= start_delay)
            .map(|j| j.id.clone())
            .collect();
        ids.sort();
        for id in ids {
            let Some(mut job) = self.jobs.remove(&id) else {
                continue;
            };
            job.state = JobState::Working;
            let end = (job.progress + per_step.max(1)).min(job.items.len());
            for index in job.progress..end {
                if let Some((after, state)) = job.stop_after
                    && after == index
                {
                    job.state = state;
                    // A failed job's message reads like a completed one's (`Failed at 2016-01-15
                    // 10:39:18 +0000`); a killed job's wording is not documented.
                    job.message = Some(if state == JobState::Failed {
                        format!(
                            "Failed at {}",
                            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S +0000")
                        )
                    } else {
                        "Job was killed".into()
                    });
                    break;
                }
                let item = job.items[index].clone();
                let result = self.run_job_item(job.kind, index, &item, job.actor_id, &mut changes);
                job.results.push(result);
                job.progress = index + 1;
            }
            if job.state == JobState::Working && job.progress >= job.items.len() {
                job.state = JobState::Completed;
                job.message = Some(format!(
                    "Completed at {}",
                    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S +0000")
                ));
            }
            self.jobs.insert(id, job);
        }
        changes
    }

    /// One item's result, in the shapes of Zendesk's OpenAPI document (`JobStatusResultObject`): a create is
    /// `{id, index}`; an update is `{id, action, status, success}` (no `index`); a failed item carries `error`
    /// and `details` (the one-line message, e.g. `Name: Acme has already been taken`) with the `index` of a
    /// create, or the `id` of an update.
    fn run_job_item(
        &mut self,
        kind: JobKind,
        index: usize,
        item: &Value,
        actor_id: Option<u64>,
        changes: &mut Vec<TicketChange>,
    ) -> Value {
        let updated =
            |id: u64| json!({"id": id, "action": "update", "status": "Updated", "success": true});
        let update_failed = |id: u64, e: ZdError| {
            json!({
                "id": id, "action": "update", "status": "Failed", "success": false,
                "error": e.code, "details": e.summary,
            })
        };
        // An update item without an id cannot be reported by id: its position is all there is.
        let missing_id =
            || json!({"index": index, "error": "InvalidValue", "details": "Id: is missing"});
        match kind {
            JobKind::CreateOrganizations => match self.create_org(item) {
                Ok(id) => json!({"id": id, "index": index}),
                Err(e) => json!({"index": index, "error": e.code, "details": e.summary}),
            },
            JobKind::UpdateOrganizations => {
                let Some(id) = item.get("id").and_then(id_of) else {
                    return missing_id();
                };
                match self.update_org(id, item) {
                    Ok(()) => updated(id),
                    Err(e) => update_failed(id, e),
                }
            }
            JobKind::UpdateTickets => {
                let Some(id) = item.get("id").and_then(id_of) else {
                    return missing_id();
                };
                match self.update_ticket(id, item, actor_id) {
                    Ok(change) => {
                        if !change.events.is_empty() {
                            changes.push(change);
                        }
                        updated(id)
                    }
                    Err(e) => update_failed(id, e),
                }
            }
        }
    }
}
